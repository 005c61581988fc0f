"""GET /health: the state of each part of the stack (web, Rasa, actions, directory)."""

from __future__ import annotations

import asyncio
from typing import Optional

from aiohttp import ClientError, ClientTimeout, web

from bot.web.keys import DIRECTORY, HTTP, SETTINGS


async def probe(app: web.Application, url: str, params: Optional[dict] = None) -> str:
    try:
        async with app[HTTP].get(url, params=params, timeout=ClientTimeout(total=2)) as resp:
            return "ok" if resp.status == 200 else f"http {resp.status}"
    except (OSError, asyncio.TimeoutError, ClientError):
        return "down"


def directory_state(app: web.Application) -> str:
    """"ok" when the app's directory answers, "incomplete" without the emergency number, else "unavailable"."""
    directory = app.get(DIRECTORY)
    if directory is None:
        return "unavailable"
    try:
        return "ok" if directory.has_emergency_numbers() else "incomplete"
    except Exception:
        return "unavailable"


def summary(states: list) -> str:
    """One part's state from its servers' states: "ok", the one server's state, or "N of M up"."""
    if len(states) == 1:
        return states[0]
    answering = sum(state == "ok" for state in states)
    return "ok" if answering == len(states) else f"{answering} of {len(states)} up"


async def health(request: web.Request) -> web.Response:
    cfg = request.app[SETTINGS]
    replicas = cfg.rasa_replica_urls()
    # Rasa servers on other machines (RELAIS_RASA_URLS) each call their own action server, which only they see.
    action_servers = () if cfg.rasa_urls else cfg.launched_actions_urls()
    states = await asyncio.gather(
        *(probe(request.app, f"{url}/status", {"token": cfg.rasa_token}) for url in replicas),
        *(probe(request.app, f"{url}/health") for url in action_servers),
    )
    parts = {"web": "ok", "rasa": summary(states[:len(replicas)])}
    if action_servers:
        parts["actions"] = summary(states[len(replicas):])
    parts["directory"] = directory_state(request.app)
    healthy = all(v == "ok" for v in parts.values())
    return web.json_response({"status": "ok" if healthy else "degraded", "parts": parts},
                             status=200 if healthy else 503)


def setup(app: web.Application) -> None:
    app.router.add_get("/health", health)
