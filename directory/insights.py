"""Anonymous counts of what people ask Relais, and their publication with small-count suppression (issue 17).

What is kept: one counter per (ISO week, dimension, value), for the
dimensions in `DIMENSIONS`: the situation (the intent the bot understood),
the conversation's language, the municipality when the person gave a place,
the hour band, the channel (the chat or the staff lookup) and a "found
nothing" flag. Each is counted on its own: no row says "this situation, in
this language, in this municipality, at this hour", so the store holds no
record of a conversation, only tallies that grow. No text, no session, no
time finer than the week and the hour band (which are separate counters),
no place finer than the municipality. The counters are a table of the
curation database (RELAIS_CURATION_DB), which nothing rebuilds.

What is published (`publish`): for one dimension, a table of weeks ×
categories with each week's total. The categories are a fixed list (every
situation the bot knows, every language, every municipality...), so a
category's row never appears because someone asked. A count under
`THRESHOLD` (zero included: a zero that becomes "fewer than 10" would give
away the one conversation that came) is suppressed; then, in every week,
if exactly one figure of a "cells add up to the total" relation is
suppressed, the next smallest is suppressed too (secondary suppression), so
no suppressed figure can be found by subtracting the others from the total.
No total over several weeks and no cross-table (situation by language) is
published: each would add a relation that could undo the suppression.
Rounding to base 5 was not chosen: with suppression under 10 it would blur
every figure coordinators read and still not stop differencing.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping, Optional
from zoneinfo import ZoneInfo

THRESHOLD = 10
DIMENSIONS = ("situation", "language", "area", "band", "channel", "nothing")
BANDS = ("00-06", "06-12", "12-18", "18-24")  # local hours, Europe/Brussels
CHANNELS = ("chat", "staff")
NOTHING = ("not_understood", "place_unknown", "outside_brussels", "nothing_near", "staff_no_result")
OTHER = "other"  # a value no longer in its category list (an intent since removed) is published under this
TIMEZONE = ZoneInfo("Europe/Brussels")
VALUE = re.compile(r"[a-z0-9_-]{1,40}")  # codes: an intent, a language, a NIS code, a band
WEEK = re.compile(r"[0-9]{4}-W[0-9]{2}")

SCHEMA = """
CREATE TABLE IF NOT EXISTS counts (
  week TEXT NOT NULL, dimension TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (week, dimension, value)) WITHOUT ROWID;
"""


class InsightsError(ValueError):
    """A request for a table that cannot be made (an unknown dimension or week)."""


@dataclass(frozen=True)
class Turn:
    """What one chat turn or staff search counts: values from fixed vocabularies, never text."""

    channel: str
    situation: Optional[str] = None
    language: Optional[str] = None
    area: Optional[str] = None  # a municipality's NIS code
    nothing: Optional[str] = None

    def values(self, at: datetime) -> dict[str, str]:
        """{dimension: value} to count at `at`; values that are not plain codes are dropped."""
        raw = {"situation": self.situation, "language": self.language, "area": self.area,
               "band": band_of(at), "channel": self.channel, "nothing": self.nothing}
        return {k: v for k, v in raw.items() if isinstance(v, str) and VALUE.fullmatch(v)}


def week_of(at: datetime) -> str:
    """The ISO week of `at` in Brussels.

    >>> week_of(datetime(2026, 12, 1, 12, tzinfo=timezone.utc))
    '2026-W49'
    """
    year, week, _ = at.astimezone(TIMEZONE).isocalendar()
    return f"{year}-W{week:02d}"


def band_of(at: datetime) -> str:
    """The six-hour band of `at` in Brussels.

    >>> band_of(datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc))
    '00-06'
    """
    return BANDS[at.astimezone(TIMEZONE).hour // 6]


def now() -> datetime:
    return datetime.now(timezone.utc)


class Counts:
    """The counters, in the curation database (one connection per thread)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._conn().executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def add(self, turn: Turn, at: Optional[datetime] = None) -> None:
        """Count one turn: one increment per dimension it has, in one transaction."""
        at = at or now()
        week = week_of(at)
        conn = self._conn()
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO counts (week, dimension, value, n) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (week, dimension, value) DO UPDATE SET n = n + 1",
                [(week, dim, value) for dim, value in turn.values(at).items()])

    def weeks(self) -> list[str]:
        """Every week with a count, oldest first."""
        return [r[0] for r in self._conn().execute("SELECT DISTINCT week FROM counts ORDER BY week")]

    def raw(self, dimension: str, weeks: Iterable[str]) -> dict[str, dict[str, int]]:
        """{week: {value: count}} before suppression: never shown as such."""
        if dimension not in DIMENSIONS:
            raise InsightsError(f"unknown dimension {dimension!r}")
        found: dict[str, dict[str, int]] = {w: {} for w in weeks}
        marks = ",".join("?" * len(found))
        for week, value, n in self._conn().execute(
                f"SELECT week, value, n FROM counts WHERE dimension = ? AND week IN ({marks})",
                [dimension, *found]):
            found[week][value] = n
        return found

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


