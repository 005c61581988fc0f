"""GET /api/directory/...: the directory's JSON API for the staff lookup page.

  GET /api/directory/search?q=TEXT[&type=service|pharmacy|training][&category=C][&municipality=M]
                            [&language=fr|nl|en][&audience=A][&open_now=1][&place=P][&limit=N]
  GET /api/directory/nearest?(lat=..&lon=..|place=P)[&k=N][&category=C ...][&language=L][&audience=A][&open_now=1]
  GET /api/directory/place?q=TEXT
  GET /api/directory/taxonomy

Every answer is JSON; bad parameters get a 400 (`ApiError`, bot/web/errors.py),
a missing or failing database a 503. Each response says how long the
directory took in a `Server-Timing` header.
Shelters have no address in the directory, so none can be returned.
"""

from __future__ import annotations

import csv
import io
import logging
import sqlite3
import time
from pathlib import Path

from aiohttp import web

from bot import logsafe
from bot.web import insights, params
from bot.web.downloads import download, spreadsheet_safe
from bot.web.errors import ApiError, bad_parameter, error_response
from bot.web.keys import DIRECTORY, GEOCODER
from directory import languages
from directory.facts import Directory
from directory.geocoder import Geocoder, find_place
from directory.insights import StaffSearch
from directory.places import Place
from directory.queries import MAX_K, QueryError

log = logging.getLogger("relais.web.directory")
TYPES = ("service", "pharmacy", "training")
PLACE_ERRORS = {"empty": "Give a place.", "too_long": "The place is too long.",
                "outside_brussels": "This place is outside the Brussels region.",
                "outside_belgium": "This place is outside Belgium.", "unknown": "Unknown place."}


async def _place(request: web.Request, text: str) -> dict:
    place = await find_place(request.app[DIRECTORY], text, None, request.app[GEOCODER])
    if not isinstance(place, Place):
        raise ApiError(400, f"place_{place.reason}", PLACE_ERRORS.get(place.reason, "Unknown place."))
    return {"name": place.name, "lat": place.lat, "lon": place.lon, "precision": place.precision,
            "kind": place.kind, "municipality_nis": place.municipality_nis, "matched": place.matched,
            "source": place.source}


async def search(request: web.Request) -> web.Response:
    found = await _search(request)
    insights.record(request.app, StaffSearch(found=bool(found["count"])))
    return web.json_response(found)


CSV_COLUMNS = ("type", "name", "phone", "address", "postcode", "municipality", "hours", "languages", "distance_m",
               "url", "confidence", "checked", "source")


async def search_csv(request: web.Request) -> web.Response:
    """The same search as a CSV file (the staff page's "CSV" link), in the `language` asked or French."""
    found = await _search(request)
    lang = request.query.get("language") or languages.default()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in found["results"]:
        row = {**{k: r.get(k) for k in CSV_COLUMNS}, "name": languages.pick(r["names"], lang),
               "hours": languages.pick(r.get("hours") or {}, lang), "languages": " ".join(r.get("languages") or [])}
        writer.writerow([spreadsheet_safe(row[k]) for k in CSV_COLUMNS])
    return download(out.getvalue(), "relais-search.csv", "text/csv")


async def _search(request: web.Request) -> dict:
    d = request.app[DIRECTORY]
    try:
        q = params.one(request, "q") or ""
        doc_type = params.choice(request, "type", TYPES)
        category = params.choice(request, "category", d.taxonomy_codes("category"))
        audience = params.choice(request, "audience", d.taxonomy_codes("audience"))
        language = params.choice(request, "language", languages.codes())
        municipality = params.one(request, "municipality", 60)
        open_now = params.flag(request, "open_now")
        limit = params.whole_number(request, "limit", 20, 1, 100)
        place_text = params.one(request, "place")
        place = await _place(request, place_text) if place_text else None
        results = d.search(q, doc_types=[doc_type] if doc_type else [], category=category, municipality=municipality,
                           language=language, audience=audience, open_now=open_now,
                           near=(place["lat"], place["lon"]) if place else None, limit=limit)
        if place:
            results.sort(key=lambda r: r.get("distance_m", 10 ** 9))
    except QueryError as err:
        raise bad_parameter(str(err)) from None
    return {"query": q, "place": place, "count": len(results), "results": results}


