"""The back office's sessions: aiohttp-session with the session data on the server, in the curation store.

The cookie holds only a random key (256 bits, `secrets`); the store keeps a
SHA-256 of it, so a copy of the database holds no usable session. A session
ends after `idle` seconds without a request, 12 hours after sign-in, on
sign-out, and on "sign out everywhere" (every session of the account). Signing in always starts a new
session with a new key (no session fixation). The cookie is HttpOnly,
SameSite=Strict, limited to /admin, and Secure unless
RELAIS_ADMIN_COOKIE_SECURE=no (plain-HTTP development).

Every form carries the session's CSRF token (`csrf_token`), checked on each
POST with a constant-time comparison; the sign-in form, before any session,
carries a token bound to the form, its hour and the store's secret (`form_token`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from typing import Optional

from aiohttp import web
from aiohttp_session import AbstractStorage, Session, get_session, new_session

from directory.curation import Curation

COOKIE = "relais_admin"
MAX_AGE = 12 * 3600  # a session ends 12 hours after sign-in, however busy


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class CurationStorage(AbstractStorage):
    """aiohttp-session storage that keeps each session's data in the curation store."""

    def __init__(self, store: Curation, *, idle: float, secure: bool):
        super().__init__(cookie_name=COOKIE, path="/admin", secure=secure, httponly=True, samesite="Strict")
        self.store = store
        self.idle = idle

    async def load_session(self, request: web.Request) -> Session:
        key = self.load_cookie(request)
        data = self.store.session_data(key_hash(key), time.time(), self.idle) if key and len(key) < 100 else None
        if data is not None and time.time() - data.get("created", 0) > MAX_AGE:  # signed in too long ago
            self.store.end_session(key_hash(key or ""))
            data = None
        if data is None:
            return Session(None, data=None, new=True, max_age=self.max_age)
        return Session(key, data={"created": data.get("created", int(time.time())), "session": data["session"]},
                       new=False, max_age=self.max_age)

    async def save_session(self, request: web.Request, response: web.StreamResponse, session: Session) -> None:
        key = session.identity
        if session.empty:
            if key:
                self.store.end_session(key_hash(key))
            self.save_cookie(response, "")
            return
        if key is None:
            key = secrets.token_urlsafe(32)
            session.set_new_identity(key)
        self.store.save_session(key_hash(key), session["user"], dict(self._get_session_data(session)),
                                time.time() + self.idle)
        self.save_cookie(response, key)


async def signed_in(request: web.Request) -> Optional[Session]:
    """The request's session when it belongs to an account that still exists, else None."""
    session = await get_session(request)
    return session if not session.new and "user" in session else None


async def start(request: web.Request, store: Curation, username: str) -> Session:
    """A new session for `username` (the old one, if any, ends: its key is never reused)."""
    old = await get_session(request)
    if old.identity:
        store.end_session(key_hash(old.identity))
    session = await new_session(request)
    session["user"] = username
    session["csrf"] = secrets.token_urlsafe(32)
    return session


def form_token(secret: bytes, purpose: str, at: Optional[float] = None) -> str:
    """A token for a form shown before any session (sign-in, the public training form): bound to the form
    and the hour it was shown."""
    hour = int((at or time.time()) // 3600)
    return f"{hour}.{hmac.new(secret, f'{purpose} {hour}'.encode(), hashlib.sha256).hexdigest()}"


def form_token_ok(secret: bytes, purpose: str, token: str) -> bool:
    """A token of `form_token` for this form, from this hour or the previous one."""
    hour_text, _, _ = token.partition(".")
    if not re.fullmatch(r"[0-9]{1,12}", hour_text):
        return False
    hour = int(hour_text)
    if int(time.time() // 3600) - hour not in (0, 1):
        return False
    return hmac.compare_digest(token.encode(), form_token(secret, purpose, hour * 3600).encode())


def csrf_ok(session: Session, token: str) -> bool:
    expected = session.get("csrf")
    return bool(expected) and hmac.compare_digest(str(expected).encode(), token.encode())
