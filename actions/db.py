"""The actions' database layer: one read-only directory handle per process.

Opened lazily from RELAIS_DB (default directory/relais.db). When the file is
missing or unreadable, `directory()` returns None and the actions fall back
to the helplines, so a broken database never leaves a user without an answer.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional

from directory.facts import Directory

log = logging.getLogger("relais.actions")
ROOT = Path(__file__).resolve().parent.parent
_handle: Optional[Directory] = None


def db_path() -> Path:
    return Path(os.environ.get("RELAIS_DB") or ROOT / "directory" / "relais.db")


def directory() -> Optional[Directory]:
    global _handle
    if _handle is not None:
        try:
            _handle.conn.execute("select 1 from meta limit 1")
            return _handle
        except Exception:
            _handle = None
    try:
        _handle = Directory(db_path())
        _handle.conn.execute("select 1 from meta limit 1")
        return _handle
    except Exception as err:  # missing, corrupt, locked: degrade, never crash
        log.error("directory unavailable: %s", type(err).__name__)
        _handle = None
        return None
