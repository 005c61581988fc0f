"""Build the web application: settings, middleware, shared clients and every resource's routes."""

from __future__ import annotations

from typing import Optional

from aiohttp import ClientSession, web

from bot import fallback
from bot import settings as settings_mod
from bot.ratelimit import RateLimiter
from bot.settings import Settings
from bot.web import chat, directory_routes, health, pages
from bot.web.chat import MAX_BODY
from bot.web.keys import HTTP, LIMITERS, SETTINGS
from bot.web.middleware import errors_and_headers, rate_limit


async def _client(app: web.Application):
    app[HTTP] = ClientSession()
    fallback.language_of("")  # learn the detector now, not on a degraded answer
    yield
    await app[HTTP].close()


def create_app(cfg: Optional[Settings] = None) -> web.Application:
    """The web application for these settings (default: the environment's)."""
    app = web.Application(middlewares=[errors_and_headers, rate_limit], client_max_size=MAX_BODY)
    cfg = app[SETTINGS] = cfg or settings_mod.load()
    app[LIMITERS] = {"chat": RateLimiter(cfg.rate_chat), "directory": RateLimiter(cfg.rate_directory)}
    app.cleanup_ctx.append(_client)
    pages.setup(app)
    chat.setup(app)
    health.setup(app)
    directory_routes.setup(app, cfg.db, cfg.geocoder())
    return app
