"""Anonymous counts for coordinators (issue 17): counting each turn, the dashboard, its downloads, open data.

  GET /admin/insights?week=YYYY-Www          the dashboard: one complete week's figures as plots and tables
  GET /admin/insights.csv?week=YYYY-Www      exactly the figures the dashboard shows, as CSV
  GET /admin/insights/open-data.csv, .json   every complete week, every dimension (the JSON with the data notice)

Every route is under /admin, behind the back office's sign-in (bot/web/admin.py).
Only complete weeks are shown: two views of a running week a minute apart
would show one conversation's situation, language and hour band together.
The counters and the suppression rule are directory/insights.py; what a chat
turn counts is bot/insights.py. `Recorder` counts a turn in a thread of its
own and never delays or fails an answer.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Optional, Union

import yaml
from aiohttp import web

from bot.insights import FALLBACK_INTENT
from bot.web import charts
from bot.web.admin import off_loop, page
from bot.web.downloads import download, spreadsheet_safe
from bot.web.keys import DIRECTORY, SETTINGS
from directory import insights, languages
from directory.insights import BANDS, NONE, NOTHING, OTHER, STAFF, THRESHOLD, Counts, StaffSearch, Table, Turn

log = logging.getLogger("relais.web")
SPAN = 12  # weeks in the dashboard's "by week" plots
BACKLOG = 1000  # counts waiting for the database; beyond, a turn goes uncounted rather than held in memory
NOTICE = (
    "Relais counts, for each ISO week, how many chat turns were about each situation (the intent the bot "
    "understood), in each language, for each municipality a person searched near, in each six-hour band "
    "(Brussels time) and how many searches found nothing; and how many searches on the staff page found "
    "something. Each dimension is counted on its own: no figure crosses two dimensions. No message text, "
    "session, time finer than the week and the six-hour band, or place finer than the municipality is kept.")
RULE = (
    f"Every figure under {THRESHOLD}, zero included, is suppressed (null in JSON, 'suppressed' in CSV). In each "
    "week and dimension, when exactly one figure of the categories and their total would be suppressed, the "
    "next smallest is suppressed too (so a suppressed figure may be 10 or more), so that no suppressed figure "
    "can be found by subtracting the others from the total. The categories are fixed lists, listed whether or "
    "not anyone asked. Only complete weeks are published, each frozen when first published: a week's figures "
    "never change afterwards.")
LABELS = {
    "band": {b: f"{b} h" for b in BANDS},
    "nothing": {"place_unknown": "place not found", "outside_brussels": "place outside Brussels",
                "nothing_near": "nothing near the place", NONE: "(not a search that found nothing)"},
    "staff": {"found": "found something", "no_result": "found nothing"},
}
NONE_LABEL = {"situation": "(not recorded)", "language": "(not recorded)", "area": "(no place searched)"}
MAP_KEY = "The darker a municipality, the more searches near it; hatched: suppressed (under 10, or hidden with one)."
TITLES = {"situation": "Situations", "language": "Languages", "area": "Municipalities searched",
          "band": "Hour bands (Brussels time)", "nothing": "Searches that found nothing",
          "staff": "Staff page searches"}


class Recorder:
    """Counts turns in one thread of its own, so a slow database delays no answer and no sign-in; when
    BACKLOG counts wait, a turn goes uncounted."""

    def __init__(self, counts: Counts):
        self.counts = counts
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="insights")
        self._waiting = 0
        self._lock = threading.Lock()

    def record(self, item: Union[Turn, StaffSearch, None]) -> None:
        """Count `item` later; a failure is logged (its kind only, nothing of the turn), never raised."""
        if item is None:
            return
        with self._lock:
            if self._waiting >= BACKLOG:
                return
            self._waiting += 1
        try:
            self._pool.submit(self._add, item)
        except RuntimeError:  # shutting down
            with self._lock:
                self._waiting -= 1

    def _add(self, item: Union[Turn, StaffSearch]) -> None:
        try:
            self.counts.add(item)
        except Exception as err:
            log.warning("a turn could not be counted: %s", type(err).__name__)
        finally:
            with self._lock:
                self._waiting -= 1

    def close(self) -> None:
        """Finish the waiting counts, then close the database."""
        self._pool.shutdown(wait=True)
        self.counts.close()


RECORDER: web.AppKey = web.AppKey("insights_recorder", Recorder)


@lru_cache(maxsize=1)
def situations() -> tuple[str, ...]:
    """Every intent the bot knows (bot/domain/*.yml) and Rasa's fallback, sorted."""
    found = {FALLBACK_INTENT}
    for path in Path(__file__).resolve().parents[1].joinpath("domain").glob("*.yml"):
        found.update((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents") or [])
    return tuple(sorted(found))


def categories(app: web.Application) -> dict[str, list[str]]:
    """The fixed list of categories of each dimension (every chat table adds up to the turns of its week)."""
    directory = app.get(DIRECTORY)
    areas = [m.nis for m in directory.municipalities()] if directory else []
    return {"situation": [*situations(), NONE, OTHER], "language": [*languages.codes(), NONE, OTHER],
            "area": [*areas, NONE, OTHER], "band": list(BANDS), "nothing": [*NOTHING, NONE], "staff": list(STAFF)}


def labels(app: web.Application) -> dict[str, dict[str, str]]:
    """{dimension: {code: what the dashboard calls it}}."""
    directory = app.get(DIRECTORY)
    areas = {m.nis: f"{m.names['fr']} / {m.names['nl']}" if m.names["fr"] != m.names["nl"] else m.names["fr"]
             for m in directory.municipalities()} if directory else {}
    named = {**LABELS, "area": areas, "situation": {s: s.replace("_", " ") for s in situations()},
             "language": {c: f"{languages.get(c).names.get('en', c)} ({c})" for c in languages.codes()}}
    for dim, label in NONE_LABEL.items():
        named[dim] = {**named[dim], NONE: label, OTHER: "(other, since removed)"}
    return named


def record(app: web.Application, item: Union[Turn, StaffSearch, None]) -> None:
    """Count a chat turn or a staff search, off the event loop; never raises."""
    recorder = app.get(RECORDER)
    if recorder is not None:
        recorder.record(item)


def complete_weeks(app: web.Application) -> list[str]:
    """The complete weeks with counts, oldest first."""
    return insights.complete_weeks(app[RECORDER].counts.weeks())


def chosen_week(request: web.Request, weeks: list[str]) -> Optional[str]:
    """The week asked for (?week=), else the last complete one; None when no week has ended yet."""
    week = request.query.get("week")
    if week is None:
        return weeks[-1] if weeks else None
    if not insights.WEEK.fullmatch(week):
        raise web.HTTPBadRequest(reason="A week is written like 2026-W49.")
    if not insights.is_complete(week):
        raise web.HTTPNotFound(reason="This week has not ended: its figures are shown when it has.")
    return week


def shown(app: web.Application, week: str, weeks: list[str]) -> list[Table]:
    """The tables the dashboard draws for `week`: situations over up to SPAN weeks, every other dimension
    that week."""
    counts, fixed = app[RECORDER].counts, categories(app)
    span = sorted({*insights.recent_weeks(weeks, week, SPAN - 1), week})[-SPAN:]
    return [insights.publish(counts, "situation", fixed["situation"], span),
            *(insights.publish(counts, dim, fixed[dim], [week]) for dim in insights.DIMENSIONS if dim != "situation")]


def published(app: web.Application) -> list[Table]:
    """Every dimension over every complete week: the open data."""
    counts, fixed, weeks = app[RECORDER].counts, categories(app), complete_weeks(app)
    return [insights.publish(counts, dim, fixed[dim], weeks) for dim in insights.DIMENSIONS]


def csv_text(tables: list[Table], names: dict[str, dict[str, str]]) -> str:
    """The tables as one CSV: week, dimension, category, its label, the figure (or 'suppressed')."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("week", "dimension", "category", "label", "count"))
    for table in tables:
        for row in table.rows():
            label = "total" if row["category"] == "total" else names.get(table.dimension, {}).get(row["category"],
                                                                                                  row["category"])
            writer.writerow([spreadsheet_safe(v) for v in (row["week"], row["dimension"], row["category"], label,
                                                           charts.shown(row["count"]))])
    return out.getvalue()


def plots(app: web.Application, tables: list[Table], week: str, names: dict[str, dict[str, str]]) -> list[dict]:
    """The dashboard's plots, each with its title, SVG, caption and the figures as table rows."""
    by_dim = {t.dimension: t for t in tables}
    situation = by_dim["situation"]
    totals = [(w, situation.totals[w]) for w in situation.weeks]
    out = [{"title": "Chat turns by week", "svg": charts.vbars(totals, "Chat turns by week"), "caption": "",
            "rows": [(w, charts.shown(v)) for w, v in totals]}]
    for dim in insights.DIMENSIONS:
        table = by_dim[dim]
        rows = [(names[dim].get(c, c), table.cell(week, c)) for c in table.categories]
        title = f"{TITLES[dim]}, week {week}"
        if dim == "area" and app.get(DIRECTORY):
            svg = charts.choropleth([(names["area"].get(m.nis, m.nis), m.geometry, table.cell(week, m.nis))
                                     for m in app[DIRECTORY].municipalities()], title)
        else:
            svg = charts.hbars(rows, title)
        out.append({"title": title, "svg": svg, "caption": MAP_KEY if dim == "area" else "",
                    "rows": [(n, charts.shown(v)) for n, v in rows] + [("total", charts.shown(table.totals[week]))]})
    return out


def by_week(situation: Table, names: dict[str, str]) -> list[tuple[str, list[str]]]:
    """The situations by week, leaving out those suppressed every week."""
    listed = [c for c in situation.categories if any(situation.cell(w, c) is not None for w in situation.weeks)]
    return [(names.get(c, c), [charts.shown(situation.cell(w, c)) for w in situation.weeks]) for c in listed]


async def dashboard(request: web.Request) -> web.Response:
    """The last complete week's figures (or the week asked for) as plots, each with its table."""
    weeks = await off_loop(complete_weeks, request.app)
    week = chosen_week(request, weeks)
    if week is None:
        return page(request, "admin_insights.html", week=None, weeks=[], plots=[], grid=[], grid_weeks=[],
                    threshold=THRESHOLD, rule=RULE, notice=NOTICE)
    tables, names = await off_loop(shown, request.app, week, weeks), labels(request.app)
    return page(request, "admin_insights.html", week=week, weeks=weeks[::-1],
                plots=plots(request.app, tables, week, names), grid=by_week(tables[0], names["situation"]),
                grid_weeks=tables[0].weeks, threshold=THRESHOLD, rule=RULE, notice=NOTICE)


async def dashboard_csv(request: web.Request) -> web.Response:
    """Exactly the figures of the dashboard for the same week."""
    weeks = await off_loop(complete_weeks, request.app)
    week = chosen_week(request, weeks)
    if week is None:
        raise web.HTTPNotFound(reason="No week has ended since counting began.")
    tables = await off_loop(shown, request.app, week, weeks)
    return download(csv_text(tables, labels(request.app)), f"relais-insights-{week}.csv", "text/csv")


async def open_data_csv(request: web.Request) -> web.Response:
    """Every complete week as CSV (the notice and the rule are in the JSON and on the dashboard)."""
    tables = await off_loop(published, request.app)
    return download(csv_text(tables, labels(request.app)), "relais-weekly-counts.csv", "text/csv")


async def open_data_json(request: web.Request) -> web.Response:
    """Every complete week as JSON, with the data notice and the suppression rule."""
    tables = await off_loop(published, request.app)
    names = labels(request.app)
    body = {"notice": NOTICE, "suppression": RULE, "threshold": THRESHOLD,
            "dimensions": {t.dimension: {"weeks": t.weeks,
                                         "categories": [{"code": c, "label": names[t.dimension].get(c, c)}
                                                        for c in t.categories],
                                         "rows": t.rows()} for t in tables}}
    return download(json.dumps(body, ensure_ascii=False, indent=1), "relais-weekly-counts.json", "application/json")


async def _open(app: web.Application):
    yield
    app[RECORDER].close()


def setup(app: web.Application) -> None:
    """Open the counters (in the curation database) and add the dashboard's routes."""
    app[RECORDER] = Recorder(Counts(app[SETTINGS].curation_db))
    app.cleanup_ctx.append(_open)
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)


ROUTES = (
    ("GET", "/admin/insights", dashboard), ("GET", "/admin/insights.csv", dashboard_csv),
    ("GET", "/admin/insights/open-data.csv", open_data_csv), ("GET", "/admin/insights/open-data.json",
                                                              open_data_json),
)
