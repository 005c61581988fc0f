"""Build the web application: settings, middleware, shared clients and every resource's routes."""

from __future__ import annotations

from typing import Any, Optional

from aiohttp import ClientSession, web

from bot import fallback, shared_state
from bot import settings as settings_mod
from bot.ratelimit import RateLimiter, SharedRateLimiter
from bot.settings import Settings
from bot.web import admin, chat, directory_routes, health, hsds_routes, insights, pages, proposals
from bot.web.chat import MAX_BODY
from bot.web.keys import DRAINING, HTTP, LIMITERS, REDIS, REPLICAS_DOWN, SETTINGS
from bot.web.middleware import errors_and_headers, rate_limit


async def _client(app: web.Application):
    app[HTTP] = ClientSession()
    fallback.language_of("")  # learn the detector now, not on a degraded answer
    yield
    await app[HTTP].close()
    if app[REDIS] is not None:
        await app[REDIS].close()


def limiters(cfg: Settings, redis: Optional[Any]) -> dict:
    """The rate limiters of each route group (chat, directory, sign-in, training form): in this process, or in
    Redis when RELAIS_REDIS_URL is set."""
    groups = {"chat": cfg.rate_chat, "directory": cfg.rate_directory, "signin": cfg.rate_signin,
              "propose": cfg.rate_propose}
    if redis is None:
        return {group: RateLimiter(limit) for group, limit in groups.items()}
    secret = shared_state.connection(cfg.redis_url).password  # the same on every web server
    return {group: SharedRateLimiter(limit, group, redis, secret) for group, limit in groups.items()}


def create_app(cfg: Optional[Settings] = None) -> web.Application:
    """The web application for these settings (default: the environment's)."""
    app = web.Application(middlewares=[errors_and_headers, rate_limit], client_max_size=MAX_BODY)
    cfg = app[SETTINGS] = cfg or settings_mod.load()
    app[REDIS] = shared_state.async_client(cfg.redis_url) if cfg.redis_url else None
    app[LIMITERS] = limiters(cfg, app[REDIS])
    app[REPLICAS_DOWN] = {}
    app[DRAINING] = {"until": 0.0, "urls": frozenset()}
    app.cleanup_ctx.append(_client)
    pages.setup(app)
    chat.setup(app)
    health.setup(app)
    directory_routes.setup(app, cfg.db, cfg.geocoder())
    hsds_routes.setup(app)
    admin.setup(app)
    insights.setup(app)
    proposals.setup(app)
    return app
