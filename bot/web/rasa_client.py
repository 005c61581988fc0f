"""The web server's client of Rasa: a chat turn through the Relais channel, and the conversation's language."""

from __future__ import annotations

import asyncio
import logging
from typing import Optional

from aiohttp import ClientError, ClientTimeout, web

from bot.web.keys import HTTP, SETTINGS
from directory import languages

log = logging.getLogger("relais.web")
RASA_CHANNEL = "/webhooks/relais/webhook"  # bot/channel.py


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
