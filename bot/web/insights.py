"""Anonymous counts for coordinators (issue 17): counting each turn, the dashboard, its downloads, open data.

  GET /admin/insights?week=YYYY-Www          the dashboard: one week's figures as plots and tables
  GET /admin/insights.csv?week=YYYY-Www      exactly the figures the dashboard shows, as CSV
  GET /admin/insights/open-data.csv, .json   every completed week, every dimension, with the data notice

Every route is under /admin, behind the back office's sign-in (bot/web/admin.py).
The counters and the suppression rule are directory/insights.py; what a chat
turn counts is bot/insights.py. `record` counts a turn off the event loop
and never delays or fails an answer.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml
from aiohttp import web

from bot.web import charts
from bot.web.admin import off_loop, page
from bot.web.downloads import download, spreadsheet_safe
from bot.web.keys import DIRECTORY, SETTINGS
from directory import insights, languages
from directory.insights import BANDS, CHANNELS, NOTHING, THRESHOLD, Counts, InsightsError, Table, Turn

log = logging.getLogger("relais.web")
COUNTS: web.AppKey = web.AppKey("insights_counts", Counts)
DOMAIN = Path(__file__).resolve().parents[1] / "domain"
SPAN = 12  # weeks in the dashboard's "by week" plots
NOTICE = (
    "Relais counts, for each ISO week, how many chat turns were about each situation (the intent the bot "
    "understood), in each language, for each municipality a person searched near, in each six-hour band "
    "(Brussels time), on each channel (the chat, the staff lookup), and how many searches found nothing. Each "
    "dimension is counted on its own: no figure crosses two dimensions. No message text, session, time finer "
    "than the week and the six-hour band, or place finer than the municipality is kept.")
RULE = (
    f"Every figure under {THRESHOLD}, zero included, is suppressed (null in JSON, '<{THRESHOLD}' in CSV). In each "
    "week and dimension, when exactly one figure of the categories and their total would be suppressed, the "
    "next smallest is suppressed too, so that no suppressed figure can be found by subtracting the others from "
    "the total. The categories are fixed lists, listed whether or not anyone asked. Only completed weeks are "
    "published, so a week's figures never change after publication.")
LABELS = {
    "band": {b: f"{b} h" for b in BANDS},
    "channel": {"chat": "chat", "staff": "staff lookup"},
    "nothing": {"not_understood": "not understood", "place_unknown": "place not found",
                "outside_brussels": "place outside Brussels", "nothing_near": "nothing near the place",
                "staff_no_result": "staff search without result"},
}
MAP_KEY = "The darker a municipality, the more searches near it; hatched: fewer than 10, or hidden with one."
TITLES = {"situation": "Situations", "language": "Languages", "area": "Municipalities searched",
          "band": "Hour bands (Brussels time)", "channel": "Channels", "nothing": "Searches that found nothing"}


@lru_cache(maxsize=1)
def situations() -> tuple[str, ...]:
    """Every intent the bot knows (bot/domain/*.yml) and Rasa's fallback, sorted."""
    found = {"nlu_fallback"}
    for path in DOMAIN.glob("*.yml"):
        found.update((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents") or [])
    return tuple(sorted(found))


def categories(app: web.Application) -> dict[str, list[str]]:
    """The fixed list of categories of each dimension."""
    directory = app.get(DIRECTORY)
    return {"situation": list(situations()), "language": list(languages.codes()),
            "area": [m.nis for m in directory.municipalities()] if directory else [],
            "band": list(BANDS), "channel": list(CHANNELS), "nothing": list(NOTHING)}


def labels(app: web.Application) -> dict[str, dict[str, str]]:
    directory = app.get(DIRECTORY)
    areas = {m.nis: f"{m.names['fr']} / {m.names['nl']}" if m.names["fr"] != m.names["nl"] else m.names["fr"]
             for m in directory.municipalities()} if directory else {}
    return {**LABELS, "area": areas, "situation": {s: s.replace("_", " ") for s in situations()},
            "language": {c: f"{languages.get(c).names.get('en', c)} ({c})" for c in languages.codes()}}


def record(app: web.Application, turn: Optional[Turn]) -> None:
    """Count `turn` in a worker thread; a failure is logged (without anything of the turn), never raised."""
    counts = app.get(COUNTS)
    if turn is None or counts is None:
        return
    future = asyncio.get_running_loop().run_in_executor(None, counts.add, turn)

    def done(f: asyncio.Future) -> None:
        if not f.cancelled() and f.exception() is not None:
            log.warning("a turn could not be counted: %s", type(f.exception()).__name__)

    future.add_done_callback(done)


def chosen_week(request: web.Request) -> str:
    week = request.query.get("week") or insights.week_of(insights.now())
    if not insights.WEEK.fullmatch(week):
        raise web.HTTPBadRequest(reason="A week is written like 2026-W49.")
    return week


def span(counts: Counts, week: str) -> list[str]:
    """The weeks of the "by week" plots: up to SPAN weeks with counts, ending with `week` (always included)."""
    return sorted({*insights.recent_weeks(counts.weeks(), week, SPAN - 1), week})[-SPAN:]


def shown(app: web.Application, week: str) -> list[Table]:
    """The tables the dashboard draws for `week`: situations over the span, every other dimension that week."""
    counts, fixed = app[COUNTS], categories(app)
    return [insights.publish(counts, "situation", fixed["situation"], span(counts, week)),
            *(insights.publish(counts, dim, fixed[dim], [week]) for dim in insights.DIMENSIONS if dim != "situation")]


def completed(app: web.Application) -> list[Table]:
    """Every dimension over every completed week: the open data."""
    counts, fixed, current = app[COUNTS], categories(app), insights.week_of(insights.now())
    weeks = [w for w in counts.weeks() if w < current]
    return [insights.publish(counts, dim, fixed[dim], weeks) for dim in insights.DIMENSIONS]


def csv_text(tables: list[Table], names: dict[str, dict[str, str]]) -> str:
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


async def dashboard(request: web.Request) -> web.Response:
    week = chosen_week(request)
    try:
        tables = await off_loop(shown, request.app, week)
    except InsightsError:
        raise web.HTTPBadRequest() from None
    names = labels(request.app)
    by_dim = {t.dimension: t for t in tables}
    situation = by_dim["situation"]
    plots = []
    totals = [(w, situation.totals[w]) for w in situation.weeks]
    plots.append({"title": "Chat turns by week", "svg": charts.vbars(totals, "Chat turns by week"), "caption": "",
                  "rows": [(w, charts.shown(v)) for w, v in totals]})
    listed = [c for c in situation.categories if any(situation.cell(w, c) is not None for w in situation.weeks)]
    grid = [(names["situation"].get(c, c), [charts.shown(situation.cell(w, c)) for w in situation.weeks])
            for c in listed]
    for dim in ("situation", "language", "area", "band", "channel", "nothing"):
        table = by_dim[dim]
        rows = [(names[dim].get(c, c), table.cell(week, c)) for c in table.categories]
        title = f"{TITLES[dim]}, week {week}"
        svg = (charts.choropleth([(names["area"].get(m.nis, m.nis), m.geometry, table.cell(week, m.nis))
                                  for m in request.app[DIRECTORY].municipalities()], title)
               if dim == "area" and request.app.get(DIRECTORY) else charts.hbars(rows, title))
        plots.append({"title": title, "svg": svg, "caption": MAP_KEY if dim == "area" else "",
                      "rows": [(n, charts.shown(v)) for n, v in rows] + [("total", charts.shown(table.totals[week]))]})
    weeks = await off_loop(request.app[COUNTS].weeks)
    return page(request, "admin_insights.html", week=week, weeks=weeks[::-1], plots=plots, grid=grid,
                grid_weeks=situation.weeks, threshold=THRESHOLD, rule=RULE, notice=NOTICE)


async def dashboard_csv(request: web.Request) -> web.Response:
    week = chosen_week(request)
    tables = await off_loop(shown, request.app, week)
    return download(csv_text(tables, labels(request.app)), f"relais-insights-{week}.csv", "text/csv")


async def open_data_csv(request: web.Request) -> web.Response:
    tables = await off_loop(completed, request.app)
    header = "".join(f"# {line}\n" for line in (NOTICE, RULE))
    return download(header + csv_text(tables, labels(request.app)), "relais-weekly-counts.csv", "text/csv")


async def open_data_json(request: web.Request) -> web.Response:
    tables = await off_loop(completed, request.app)
    names = labels(request.app)
    body = {"notice": NOTICE, "suppression": RULE, "threshold": THRESHOLD,
            "dimensions": {t.dimension: {"weeks": t.weeks,
                                         "categories": [{"code": c, "label": names[t.dimension].get(c, c)}
                                                        for c in t.categories],
                                         "rows": t.rows()} for t in tables}}
    return download(json.dumps(body, ensure_ascii=False, indent=1), "relais-weekly-counts.json", "application/json")


async def _open(app: web.Application):
    yield
    app[COUNTS].close()


def setup(app: web.Application) -> None:
    """Open the counters (in the curation database) and add the dashboard's routes."""
    app[COUNTS] = Counts(app[SETTINGS].curation_db)
    app.cleanup_ctx.append(_open)
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)


ROUTES = (
    ("GET", "/admin/insights", dashboard), ("GET", "/admin/insights.csv", dashboard_csv),
    ("GET", "/admin/insights/open-data.csv", open_data_csv), ("GET", "/admin/insights/open-data.json",
                                                              open_data_json),
)
