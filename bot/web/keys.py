"""What the web application holds, by typed key (one place, so handlers and app agree)."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession, web

from bot.settings import Settings
from directory.facts import Directory
from directory.geocoder import Geocoder

SETTINGS: web.AppKey = web.AppKey("settings", Settings)
HTTP: web.AppKey = web.AppKey("http", ClientSession)
LIMITERS: web.AppKey = web.AppKey("limiters", dict)
STATIC_FILES: web.AppKey = web.AppKey("static_files", frozenset)
DIRECTORY: web.AppKey = web.AppKey("directory", Directory)
GEOCODER: web.AppKey = web.AppKey("geocoder", Geocoder)
# Rasa replica URL -> the monotonic time until which it is tried last (bot/web/rasa_client.py)
REPLICAS_DOWN: web.AppKey = web.AppKey("replicas_down", dict)
REDIS: web.AppKey = web.AppKey("redis", Any)  # the asyncio Redis client when RELAIS_REDIS_URL is set, else None
# The Rasa replicas a model reload is draining (bot/reload.py), and until when that copy is trusted
DRAINING: web.AppKey = web.AppKey("draining", dict)
