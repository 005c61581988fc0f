"""The Relais web server (aiohttp): the chat page, its JSON API and health.

Routes:
  GET  /            the chat page (bot/static/)
  GET  /staff       the staff lookup page
  POST /api/chat    {"session", "message", "lang"?, "location"?} -> {"messages", "lang"}
  GET  /health      state of each part of the stack
  GET  /api/directory/...  the directory's JSON API (bot/directory_api.py)

`/api/chat` reads the body whole and validates it (bot/chat_input.py; clear
4xx JSON errors), forwards the message to Rasa's Relais channel
(bot/channel.py, with the per-start token) with the page's language and
location as metadata,
and returns the bot's messages with the conversation's language (read from
the language mark on the bot's answers, see `page_messages`). When Rasa
cannot answer it still returns 200 with `"degraded": true` and the emergency
numbers and helplines; when Rasa answers nothing (a custom action failed, for
example the action server is down) it says the search is unavailable and gives
the same numbers. The API is rate limited per client (bot/ratelimit.py, 429).
It logs no message text (bot/logsafe.py) and keeps no conversation; below
the application, bot/http_guard.py answers HTTP it cannot parse and times out
slow clients.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from pathlib import Path
from typing import Any, Optional

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot import fallback, logsafe
from bot import settings as settings_mod
from bot.chat_input import InvalidInput, clean_text, valid_session
from bot.ratelimit import RateLimiter
from bot.render import LANG_MARK
from bot.settings import Settings
from directory import languages

log = logging.getLogger("relais.web")

STATIC = Path(__file__).with_name("static")
STATIC_NAME = re.compile(r"[a-z0-9_-]{1,40}\.(css|js|png|svg|ico|woff2)")
MAX_BODY = 16 * 1024  # bytes; a chat message is at most chat_input.MAX_MESSAGE characters
BODY_TIMEOUT = 10.0  # seconds to receive a whole chat body
RASA_CHANNEL = "/webhooks/relais/webhook"  # bot/channel.py
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
}
SETTINGS: web.AppKey = web.AppKey("settings", Settings)
HTTP: web.AppKey = web.AppKey("http", ClientSession)
LIMITERS: web.AppKey = web.AppKey("limiters", dict)
STATIC_FILES: web.AppKey = web.AppKey("static_files", frozenset)


class ApiError(Exception):
    """A client error answered as JSON: {"error": {"code", "message"}}."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def errors_and_headers(request: web.Request, handler) -> web.StreamResponse:
    """JSON errors on the API, security headers on every response."""
    try:
        response = await handler(request)
    except ApiError as err:
        response = error_response(err.status, err.code, err.message)
    except web.HTTPException as exc:
        if exc.status >= 400:
            code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status, "http_error")
            response = error_response(exc.status, code, exc.reason)
        else:
            response = exc
    except Exception as exc:  # never a traceback to the client
        log.error("unexpected %s on %s", logsafe.describe(exc), route_name(request))
        response = error_response(500, "internal_error", "Something went wrong on our side.")
    response.headers.update(SECURITY_HEADERS)
    if request.path.startswith("/api/") or request.path == "/health":
        response.headers["Cache-Control"] = "no-store"
    return response


def route_name(request: web.Request) -> str:
    """The route a request matched, for the logs: never the path it asked for."""
    route = request.match_info.route
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else "(no route)"


def limiter_group(request: web.Request) -> Optional[str]:
    if request.path == "/api/chat":
        return "chat"
    if request.path.startswith("/api/directory/"):
        return "directory"
    return None


@web.middleware
async def rate_limit(request: web.Request, handler) -> web.StreamResponse:
    """429 with Retry-After when a client sends more than its share (bot/ratelimit.py)."""
    group = limiter_group(request)
    if group is not None:
        wait = request.app[LIMITERS][group].check(request.remote or "?")
        if wait > 0:
            response = error_response(429, "too_many_requests",
                                      "Too many requests: please wait a moment and try again.")
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
    return await handler(request)


async def read_body(request: web.Request) -> bytes:
    """The whole request body, however many packets it came in, or an ApiError.

    At most MAX_BODY bytes (the app's client_max_size), within BODY_TIMEOUT
    seconds, and not compressed (a chat message is small).
    """
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "body_too_large", f"The request body is larger than {MAX_BODY} bytes.")
    if request.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity"):
        raise ApiError(415, "unsupported_encoding", "Send the request body uncompressed.")
    try:
        return await asyncio.wait_for(request.read(), BODY_TIMEOUT)
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "body_too_large", f"The request body is larger than {MAX_BODY} bytes.") from None
    except asyncio.TimeoutError:
        raise ApiError(408, "body_timeout", "The request body took too long to arrive.") from None
    except (ConnectionError, asyncio.IncompleteReadError, web.HTTPException):
        raise ApiError(400, "incomplete_body", "The request body could not be read.") from None