@dataclass
class Table:
    """One dimension's published figures: None is a suppressed figure ("fewer than 10" or hidden with one)."""

    dimension: str
    weeks: list[str]
    categories: list[str]
    cells: dict[tuple[str, str], Optional[int]] = field(default_factory=dict)
    totals: dict[str, Optional[int]] = field(default_factory=dict)

    def cell(self, week: str, category: str) -> Optional[int]:
        return self.cells[(week, category)]

    def rows(self) -> list[dict]:
        """One row per week and category, then each week's total (category "total")."""
        out = []
        for week in self.weeks:
            for category in self.categories:
                out.append({"week": week, "dimension": self.dimension, "category": category,
                            "count": self.cells[(week, category)]})
            out.append({"week": week, "dimension": self.dimension, "category": "total", "count": self.totals[week]})
        return out


def suppress_week(counts: Mapping[str, int], categories: list[str],
                  threshold: int = THRESHOLD) -> tuple[dict[str, Optional[int]], Optional[int]]:
    """One week's published cells and total, with primary and secondary suppression.

    >>> suppress_week({"a": 30, "b": 12, "c": 3}, ["a", "b", "c"])
    ({'a': 30, 'b': None, 'c': None}, 45)
    >>> suppress_week({"a": 30, "b": 12, "c": 0}, ["a", "b", "c"])  # a lone zero too: c = 42 - 30 - 12
    ({'a': 30, 'b': None, 'c': None}, 42)
    >>> suppress_week({"a": 30, "b": 12, "c": 10}, ["a", "b", "c"])
    ({'a': 30, 'b': 12, 'c': 10}, 52)
    """
    true = {c: counts.get(c, 0) for c in categories}
    total = sum(true.values())
    hidden = {c for c, n in true.items() if n < threshold}
    total_hidden = total < threshold
    while len(hidden) + total_hidden == 1 and len(hidden) < len(categories):
        # One figure alone would be the total minus the others: hide the smallest shown cell with it.
        hidden.add(min((c for c in categories if c not in hidden), key=lambda c: (true[c], categories.index(c))))
    if len(hidden) == len(categories) and len(categories) == 1:
        total_hidden = True
    return ({c: None if c in hidden else true[c] for c in categories}, None if total_hidden else total)


def publish(counts: Counts, dimension: str, categories: list[str], weeks: list[str]) -> Table:
    """The suppressed table of `dimension` for `weeks`; values outside `categories` count as OTHER."""
    for week in weeks:
        if not WEEK.fullmatch(week):
            raise InsightsError(f"not a week: {week!r}")
    found_weeks = counts.raw(dimension, weeks)
    unlisted = any(value not in categories for found in found_weeks.values() for value in found)
    categories = [*categories, OTHER] if unlisted and OTHER not in categories else list(categories)
    table = Table(dimension, list(weeks), categories)
    for week, found in found_weeks.items():
        merged: dict[str, int] = {}
        for value, n in found.items():
            key = value if value in categories else OTHER
            merged[key] = merged.get(key, 0) + n
        cells, total = suppress_week(merged, categories)
        table.totals[week] = total
        for category, figure in cells.items():
            table.cells[(week, category)] = figure
    return table


def recent_weeks(weeks: list[str], until: str, count: int) -> list[str]:
    """The `count` weeks up to `until` that have counts, oldest first."""
    return [w for w in weeks if w <= until][-count:]
