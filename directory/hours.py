"""Opening hours: "open now" in Europe/Brussels time from structured slots.

A schedule is a list of (weekday, opens, closes) in minutes since midnight,
weekday 0 = Monday. `None` means the hours are unknown: "open now" is then
unknown too, never assumed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Iterable, Optional, Sequence
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
DAYS = ["mo", "tu", "we", "th", "fr", "sa", "su"]


def minutes(hhmm: str) -> int:
    hours, mins = str(hhmm).split(":")
    value = int(hours) * 60 + int(mins)
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"not a time of day: {hhmm!r}")
    return value


def slots_from_entry(entry: dict) -> list[tuple[int, int, int]]:
    """schedules.yml entry -> [(weekday, opens, closes)]."""
    if entry.get("always"):
        return [(day, 0, 24 * 60) for day in range(7)]
    slots: list[tuple[int, int, int]] = []
    for slot in entry.get("slots", []):
        opens, closes = minutes(slot["opens"]), minutes(slot["closes"])
        if closes <= opens:
            raise ValueError(f"slot closes before it opens: {slot}")
        slots.extend((DAYS.index(day), opens, closes) for day in slot["days"])
    return slots


def now_brussels() -> datetime:
    return datetime.now(BRUSSELS)


def is_open(slots: Optional[Iterable[tuple[int, int, int]]], when: Optional[datetime] = None) -> Optional[bool]:
    """True/False when the schedule is known, None when it is not."""
    if slots is None:
        return None
    when = (when or now_brussels()).astimezone(BRUSSELS)
    day, minute = when.weekday(), when.hour * 60 + when.minute
    return any(d == day and opens <= minute < closes for d, opens, closes in slots)


def parse_week(text: str) -> dict:
    """A week's hours as people write them in the back office -> a schedules.yml entry.

    "24/7" is always open; otherwise slots separated by ";", each days then
    times: "mo-fr 09:00-17:00; sa 10:00-12:30" ("mo,we,fr 9:00-12:00" too;
    "24:00" is midnight). Raises ValueError naming what it could not read.
    """
    text = " ".join(text.casefold().split())
    if text in ("24/7", "24h/7", "24 h / 7"):
        return {"always": True}
    slots = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        try:
            days_text, times = part.rsplit(" ", 1)
            opens, closes = times.split("-")
        except ValueError:
            raise ValueError(f"{part!r}: write days then hours, as 'mo-fr 09:00-17:00'") from None
        days: list[str] = []
        for chunk in days_text.replace(" ", "").split(","):
            first, _, last = chunk.partition("-")
            if first not in DAYS or (last and last not in DAYS):
                raise ValueError(f"{chunk!r}: days are {', '.join(DAYS)} (as 'mo-fr' or 'mo,we')")
            days += DAYS[DAYS.index(first):DAYS.index(last or first) + 1] or [first]
        if not all(re.fullmatch(r"\d{1,2}:\d{2}", t) for t in (opens, closes)):
            raise ValueError(f"{times!r}: write hours as HH:MM-HH:MM (09:00-17:00)")
        slots.append({"days": days, "opens": opens, "closes": closes})
    if not slots:
        raise ValueError("no hours: write '24/7' or slots as 'mo-fr 09:00-17:00'")
    entry = {"slots": slots}
    try:
        slots_from_entry(entry)
    except ValueError as err:
        raise ValueError(f"{err}: a slot must open before it closes, within 00:00-24:00") from None
    return entry


def _groups(slots: Iterable[tuple[int, int, int]]) -> list[tuple[list[int], int, int]]:
    """Slots grouped by their times: [(days, opens, closes)], in the order of their first day."""
    by_times: dict[tuple[int, int], list[int]] = {}
    for day, opens, closes in sorted(slots):
        by_times.setdefault((opens, closes), []).append(day)
    return [(days, o, c) for (o, c), days in sorted(by_times.items(), key=lambda item: (item[1][0], item[0]))]


def _is_always(slots: list[tuple[int, int, int]]) -> bool:
    """Whether the slots are every day, all day."""
    return sorted(slots) == [(day, 0, 24 * 60) for day in range(7)]


def _days_text(days: list[int], names: Sequence[str], through: str, joiner: str) -> str:
    """Days as a range ("mo-fr" through `through`, "{first}-{last}") when three or more follow each other,
    else listed with `joiner`."""
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return through.format(first=names[days[0]], last=names[days[-1]])
    return joiner.join(names[d] for d in days)


def _hhmm(value: int) -> str:
    """Minutes after midnight as HH:MM."""
    return f"{value // 60:02d}:{value % 60:02d}"


def format_week(slots: Iterable[tuple[int, int, int]]) -> str:
    """[(weekday, opens, closes)] -> the text `parse_week` reads ("" when none)."""
    slots = list(slots)
    if _is_always(slots):
        return "24/7"
    return "; ".join(f"{_days_text(days, DAYS, '{first}-{last}', ',')} {_hhmm(o)}-{_hhmm(c)}"
                     for days, o, c in _groups(slots))


def describe_week(slots: Iterable[tuple[int, int, int]], lang: str) -> str:
    """[(weekday, opens, closes)] -> the hours in words of `lang` ("" when none), as a timetable reads
    (the words and patterns are the language's, in directory/languages.yml).

    >>> describe_week(slots_from_entry(parse_week("mo-fr 09:00-17:00; sa 10:00-12:30")), "fr")
    'lundi–vendredi 9 h–17 h; samedi 10 h–12 h 30'
    >>> describe_week(slots_from_entry(parse_week("mo-fr 09:00-17:00; sa 10:00-12:30")), "en")
    'Monday–Friday 9:00–17:00; Saturday 10:00–12:30'
    >>> describe_week(slots_from_entry(parse_week("24/7")), "nl")
    '24 uur per dag, 7 dagen per week'
    """
    from directory import languages

    slots = list(slots)
    words = languages.get(lang)
    if _is_always(slots):
        return words.always_open

    def hour(value: int) -> str:
        pattern = words.hour_exact if value % 60 == 0 else words.hour
        return pattern.format(h=value // 60, mm=f"{value % 60:02d}")

    return words.semicolon.join(
        words.day_and_time.format(days=_days_text(days, words.weekdays, words.days_through, words.comma),
                                  times=words.time_span.format(opens=hour(o), closes=hour(c)))
        for days, o, c in _groups(slots))
