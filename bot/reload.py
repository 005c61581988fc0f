"""Load a new model into every Rasa replica, one at a time, without downtime.

Two ways in: `kill -HUP <launcher's pid>` (the launcher reloads RELAIS_MODEL,
the file it restarts replicas with, and knows their addresses and token), or
`python -m bot reload-model [MODEL]` from a shell that has the same settings
as the stack (RELAIS_RASA_TOKEN set to its token, RELAIS_RASA_URLS or the
replica count, RELAIS_REDIS_URL), e.g. for replicas on other machines. A
replica the launcher restarts later loads the launcher's RELAIS_MODEL.

For each replica in turn (RELAIS_RASA_URLS or the launcher's replicas):

1. it is marked as draining in Redis (shared_state.DRAINING_KEY, a set the
   web servers read at most DRAIN_CACHE seconds old, bot/web/rasa_client.py):
   the web servers send its conversations to the next replica, which takes
   them over from Redis;
2. after the web server's wait for a turn (RELAIS_RASA_TIMEOUT) has passed,
   so that no turn is still in its hands, the model is loaded through Rasa's
   own endpoint (`PUT /model`), which blocks that replica while it loads;
3. once it answers again with the new model, it is unmarked, and its
   conversations come back to it.

Without Redis (one replica, the embedded default) there is nobody to hand
the conversations to: the replica loads the model in place, the chat answers
with the emergency numbers and the helplines meanwhile (the degraded answer),
and the conversations, kept in the process's memory, carry on afterwards.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Optional

from aiohttp import ClientError, ClientSession, ClientTimeout

from bot import settings as settings_mod
from bot import shared_state
from bot.launcher import say
from bot.settings import Settings
from bot.shared_state import DRAIN_CACHE, DRAINING_KEY

LOAD_TIMEOUT = 180.0


class ReloadError(Exception):
    """A replica did not load the new model; the ones after it were left as they were."""


async def model_name(http: ClientSession, url: str, token: str) -> Optional[str]:
    """The model file the replica at `url` runs, or None when it does not answer."""
    try:
        async with http.get(f"{url}/status", params={"token": token}, timeout=ClientTimeout(total=2)) as resp:
            return (await resp.json()).get("model_file") if resp.status == 200 else None
    except (OSError, asyncio.TimeoutError, ClientError, ValueError):
        return None


async def reload_replica(http: ClientSession, url: str, model: Path, cfg: Settings, redis) -> None:
    """Drain, load `model` into, and put back the replica at `url`."""
    if redis is not None:
        await redis.sadd(DRAINING_KEY, url)
        await redis.expire(DRAINING_KEY, int(LOAD_TIMEOUT))
        await asyncio.sleep(cfg.rasa_timeout + DRAIN_CACHE)  # the turns already sent to it are over
    try:
        async with http.put(f"{url}/model", params={"token": cfg.rasa_token}, json={"model_file": str(model)},
                            timeout=ClientTimeout(total=LOAD_TIMEOUT)) as resp:
            if resp.status != 204:
                raise ReloadError(f"{url} refused the model (HTTP {resp.status})")
        deadline = time.monotonic() + 30
        while await model_name(http, url, cfg.rasa_token) is None:
            if time.monotonic() > deadline:
                raise ReloadError(f"{url} does not answer after loading the model")
            await asyncio.sleep(0.5)
    finally:
        if redis is not None:
            await redis.srem(DRAINING_KEY, url)


async def reload_all(cfg: Settings, model: Path) -> int:
    """Reload every replica in turn; returns the exit code."""
    if not model.is_file():
        say(f"no model at {model}")
        return 2
    if not cfg.rasa_token:
        say("RELAIS_RASA_TOKEN is not set: send SIGHUP to the launcher (kill -HUP PID), or set it to the stack's")
        return 2
    redis = shared_state.async_client(cfg.redis_url) if cfg.redis_url else None  # not blocking the launcher
    try:
        return await reload_each(cfg, model, redis)
    finally:
        if redis is not None:
            await redis.close()


async def reload_each(cfg: Settings, model: Path, redis) -> int:
    """`reload_all`'s loop over the replicas, with Redis (or None) open."""
    urls = cfg.rasa_replica_urls()
    skipped = 0
    async with ClientSession() as http:
        for n, url in enumerate(urls, 1):
            if await model_name(http, url, cfg.rasa_token) is None:
                say(f"replica {n} of {len(urls)} ({url}) does not answer (or refuses the token): not reloaded")
                skipped += 1
                continue
            started = time.monotonic()
            others = [u for u in urls if u != url and await model_name(http, u, cfg.rasa_token) is not None]
            if redis is None or not others:
                say("no other replica to take the conversations: the chat gives the emergency numbers "
                    "while the model loads")
            try:
                await reload_replica(http, url, model, cfg, redis)
            except (ReloadError, OSError, asyncio.TimeoutError, ClientError) as err:
                say(f"replica {n} of {len(urls)} ({url}): {err or type(err).__name__}; stopping here")
                return 1
            say(f"replica {n} of {len(urls)} ({url}) runs {model.name} ({time.monotonic() - started:.0f} s)")
    return 1 if skipped else 0


def main(argv: list[str]) -> int:
    cfg = settings_mod.load()
    model = Path(argv[0]).resolve() if argv else cfg.model
    return asyncio.run(reload_all(cfg, model))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
