"""GET /hsds/...: the directory as a read-only Open Referral HSDS 3.0 API (issue 15).

  GET /hsds/                           the API's HSDS version
  GET /hsds/services                   ?page ?per_page ?search ?modified_after ?taxonomy_term_id
                                       ?taxonomy_id ?organization_id ?lang
  GET /hsds/services/{id}              ?lang
  GET /hsds/organizations              ?page ?per_page ?search ?lang
  GET /hsds/organizations/{id}         ?lang
  GET /hsds/service_at_locations       as /hsds/services
  GET /hsds/service_at_locations/{id}  ?lang
  GET /hsds/taxonomies                 ?page ?per_page ?search
  GET /hsds/taxonomies/{id}
  GET /hsds/taxonomy_terms             ?page ?per_page ?search ?taxonomy_id ?lang
  GET /hsds/taxonomy_terms/{id}        ?lang

The objects are made by directory/hsds.py. Errors are the web server's JSON
errors (400 for a parameter, 404 for an unknown id, 503 without the
directory: bot/web/directory_routes.py's middleware covers these paths too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Optional

from aiohttp import web

from bot.web import params
from bot.web.errors import ApiError, bad_parameter
from bot.web.keys import DIRECTORY
from directory import hsds, languages


def _lang(request: web.Request) -> str:
    return params.choice(request, "lang", languages.codes()) or languages.default()


def _date(request: web.Request, name: str) -> Optional[str]:
    value = params.one(request, name, 40)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        raise bad_parameter(f"`{name}` must be an ISO 8601 date or date-time (YYYY-MM-DD).") from None


def _paging(request: web.Request) -> dict:
    return {"page": params.whole_number(request, "page", 1, 1, 10_000),
            "per_page": params.whole_number(request, "per_page", 50, 1, hsds.MAX_PER_PAGE)}


def _filters(request: web.Request) -> hsds.Filters:
    return hsds.Filters(search=params.one(request, "search"), modified_after=_date(request, "modified_after"),
                        taxonomy_term_id=params.one(request, "taxonomy_term_id", 40),
                        taxonomy_id=params.one(request, "taxonomy_id", 40),
                        organization_id=params.one(request, "organization_id", 40))


def _one(request: web.Request, find: Callable[[str], dict], what: str) -> web.Response:
    try:
        return web.json_response(find(request.match_info["id"]))
    except hsds.NotFound:
        raise ApiError(404, "not_found", f"No {what} has this id.") from None


async def root(request: web.Request) -> web.Response:
    return web.json_response({"version": hsds.VERSION})


async def services(request: web.Request) -> web.Response:
    return web.json_response(hsds.services_page(request.app[DIRECTORY].conn, lang=_lang(request),
                                                filters=_filters(request), **_paging(request)))


async def service(request: web.Request) -> web.Response:
    conn, lang = request.app[DIRECTORY].conn, _lang(request)
    return _one(request, lambda uid: hsds.service_by_id(conn, uid, lang=lang), "service")


async def organizations(request: web.Request) -> web.Response:
    return web.json_response(hsds.organizations_page(request.app[DIRECTORY].conn, lang=_lang(request),
                                                     search=params.one(request, "search"), **_paging(request)))


async def organization(request: web.Request) -> web.Response:
    conn, lang = request.app[DIRECTORY].conn, _lang(request)
    return _one(request, lambda uid: hsds.organization_by_id(conn, uid, lang=lang), "organization")


async def service_at_locations(request: web.Request) -> web.Response:
    return web.json_response(hsds.service_at_locations_page(request.app[DIRECTORY].conn, lang=_lang(request),
                                                            filters=_filters(request), **_paging(request)))


async def service_at_location(request: web.Request) -> web.Response:
    conn, lang = request.app[DIRECTORY].conn, _lang(request)
    return _one(request, lambda uid: hsds.service_at_location_by_id(conn, uid, lang=lang), "service at location")


async def taxonomies(request: web.Request) -> web.Response:
    return web.json_response(hsds.taxonomies_page(search=params.one(request, "search"), **_paging(request)))


async def taxonomy(request: web.Request) -> web.Response:
    return _one(request, hsds.taxonomy_by_id, "taxonomy")


async def taxonomy_terms(request: web.Request) -> web.Response:
    return web.json_response(hsds.terms_page(request.app[DIRECTORY].conn, lang=_lang(request),
                                             search=params.one(request, "search"),
                                             taxonomy_id=params.one(request, "taxonomy_id", 40), **_paging(request)))


async def taxonomy_term(request: web.Request) -> web.Response:
    conn, lang = request.app[DIRECTORY].conn, _lang(request)
    return _one(request, lambda uid: hsds.term_by_id(conn, uid, lang=lang), "taxonomy term")


def setup(app: web.Application) -> None:
    app.router.add_get("/hsds/", root)
    for path, listing, item in (("services", services, service), ("organizations", organizations, organization),
                                ("service_at_locations", service_at_locations, service_at_location),
                                ("taxonomies", taxonomies, taxonomy),
                                ("taxonomy_terms", taxonomy_terms, taxonomy_term)):
        app.router.add_get(f"/hsds/{path}", listing)
        app.router.add_get(f"/hsds/{path}/{{id}}", item)
