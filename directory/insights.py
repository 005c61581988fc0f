"""Anonymous counts of what people ask Relais, and their publication with small-count suppression (issue 17).

What is kept: one counter per (ISO week, dimension, value). Every chat turn
counts once in each of the chat dimensions (`CHAT`): the situation (the
intent the bot understood), the conversation's language, the municipality
when the person searched near a place, the hour band and what a search did
not find; a turn without a value counts under `NONE`, so every chat table
adds up to the same number of turns. A staff search counts once in
`staff` (found something or not). Each dimension is counted on its own: no
row says "this situation, in this language, in this municipality, at this
hour", so the store holds no record of a conversation, only tallies that
grow. No text, no session, no time finer than the week and the hour band
(separate counters), no place finer than the municipality. The counters are
a table of the curation database (RELAIS_CURATION_DB), which nothing rebuilds.

What is published (`publish`): for one dimension, a table of weeks ×
categories with each week's total, for completed weeks only (a week is
complete an hour after it ends, `GRACE`). The categories are fixed lists
(every situation the bot knows, every language, every municipality, then
`OTHER` for a code no longer listed), so a category's row never appears
because someone asked. A count under `THRESHOLD` (zero included: a zero
that becomes "fewer than 10" would give away the one conversation that
came) is suppressed; then, in every week, if exactly one figure of a
"cells add up to the total" relation is suppressed, the next smallest is
suppressed too (secondary suppression), so no suppressed figure can be
found by subtracting the others from the total. A week's table is frozen
the first time it is published (table `published`): a later change of the
category lists (a new intent) cannot change its suppression pattern and
let two versions of the same week be subtracted. No cell of one table is
by construction equal to a cell of another (a turn the bot did not
understand is the situation `nlu_fallback`, not also a "found nothing"
flag; staff searches are their own table), no total over several weeks and
no cross-table (situation by language) is published: each would add a
relation that could undo the suppression. Rounding to base 5 was not
chosen: with suppression under 10 it would blur every figure coordinators
read and still not stop differencing.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Mapping, Optional, Union
from zoneinfo import ZoneInfo

from directory.perthread import PerThread

THRESHOLD = 10
CHAT = ("situation", "language", "area", "band", "nothing")  # every chat turn counts once in each
DIMENSIONS = (*CHAT, "staff")
BANDS = ("00-06", "06-12", "12-18", "18-24")  # local hours, Europe/Brussels
NOTHING = ("place_unknown", "outside_brussels", "nothing_near")
STAFF = ("found", "no_result")
NONE = "none"  # a chat turn without a value in a dimension (no place searched, nothing missing)
OTHER = "other"  # a value no longer in its category list (an intent since removed) is published under this
GRACE = timedelta(hours=1)  # a week is published an hour after it ends: a turn counted late still gets in
TIMEZONE = ZoneInfo("Europe/Brussels")
VALUE = re.compile(r"[a-z0-9_-]{1,40}")  # codes: an intent, a language, a NIS code, a band
WEEK = re.compile(r"[0-9]{4}-W[0-9]{2}")
TOTAL = "*total"  # a week's total among its frozen figures (no code can be this: VALUE has no "*")

SCHEMA = """
CREATE TABLE IF NOT EXISTS counts (
  week TEXT NOT NULL, dimension TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (week, dimension, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS published (
  week TEXT NOT NULL, dimension TEXT NOT NULL, category TEXT NOT NULL, n INTEGER,
  PRIMARY KEY (week, dimension, category)) WITHOUT ROWID;
"""


class InsightsError(ValueError):
    """A request for a table that cannot be made (an unknown dimension, a week not written as one, or a
    week that has not ended)."""


def code(value: object) -> Optional[str]:
    """`value` when it is a plain code (VALUE), else None: nothing else is ever counted."""
    return value if isinstance(value, str) and VALUE.fullmatch(value) else None


@dataclass(frozen=True)
class Turn:
    """What one chat turn counts: values from fixed vocabularies, never text."""

    situation: Optional[str] = None
    language: Optional[str] = None
    area: Optional[str] = None  # a municipality's NIS code
    nothing: Optional[str] = None

    def values(self, at: datetime) -> dict[str, str]:
        """{dimension: value} for every chat dimension; NONE where the turn has no code."""
        raw = {"situation": self.situation, "language": self.language, "area": self.area, "nothing": self.nothing}
        return {**{k: code(v) or NONE for k, v in raw.items()}, "band": band_of(at)}


@dataclass(frozen=True)
class StaffSearch:
    """One search on the staff page: whether it found anything."""

    found: bool

    def values(self, at: datetime) -> dict[str, str]:
        return {"staff": STAFF[0] if self.found else STAFF[1]}


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
    """The current time (UTC); the one clock of this module."""
    return datetime.now(timezone.utc)


def is_complete(week: str, at: Optional[datetime] = None) -> bool:
    """Whether `week` ended at least GRACE before `at` (now): only complete weeks are published.

    >>> is_complete("2026-W48", datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc))  # Monday 00:30
    False
    >>> is_complete("2026-W48", datetime(2026, 11, 30, 0, 30, tzinfo=timezone.utc))
    True
    """
    return week < week_of((at or now()) - GRACE)


class Counts:
    """The counters and the frozen published weeks, in the curation database (one connection per thread)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._conns = PerThread(self._connect)
        self._conn().executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for a count (it stays the file's mode)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _conn(self) -> sqlite3.Connection:
        return self._conns.get()

    def add(self, item: Union[Turn, StaffSearch], at: Optional[datetime] = None) -> None:
        """Count one chat turn or staff search: one increment per dimension, in one transaction."""
        at = at or now()
        week = week_of(at)
        conn = self._conn()
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO counts (week, dimension, value, n) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (week, dimension, value) DO UPDATE SET n = n + 1",
                [(week, dim, value) for dim, value in item.values(at).items()])

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

    def frozen(self, dimension: str, week: str) -> Optional[dict[str, Optional[int]]]:
        """The figures `week` was first published with ({category: figure}, TOTAL included), or None."""
        rows = self._conn().execute("SELECT category, n FROM published WHERE dimension = ? AND week = ?",
                                    (dimension, week)).fetchall()
        return {category: n for category, n in rows} or None

    def freeze(self, dimension: str, week: str, figures: Mapping[str, Optional[int]]) -> dict[str, Optional[int]]:
        """Keep `figures` as `week`'s published figures unless another request froze them first; returns
        the figures that stand."""
        conn = self._conn()
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT OR IGNORE INTO published (week, dimension, category, n) VALUES (?, ?, ?, ?)",
                             [(week, dimension, c, n) for c, n in figures.items()])
        return self.frozen(dimension, week) or dict(figures)

    def close(self) -> None:
        """Close every thread's connection."""
        self._conns.close()


