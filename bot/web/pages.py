"""The two pages (chat and staff lookup) and their static files, served by name only."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from bot.page import render_page
from bot.web.keys import SETTINGS, STATIC_FILES

STATIC = Path(__file__).resolve().parent.parent / "static"
STATIC_NAME = re.compile(r"[a-z0-9_-]{1,40}\.(css|js|png|svg|ico|woff2)")


async def index(request: web.Request) -> web.Response:
    cfg = request.app[SETTINGS]
    try:
        version = cfg.db.stat().st_mtime_ns
    except OSError:
        version = 0
    return web.Response(text=render_page(cfg.db, cfg.exit_url, version), content_type="text/html",
                        headers={"Cache-Control": "no-store"})


async def staff(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "staff.html", headers={"Cache-Control": "no-store"})


async def static_file(request: web.Request) -> web.FileResponse:
    """A file of bot/static/ by its plain name; any other name is a 404, never a path on disk."""
    name = request.match_info["name"]
    if not STATIC_NAME.fullmatch(name) or name not in request.app[STATIC_FILES]:
        raise web.HTTPNotFound()
    return web.FileResponse(STATIC / name)


def setup(app: web.Application) -> None:
    app[STATIC_FILES] = frozenset(p.name for p in STATIC.iterdir() if p.is_file() and STATIC_NAME.fullmatch(p.name))
    app.router.add_get("/", index)
    app.router.add_get("/staff", staff)
    app.router.add_get("/static/{name}", static_file)
