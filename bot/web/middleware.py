"""Middleware of every request: errors as JSON with the security headers, and rate limits."""

from __future__ import annotations

import logging
import math
from typing import Optional

from aiohttp import web

from bot import logsafe
from bot.web.errors import FORM_CSP, FORM_PATHS, HTTP_CODES, SECURITY_HEADERS, ApiError, error_response
from bot.web.keys import LIMITERS

log = logging.getLogger("relais.web")


def route_name(request: web.Request) -> str:
    """The route a request matched, for the logs: never the path it asked for."""
    route = request.match_info.route
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else "(no route)"


@web.middleware
async def errors_and_headers(request: web.Request, handler) -> web.StreamResponse:
    """JSON errors on the API, security headers on every response."""
    try:
        response = await handler(request)
    except ApiError as err:
        response = error_response(err.status, err.code, err.message)
    except web.HTTPException as exc:
        if exc.status >= 400:
            response = error_response(exc.status, HTTP_CODES.get(exc.status, "http_error"), exc.reason)
        else:
            response = exc
    except Exception as exc:  # never a traceback to the client
        log.error("unexpected %s on %s", logsafe.describe(exc), route_name(request))
        response = error_response(500, "internal_error", "Something went wrong on our side.")
    response.headers.update(SECURITY_HEADERS)
    if request.path.startswith(FORM_PATHS):
        response.headers["Content-Security-Policy"] = FORM_CSP
        # Our forms then carry their real Origin (with no-referrer browsers send "null"), which /admin checks;
        # nothing is sent to another site either way.
        response.headers["Referrer-Policy"] = "same-origin"
    if request.path.startswith("/api/") or request.path == "/health":
        response.headers["Cache-Control"] = "no-store"
    return response


def limiter_group(request: web.Request) -> Optional[str]:
    if request.path == "/api/chat":
        return "chat"
    if request.path.startswith(("/api/directory/", "/hsds/")):
        return "directory"
    if request.path == "/admin/sign-in" and request.method == "POST":
        return "signin"
    if request.path == "/trainings/propose" and request.method == "POST":
        return "propose"
    return None


@web.middleware
async def rate_limit(request: web.Request, handler) -> web.StreamResponse:
    """429 with Retry-After when a client sends more than its share (bot/ratelimit.py)."""
    group = limiter_group(request)
    if group is not None:
        wait = await request.app[LIMITERS][group].admit(request.remote or "?")
        if wait > 0:
            response = error_response(429, "too_many_requests",
                                      "Too many requests: please wait a moment and try again.")
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
    return await handler(request)