@dataclass
class Table:
    """One dimension's published figures: None is a suppressed figure (under 10, or hidden with one)."""

    dimension: str
    weeks: list[str]
    categories: list[str]
    cells: dict[tuple[str, str], Optional[int]] = field(default_factory=dict)
    totals: dict[str, Optional[int]] = field(default_factory=dict)

    def cell(self, week: str, category: str) -> Optional[int]:
        return self.cells.get((week, category))

    def rows(self) -> list[dict]:
        """One row per week and category, then each week's total (category "total")."""
        out = []
        for week in self.weeks:
            for category in self.categories:
                out.append({"week": week, "dimension": self.dimension, "category": category,
                            "count": self.cell(week, category)})
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
    >>> suppress_week({"a": 3}, ["a"])
    ({'a': None}, None)
    """
    true = {c: counts.get(c, 0) for c in categories}
    total = sum(true.values())
    hidden = {c for c, n in true.items() if n < threshold}
    total_hidden = total < threshold
    while len(hidden) + total_hidden == 1:
        if len(hidden) == len(categories):  # one category: it is its total
            total_hidden = True
        else:  # one figure alone would be the total minus the others: hide the smallest shown cell with it
            hidden.add(min((c for c in categories if c not in hidden), key=lambda c: (true[c], categories.index(c))))
    return ({c: None if c in hidden else true[c] for c in categories}, None if total_hidden else total)


def suppressed(counts: Counts, dimension: str, categories: list[str], week: str) -> dict[str, Optional[int]]:
    """`week`'s suppressed figures of `dimension` from the counters ({category: figure}, TOTAL included);
    codes outside `categories` count together under OTHER."""
    merged: dict[str, int] = {}
    for value, n in counts.raw(dimension, [week])[week].items():
        key = value if value in categories else OTHER
        merged[key] = merged.get(key, 0) + n
    cells, total = suppress_week(merged, [*categories, *([OTHER] if OTHER in merged and OTHER not in categories
                                                          else [])])
    return {**cells, TOTAL: total}


def publish(counts: Counts, dimension: str, categories: list[str], weeks: list[str],
            at: Optional[datetime] = None) -> Table:
    """The table of `dimension` over complete `weeks`: each week as it was first published (frozen then)."""
    for week in weeks:
        if not WEEK.fullmatch(week):
            raise InsightsError(f"not a week: {week!r}")
        if not is_complete(week, at):
            raise InsightsError(f"week {week} has not ended: its figures are published when it has")
    table = Table(dimension, list(weeks), list(categories))
    for week in weeks:
        figures = counts.frozen(dimension, week) or counts.freeze(
            dimension, week, suppressed(counts, dimension, categories, week))
        table.totals[week] = figures.pop(TOTAL, None)
        table.categories += [c for c in figures if c not in table.categories]  # since dropped from the list
        table.cells.update({(week, c): n for c, n in figures.items()})
    return table


def complete_weeks(weeks: list[str], at: Optional[datetime] = None) -> list[str]:
    """The complete weeks among `weeks`."""
    return [w for w in weeks if is_complete(w, at)]


def recent_weeks(weeks: list[str], until: str, count: int) -> list[str]:
    """The `count` weeks up to `until` among `weeks`, oldest first."""
    return [w for w in weeks if w <= until][-count:]
