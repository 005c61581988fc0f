"""POST /api/chat: one chat turn, from the page to Rasa and back.

The body is read whole and validated (bot/chat_input.py; clear 4xx JSON
errors), the message goes to Rasa's Relais channel (rasa_client.py) with the
page's language and location as metadata, and the bot's messages come back
with the conversation's language (read from the language mark on the bot's
answers, see `page_messages`). When Rasa cannot answer the turn still gets
200 with `"degraded": true` and the emergency numbers and helplines; when
Rasa answers nothing (a custom action failed, for example the action server
is down) it says the search is unavailable and gives the same numbers. An
answered turn is counted, as codes only (bot/insights.py, bot/web/insights.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import Any, Optional

from aiohttp import web

from bot import fallback, live_facts
from bot.chat_input import InvalidInput, clean_text, valid_session
from bot.insights import turn_from_header
from bot.render import LANG_MARK
from bot.web import insights
from bot.web.errors import ApiError
from bot.web.keys import DIRECTORY
from bot.web.rasa_client import ask_rasa, conversation_language
from directory import languages
from directory.facts import Directory

log = logging.getLogger("relais.web")
MAX_BODY = 16 * 1024  # bytes; a chat message is at most chat_input.MAX_MESSAGE characters
BODY_TIMEOUT = 10.0  # seconds to receive a whole chat body


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


def page_messages(rasa_messages: list, directory: Optional[Directory] = None) -> tuple[list, Optional[str]]:
    """(messages for the page, the conversation's language).

    Rasa sends a custom payload after its text; it joins the text before it.
    The bot marks each answer with its language and the facts it holds
    (`{"relais": {"lang", "facts"}}`, see bot/render.py); the mark is read
    here, each fact is brought up to date from the directory
    (bot/live_facts.py), and the mark is not passed on.
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
            target = page if page["text"] or not out else out[-1]
            live_facts.refresh_message(target, custom[LANG_MARK].get("facts"), lang or languages.default(),
                                       directory)
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


async def chat(request: web.Request) -> web.Response:
    chat_turn = parse_chat(await read_json_object(request))
    messages, tally = await ask_rasa(request.app, chat_turn)
    if messages is None:
        lang = chat_turn["lang"] or fallback.language_of(chat_turn["message"])
        return web.json_response(
            {"messages": fallback.degraded_messages(lang, directory=request.app.get(DIRECTORY)),
             "lang": languages.or_unknown(lang), "degraded": True}
        )
    page, lang = page_messages(messages, request.app.get(DIRECTORY))
    lang = lang or chat_turn["lang"]
    if not page:  # Rasa answered nothing: a custom action failed
        log.warning("rasa sent no messages (an action failed)")
        lang = (lang or await conversation_language(request.app, chat_turn["session"])
                or fallback.language_of(chat_turn["message"]))
        return web.json_response(
            {"messages": fallback.search_unavailable_messages(lang, directory=request.app.get(DIRECTORY)),
             "lang": languages.or_unknown(lang),
             "degraded": True}
        )
    insights.record(request.app, turn_from_header(tally))
    return web.json_response({"messages": page, "lang": lang})


def setup(app: web.Application) -> None:
    app.router.add_post("/api/chat", chat)
