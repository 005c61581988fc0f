"""Rasa's input channel for Relais: `POST /webhooks/relais/webhook`, for the web server only.

Rasa's own REST channel takes any sender id (empty, null, 100 kB, several
lines), any message (a million characters, intent syntax with entities the
sender chose) from whoever reaches its port, and logs the message when a
reply is abandoned. This channel, configured in `bot/credentials.yml` instead
of `rest`, takes the same body (`{"sender", "message", "metadata"}`) and:

- answers 401 unless the request carries `Authorization: Bearer
  $RELAIS_RASA_TOKEN` (the web server's per-start token);
- applies the chat input rules of `bot/chat_input.py` (session id, Unicode,
  length, intent syntax), with the web server's JSON errors;
- keeps only the metadata the page may send (`language`, `location`);
- logs an abandoned or failed turn without its text;
- sends what the turn counts (intent, language, municipality searched, "found
  nothing"; codes only, bot/insights.py) in the `X-Relais-Tally` header, for
  the web server's anonymous counters;
- with `"takeover": true` (sent by the web server when the conversation's
  own replica could not be reached, bot/web/rasa_client.py), first drops the
  conversation's lock: a replica killed in the middle of a turn leaves its
  ticket in Redis, and the conversation would wait for it to expire.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import insights, logsafe, settings
from bot.chat_input import InvalidInput, clean_text, valid_session
from bot.tokens import bearer_ok

log = logging.getLogger("relais.channel")
METADATA_KEYS = ("language", "location")


def error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": {"code": code, "message": message}}, status=status)


def page_metadata(value: Any) -> Dict[Text, Any]:
    """The metadata keys the page may send, nothing else."""
    if not isinstance(value, dict):
        return {}
    return {key: value[key] for key in METADATA_KEYS if key in value}


def take_over(request: Request, sender: str) -> None:
    """Drop the conversation's lock, whose holder (another replica) could not be reached."""
    try:
        request.app.ctx.agent.lock_store.delete_lock(sender)
    except Exception as exc:  # the turn goes on; at worst it waits for the old ticket
        log.warning("could not take the conversation over: %s", logsafe.describe(exc))


async def turn_codes(request: Request, sender: str) -> Dict[Text, Text]:
    """What the turn just answered counts (bot/insights.py); nothing when the conversation cannot be read."""
    try:
        tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
    except Exception as exc:  # the answer goes out all the same, uncounted
        log.warning("could not read the turn to count it: %s", logsafe.describe(exc))
        return {}
    if tracker is None:
        return {}
    return insights.tally(tracker.events, tracker.get_slot("language"))


class RelaisInput(InputChannel):
    """The web server's door into Rasa."""

    @classmethod
    def name(cls) -> Text:
        return "relais"

    def __init__(self, token: Optional[str] = None) -> None:
        self.token = token if token is not None else settings.load().rasa_token

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "RelaisInput":
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("relais_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not bearer_ok(request.headers.get("authorization"), self.token):
                return error(401, "unauthorized", "This channel is for the Relais web server only.")
            try:
                body = request.json
            except Exception:  # sanic's InvalidUsage for a body that is not JSON
                body = None
            if not isinstance(body, dict):
                return error(400, "invalid_json", "The request body must be a JSON object.")
            try:
                sender = valid_session(body.get("sender"))
                text = clean_text(body.get("message"))
            except InvalidInput as err:
                return error(err.status, err.code, err.message)
            if body.get("takeover") is True:
                take_over(request, sender)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(),
                                                 metadata=page_metadata(body.get("metadata"))))
            except asyncio.CancelledError:
                log.warning("a turn was abandoned by its caller (timeout)")
                raise
            except Exception as exc:
                log.error("a turn failed: %s", logsafe.describe(exc))
                return response.json(collector.messages)
            codes = await turn_codes(request, sender)
            return response.json(collector.messages,
                                 headers={insights.TALLY_HEADER: insights.header_value(codes)} if codes else None)

        return webhook
