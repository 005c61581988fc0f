"""Opening hours: "open now" in Europe/Brussels time from structured slots.

A schedule is a list of (weekday, opens, closes) in minutes since midnight,
weekday 0 = Monday. `None` means the hours are unknown: "open now" is then
unknown too, never assumed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Iterable, Optional
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


def format_week(slots: Iterable[tuple[int, int, int]]) -> str:
    """[(weekday, opens, closes)] -> the text `parse_week` reads ("" when none)."""
    slots = sorted(slots)
    if slots == [(day, 0, 24 * 60) for day in range(7)]:
        return "24/7"
    by_times: dict[tuple[int, int], list[int]] = {}
    for day, opens, closes in slots:
        by_times.setdefault((opens, closes), []).append(day)

    def days_text(days: list[int]) -> str:
        if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
            return f"{DAYS[days[0]]}-{DAYS[days[-1]]}"
        return ",".join(DAYS[d] for d in days)

    def hhmm(value: int) -> str:
        return f"{value // 60:02d}:{value % 60:02d}"

    return "; ".join(f"{days_text(days)} {hhmm(o)}-{hhmm(c)}"
                     for (o, c), days in sorted(by_times.items(), key=lambda item: (item[1][0], item[0])))