async def nearest(request: web.Request) -> web.Response:
    d = request.app[DIRECTORY]
    try:
        lat, lon = params.real_number(request, "lat"), params.real_number(request, "lon")
        place_text = params.one(request, "place")
        if (lat is None) != (lon is None):
            raise bad_parameter("Give both `lat` and `lon`, or `place`.")
        if lat is None and not place_text:
            raise ApiError(400, "missing_parameter", "Give `lat` and `lon`, or `place`.")
        place = await _place(request, place_text or "") if lat is None else None
        categories = request.query.getall("category", [])
        unknown = set(categories) - d.taxonomy_codes("category")
        if unknown:
            raise bad_parameter(f"Unknown categories: {', '.join(sorted(unknown))}.")
        audience = params.choice(request, "audience", d.taxonomy_codes("audience"))
        language = params.choice(request, "language", languages.codes())
        k = params.whole_number(request, "k", 5, 1, MAX_K)
        hits = d.nearest(place["lat"] if place else lat, place["lon"] if place else lon, k, categories=categories,
                         languages=[language] if language else [], audience=audience,
                         open_now=params.flag(request, "open_now"))
    except QueryError as err:
        raise bad_parameter(str(err)) from None
    return web.json_response({"place": place, "count": len(hits), "results": [h.to_dict() for h in hits]})


async def place(request: web.Request) -> web.Response:
    q = params.one(request, "q")
    if not q:
        raise ApiError(400, "missing_parameter", "Give `q`, the place to look up.")
    found = await _place(request, q)
    return web.json_response({"place": found})


async def taxonomy(request: web.Request) -> web.Response:
    out: dict = {}
    for row in request.app[DIRECTORY].taxonomy():
        out.setdefault(row["kind"], {})[row["code"]] = row["labels"]
    return web.json_response(out)


def _opener(db_path: Path):
    async def _open(app: web.Application):
        try:
            app[DIRECTORY] = Directory(db_path)
        except (FileNotFoundError, sqlite3.Error):
            app[DIRECTORY] = None
        yield
        if app[DIRECTORY] is not None:
            app[DIRECTORY].close()

    return _open


def _unavailable() -> web.Response:
    return error_response(503, "directory_unavailable", "The directory is not available right now.")


@web.middleware
async def needs_directory(request: web.Request, handler):
    """503 when the database is missing, unreadable or fails during a query; the directory's time
    in `Server-Timing`."""
    current = request.app.get(DIRECTORY)
    if current is not None and current.replaced():  # a rebuild renamed a new file into place
        try:
            current.reopen()
        except (FileNotFoundError, sqlite3.Error) as err:
            log.warning("directory not reopened: %s", logsafe.describe(err))
    if not request.path.startswith(("/api/directory/", "/hsds/")):
        return await handler(request)
    if request.app.get(DIRECTORY) is None:
        return _unavailable()
    started = time.perf_counter()
    try:
        response = await handler(request)
    except sqlite3.Error as err:
        log.warning("directory query failed: %s", logsafe.describe(err))
        response = _unavailable()
    except ApiError as err:
        response = error_response(err.status, err.code, err.message)
    response.headers["Server-Timing"] = f"directory;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


def setup(app: web.Application, db_path: Path, geocoder: Geocoder) -> None:
    app[GEOCODER] = geocoder
    app.cleanup_ctx.append(_opener(db_path))
    app.middlewares.append(needs_directory)
    app.router.add_get("/api/directory/search", search)
    app.router.add_get("/api/directory/search.csv", search_csv)
    app.router.add_get("/api/directory/nearest", nearest)
    app.router.add_get("/api/directory/place", place)
    app.router.add_get("/api/directory/taxonomy", taxonomy)
