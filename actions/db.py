"""The actions' database layer: one read-only directory handle per process.

Opened lazily from RELAIS_DB (bot/settings.py). When the file is
missing or unreadable, `directory()` returns None and the actions fall back
to the helplines, so a broken database never leaves a user without an answer.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Optional

from bot import settings
from directory.facts import Directory
from directory.geocoder import Geocoder

log = logging.getLogger("relais.actions")
_handle: Optional[Directory] = None


def db_path() -> Path:
    return settings.load().db


@lru_cache(maxsize=1)
def geocoder() -> Geocoder:
    """This process's geocoder (it holds the one-request-per-second limit)."""
    return settings.load().geocoder()


def directory() -> Optional[Directory]:
    global _handle
    if _handle is not None:
        if _handle.readable() and not _handle.replaced():
            return _handle
        _handle.close()
        _handle = None
    try:
        _handle = Directory(db_path())
        _handle.check()
        return _handle
    except Exception as err:  # missing, corrupt, locked: degrade, never crash
        log.error("directory unavailable: %s", type(err).__name__)
        _handle = None
        return None