async def read_json_object(request: web.Request) -> dict:
    """The request body as a JSON object, or an ApiError saying what is wrong."""
    raw = await read_body(request)
    if not raw.strip():
        raise ApiError(400, "empty_body", "The request body is empty; send a JSON object.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_encoding", "The request body is not valid UTF-8.") from None
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return body


def parse_chat(body: dict) -> dict:
    """Validate a chat request (bot/chat_input.py); returns session, message, lang, location."""
    try:
        session = valid_session(body.get("session"))
        message = clean_text(body.get("message"))
    except InvalidInput as err:
        raise ApiError(err.status, err.code, err.message) from None
    lang = body.get("lang")
    if lang is not None and languages.known(lang) is None:
        raise ApiError(400, "invalid_lang", f"`lang` must be one of {', '.join(languages.codes())}.")
    location = body.get("location")
    if location is not None:
        location = parse_location(location)
    return {"session": session, "message": message, "lang": lang, "location": location}


def parse_location(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_location", "`location` must be {\"lat\": number, \"lon\": number}.")
    raw = value.get("lat"), value.get("lon")
    numbers = [v for v in raw if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) != 2:
        raise ApiError(400, "invalid_location", "`location` must be {\"lat\": number, \"lon\": number}.")
    try:
        lat, lon = (float(v) for v in numbers)  # a 400-digit integer is too large for a float
    except OverflowError:
        lat = lon = math.inf
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise ApiError(400, "invalid_location", "`location` is not a point on Earth.")
    return {"lat": lat, "lon": lon}


def to_page_message(rasa_message: dict) -> dict:
    out: dict = {"text": rasa_message.get("text") or ""}
    buttons = rasa_message.get("buttons")
    if buttons:
        out["buttons"] = [{"title": b.get("title", ""), "payload": b.get("payload", "")} for b in buttons]
    if rasa_message.get("custom") is not None:
        out["custom"] = rasa_message["custom"]
    return out


def page_messages(rasa_messages: list) -> tuple[list, Optional[str]]:
    """(messages for the page, the conversation's language).

    Rasa sends a custom payload after its text; it joins the text before it.
    The bot marks each answer with its language (`{"relais": {"lang"}}`, see
    bot/render.py); the mark is read here and not passed on.
    """
    out: list = []
    lang = None
    for message in rasa_messages:
        if not isinstance(message, dict):
            continue
        page = to_page_message(message)
        custom = page.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get(LANG_MARK), dict):
            lang = languages.known(custom[LANG_MARK].get("lang")) or lang
            custom = {k: v for k, v in custom.items() if k != LANG_MARK}
            if custom:
                page["custom"] = custom
            else:
                page.pop("custom")
        if not page["text"] and "custom" in page and out and "custom" not in out[-1]:
            out[-1]["custom"] = page["custom"]
        elif page["text"] or page.get("buttons") or "custom" in page:
            out.append(page)
    return out, lang


async def ask_rasa(app: web.Application, chat: dict) -> Optional[list]:
    """The bot's messages for this chat turn, or None when Rasa cannot answer."""
    cfg = app[SETTINGS]
    metadata = {k: v for k, v in (("language", chat["lang"]), ("location", chat["location"])) if v}
    payload = {"sender": chat["session"], "message": chat["message"], "metadata": metadata}
    try:
        async with app[HTTP].post(
            f"{cfg.rasa_url}{RASA_CHANNEL}", json=payload, timeout=ClientTimeout(total=cfg.rasa_timeout),
            headers={"Authorization": f"Bearer {cfg.rasa_token}"},
        ) as resp:
            if resp.status != 200:
                log.warning("rasa answered HTTP %s", resp.status)
                return None
            messages = await resp.json()
            return messages if isinstance(messages, list) else None
    except (OSError, asyncio.TimeoutError, ValueError, ClientError) as err:
        log.warning("rasa unreachable: %s", type(err).__name__)
        return None


async def conversation_language(app: web.Application, session: str) -> Optional[str]:
    """The conversation's language slot, asked of Rasa (only when an answer had no language mark)."""
    cfg = app[SETTINGS]
    try:
        async with app[HTTP].get(f"{cfg.rasa_url}/conversations/{session}/tracker",
                                 params={"token": cfg.rasa_token, "include_events": "NONE"},
                                 timeout=ClientTimeout(total=2)) as resp:
            if resp.status != 200:
                return None
            lang = ((await resp.json()).get("slots") or {}).get("language")
            return languages.known(lang)
    except (OSError, asyncio.TimeoutError, ValueError, AttributeError, ClientError):
        return None


