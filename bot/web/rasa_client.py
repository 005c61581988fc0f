"""The web server's client of Rasa: a chat turn through the Relais channel, and the conversation's language.

With several Rasa replicas (RELAIS_RASA_REPLICAS or RELAIS_RASA_URLS, which
need RELAIS_REDIS_URL), each conversation goes to one replica, chosen by
rendezvous hashing on its session id: the same replica every turn, so Rasa's
conversation lock is taken by one process at a time, and when the replicas
change only the conversations of the one that left move. When that replica
cannot be reached (down or restarting) the turn goes to the next one in the
conversation's order, which reads the conversation from Redis; when this
very turn found the conversation's own replica dead (refused, reset, or no
connection within CONNECT_TIMEOUT), the next one also takes the
conversation over (drops the lock the dead replica may have left in the
middle of a turn, bot/channel.py). A replica that could not be reached is
tried last for DOWN_FOR seconds, and so is one that a model reload is
draining (bot/reload.py), without taking anything over: it is alive and
finishes its turns, and the conversation's lock in Redis keeps the two
apart. A turn that timed
out is not sent again (Rasa may still be answering it): it gets the
degraded answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Optional

from aiohttp import ClientConnectionError, ClientError, ClientTimeout, ServerTimeoutError, web

from bot.insights import TALLY_HEADER
from bot.shared_state import DRAIN_CACHE, DRAINING_KEY, RETRY_REDIS
from bot.web.keys import DRAINING, HTTP, REDIS, REPLICAS_DOWN, SETTINGS
from directory import languages

log = logging.getLogger("relais.web")
RASA_CHANNEL = "/webhooks/relais/webhook"  # bot/channel.py
DOWN_FOR = 5.0  # seconds a replica that could not be reached is tried last
CONNECT_TIMEOUT = 1.0  # seconds to connect to a replica before trying the next (on loopback it takes < 1 ms)


def replica_order(urls: tuple, session: str) -> list:
    """The replicas in the order this conversation tries them (rendezvous hashing on the session id).

    >>> urls = ("http://a:5005", "http://a:5006", "http://b:5005")
    >>> order = replica_order(urls, "session-1")
    >>> sorted(order) == sorted(urls), replica_order(urls, "session-1") == order
    (True, True)
    >>> [o for o in replica_order(urls[:2], "session-1")] == [u for u in order if u in urls[:2]]
    True
    """
    def weight(url: str) -> int:
        return int.from_bytes(hashlib.blake2b(f"{url}\n{session}".encode(), digest_size=8).digest(), "big")

    return sorted(urls, key=weight, reverse=True)


async def draining(app: web.Application) -> frozenset:
    """The replicas a model reload is draining, read from Redis at most DRAIN_CACHE seconds ago."""
    cache, redis = app[DRAINING], app[REDIS]
    now = time.monotonic()
    if redis is None or now < cache["until"]:
        return cache["urls"]
    cache["until"] = now + DRAIN_CACHE  # before asking: concurrent turns use the copy meanwhile
    try:
        cache["urls"] = frozenset(await redis.smembers(DRAINING_KEY))
    except Exception as err:  # Redis down or hanging: routing goes on as it was, Redis asked again later
        log.warning("could not read the draining replicas: %s", type(err).__name__)
        cache["until"] = time.monotonic() + RETRY_REDIS
    return cache["urls"]


async def usable_first(app: web.Application, order: list) -> list:
    """A conversation's replicas (`order`), the ones that lately could not be reached, or are draining, last."""
    down, drained = app[REPLICAS_DOWN], await draining(app)
    now = time.monotonic()
    usable = [u for u in order if down.get(u, 0) <= now and u not in drained]
    return usable + [u for u in order if u not in usable]


async def ask_rasa(app: web.Application, chat: dict) -> tuple[Optional[list], Optional[str]]:
    """The bot's messages for this chat turn (None when no Rasa replica can answer) and what the turn counts
    (the channel's TALLY_HEADER, bot/insights.py)."""
    cfg = app[SETTINGS]
    metadata = {k: v for k, v in (("language", chat["lang"]), ("location", chat["location"])) if v}
    payload = {"sender": chat["session"], "message": chat["message"], "metadata": metadata}
    order = replica_order(cfg.rasa_replica_urls(), chat["session"])
    takeover = False
    for url in await usable_first(app, order):
        try:
            async with app[HTTP].post(
                f"{url}{RASA_CHANNEL}", json={**payload, "takeover": takeover},
                timeout=ClientTimeout(total=cfg.rasa_timeout, sock_connect=CONNECT_TIMEOUT),
                headers={"Authorization": f"Bearer {cfg.rasa_token}"},
            ) as resp:
                if resp.status != 200:
                    log.warning("rasa answered HTTP %s", resp.status)
                    return None, None
                messages = await resp.json()
                return (messages, resp.headers.get(TALLY_HEADER)) if isinstance(messages, list) else (None, None)
        except ServerTimeoutError:  # no connection within CONNECT_TIMEOUT (a machine down): never reached it
            log.warning("rasa replica did not accept the connection; trying the next")
        except asyncio.TimeoutError:  # connected, no answer in time: Rasa may still be working on this turn
            log.warning("rasa did not answer in time")
            return None, None
        except (ClientConnectionError, ConnectionError) as err:  # refused, reset, or the replica died mid-turn
            log.warning("rasa replica unreachable: %s; trying the next", type(err).__name__)
        except (OSError, ValueError, ClientError) as err:
            log.warning("rasa did not answer: %s", type(err).__name__)
            return None, None
        app[REPLICAS_DOWN][url] = time.monotonic() + DOWN_FOR
        # Only the conversation's own replica, found dead by this very turn, may have left its lock behind.
        takeover = takeover or url == order[0]
    return None, None


async def conversation_language(app: web.Application, session: str) -> Optional[str]:
    """The conversation's language slot, asked of Rasa (only when an answer had no language mark)."""
    cfg = app[SETTINGS]
    try:
        replica = (await usable_first(app, replica_order(cfg.rasa_replica_urls(), session)))[0]
        async with app[HTTP].get(f"{replica}/conversations/{session}/tracker",
                                 params={"token": cfg.rasa_token, "include_events": "NONE"},
                                 timeout=ClientTimeout(total=2)) as resp:
            if resp.status != 200:
                return None
            lang = ((await resp.json()).get("slots") or {}).get("language")
            return languages.known(lang)
    except (OSError, asyncio.TimeoutError, ValueError, AttributeError, ClientError):
        return None
