"""Opening hours: "open now" in Europe/Brussels time from structured slots.

A schedule is a list of (weekday, opens, closes) in minutes since midnight,
weekday 0 = Monday. `None` means the hours are unknown: "open now" is then
unknown too, never assumed.
"""

from __future__ import annotations

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