async def chat(request: web.Request) -> web.Response:
    chat_turn = parse_chat(await read_json_object(request))
    messages = await ask_rasa(request.app, chat_turn)
    if messages is None:
        lang = chat_turn["lang"] or fallback.language_of(chat_turn["message"])
        return web.json_response(
            {"messages": fallback.degraded_messages(lang), "lang": lang or "en", "degraded": True}
        )
    page, lang = page_messages(messages)
    lang = lang or chat_turn["lang"]
    if not page:  # Rasa answered nothing: a custom action failed
        log.warning("rasa sent no messages (an action failed)")
        lang = (lang or await conversation_language(request.app, chat_turn["session"])
                or fallback.language_of(chat_turn["message"]))
        return web.json_response(
            {"messages": fallback.search_unavailable_messages(lang), "lang": lang or "en", "degraded": True}
        )
    return web.json_response({"messages": page, "lang": lang})


async def probe(app: web.Application, url: str, params: Optional[dict] = None) -> str:
    try:
        async with app[HTTP].get(url, params=params, timeout=ClientTimeout(total=2)) as resp:
            return "ok" if resp.status == 200 else f"http {resp.status}"
    except (OSError, asyncio.TimeoutError, ClientError):
        return "down"


def directory_state(db_path: Path) -> str:
    from directory.facts import Directory

    try:
        directory = Directory(db_path)
        try:
            return "ok" if directory.service("emerg_112") else "incomplete"
        finally:
            directory.close()
    except Exception:
        return "unavailable"


async def health(request: web.Request) -> web.Response:
    cfg = request.app[SETTINGS]
    rasa, actions = await asyncio.gather(
        probe(request.app, f"{cfg.rasa_url}/status", {"token": cfg.rasa_token}),
        probe(request.app, f"{cfg.actions_url}/health"),
    )
    parts = {"web": "ok", "rasa": rasa, "actions": actions, "directory": directory_state(cfg.db)}
    healthy = all(v == "ok" for v in parts.values())
    return web.json_response({"status": "ok" if healthy else "degraded", "parts": parts},
                             status=200 if healthy else 503)


async def index(request: web.Request) -> web.Response:
    from bot.page import render_page

    cfg = request.app[SETTINGS]
    return web.Response(text=render_page(cfg.db, cfg.exit_url), content_type="text/html",
                        headers={"Cache-Control": "no-store"})


async def staff(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "staff.html", headers={"Cache-Control": "no-store"})


async def static_file(request: web.Request) -> web.FileResponse:
    """A file of bot/static/ by its plain name; any other name is a 404, never a path on disk."""
    name = request.match_info["name"]
    if not STATIC_NAME.fullmatch(name) or name not in request.app[STATIC_FILES]:
        raise web.HTTPNotFound()
    return web.FileResponse(STATIC / name)


async def _client(app: web.Application):
    app[HTTP] = ClientSession()
    fallback.language_of("")  # learn the detector now, not on a degraded answer
    yield
    await app[HTTP].close()


def create_app(cfg: Optional[Settings] = None) -> web.Application:
    app = web.Application(middlewares=[errors_and_headers, rate_limit], client_max_size=MAX_BODY)
    cfg = app[SETTINGS] = cfg or settings_mod.load()
    app[LIMITERS] = {"chat": RateLimiter(cfg.rate_chat), "directory": RateLimiter(cfg.rate_directory)}
    app.cleanup_ctx.append(_client)
    app.router.add_get("/", index)
    app.router.add_get("/staff", staff)
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/health", health)
    app[STATIC_FILES] = frozenset(p.name for p in STATIC.iterdir() if p.is_file() and STATIC_NAME.fullmatch(p.name))
    app.router.add_get("/static/{name}", static_file)
    from bot import directory_api

    directory_api.setup(app, cfg.db, cfg.geocoder())
    return app


def main() -> None:
    logsafe.install()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s web %(levelname)s %(message)s")
    cfg = settings_mod.load()
    from bot import http_guard  # aiohttp's run_app, with JSON protocol errors and slow-client limits
    http_guard.run(create_app(cfg), host=cfg.web_host, port=cfg.web_port, header_timeout=cfg.http_header_timeout,
                   max_connections=cfg.http_max_connections, keepalive=cfg.http_keepalive)


if __name__ == "__main__":
    main()
