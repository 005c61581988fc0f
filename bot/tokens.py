"""The per-start secrets that the internal servers ask of their callers.

The launcher makes two at each start: RELAIS_RASA_TOKEN (Rasa's HTTP API and
its Relais channel, used by the web server) and RELAIS_ACTIONS_TOKEN (the
action server, used by Rasa). A caller shows one as `Authorization: Bearer …`.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Optional


def new_token() -> str:
    """A fresh secret: 48 hexadecimal digits (never starts with "-", which a command-line parser
    would take for an option; safe in a header and a query string)."""
    return secrets.token_hex(24)


def bearer_ok(header: Optional[str], token: str) -> bool:
    """Whether an Authorization header carries `token` (compared in constant time)."""
    return bool(token) and hmac.compare_digest((header or "").encode(), f"Bearer {token}".encode())
