"""Run-time settings of the Relais stack, read from environment variables.

| variable               | default      | what                                      |
|------------------------|--------------|-------------------------------------------|
| RELAIS_WEB_HOST        | 127.0.0.1    | web server bind address                   |
| RELAIS_WEB_PORT        | 8080         | web server port (chat page, /api/chat)    |
| RELAIS_RASA_HOST       | 127.0.0.1    | Rasa server bind address                  |
| RELAIS_RASA_PORT       | 5005         | Rasa server port (REST channel)           |
| RELAIS_ACTIONS_HOST    | 127.0.0.1    | action server bind address                |
| RELAIS_ACTIONS_PORT    | 5055         | action server port                        |
| RELAIS_RASA_TOKEN      | random       | token for Rasa's HTTP API and channel (set by launcher)|
| RELAIS_ACTIONS_TOKEN   | random       | token for the action server (set by launcher) |
| RELAIS_ACTIONS_MAX_BODY| 2097152      | bytes the action server takes (bot/action_server.py) |
| RELAIS_HTTP_HEADER_TIMEOUT | 10       | seconds for a request's headers (bot/http_guard.py) |
| RELAIS_HTTP_KEEPALIVE  | 15           | seconds an idle connection is kept (bot/http_guard.py) |
| RELAIS_HTTP_MAX_CONNECTIONS | 1000    | connections open at once (bot/http_guard.py) |
| RELAIS_DB              | directory/relais.db | directory database                 |
| RELAIS_MODEL           | models/relais.tar.gz | trained Rasa model                 |
| RELAIS_CONVERSATION_TTL| 1800         | seconds before an idle conversation is dropped |
| RELAIS_RASA_TIMEOUT    | 4            | seconds the web server waits for Rasa     |
| RELAIS_EXIT_URL        | https://www.meteo.be/ | where quick exit sends the page  |
| RELAIS_RATE_CHAT       | 30/10        | per client: requests per minute/burst on /api/chat, or off |
| RELAIS_RATE_DIRECTORY  | 240/60       | the same for /api/directory/*             |
| RELAIS_MAX_EVENTS      | 400          | events kept per conversation              |
| RELAIS_MAX_CONVERSATIONS | 10000      | conversations kept in memory              |
| RELAIS_RESTART_DELAY   | 2            | seconds before restarting a dead part (doubles) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _port(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a port number, not {raw!r}") from None
    if not 0 < port < 65536:
        raise SystemExit(f"{name} must be between 1 and 65535, not {port}")
    return port


@dataclass(frozen=True)
class Settings:
    web_host: str
    web_port: int
    rasa_host: str
    rasa_port: int
    actions_host: str
    actions_port: int
    rasa_token: str
    db_path: Path
    model_path: Path
    conversation_ttl: float
    rasa_timeout: float

    @property
    def rasa_url(self) -> str:
        return f"http://{_client_host(self.rasa_host)}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{_client_host(self.actions_host)}:{self.actions_port}"

    @property
    def web_url(self) -> str:
        return f"http://{_client_host(self.web_host)}:{self.web_port}"


def _client_host(bind: str) -> str:
    """Where to reach a server bound to `bind` from this machine."""
    return "127.0.0.1" if bind in ("0.0.0.0", "", "::") else bind


def load() -> Settings:
    return Settings(
        web_host=_env("RELAIS_WEB_HOST", "127.0.0.1"),
        web_port=_port("RELAIS_WEB_PORT", 8080),
        rasa_host=_env("RELAIS_RASA_HOST", "127.0.0.1"),
        rasa_port=_port("RELAIS_RASA_PORT", 5005),
        actions_host=_env("RELAIS_ACTIONS_HOST", "127.0.0.1"),
        actions_port=_port("RELAIS_ACTIONS_PORT", 5055),
        rasa_token=_env("RELAIS_RASA_TOKEN", ""),
        db_path=Path(_env("RELAIS_DB", str(ROOT / "directory" / "relais.db"))),
        model_path=Path(_env("RELAIS_MODEL", str(ROOT / "models" / "relais.tar.gz"))),
        conversation_ttl=float(_env("RELAIS_CONVERSATION_TTL", "1800")),
        rasa_timeout=float(_env("RELAIS_RASA_TIMEOUT", "4")),
    )
