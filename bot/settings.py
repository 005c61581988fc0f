"""Every run-time setting of Relais: the only module that reads the environment.

Each variable is declared once in `VARIABLES` with its default and meaning;
`load()` reads and checks them all and returns a frozen `Settings`. A bad
value stops the process at start with a message naming the variable. The
README's settings table is generated from `VARIABLES`
(`python -m bot.settings`) and a test checks that it is current.

To add a setting: add a `Variable` here (the field of `Settings` is its
name without `RELAIS_`, in lower case), read it as `settings.load().<field>`,
and regenerate the README table.

`CHILD_ENV` is what the launcher and the Makefile give every process of
the stack (quiet TensorFlow, no Rasa telemetry); `bot/child.env` holds it so
that make can read the same file.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

if TYPE_CHECKING:
    from directory.geocoder import Geocoder

from directory.build import DEFAULT_DB

ROOT = Path(__file__).resolve().parent.parent
CHILD_ENV_FILE = Path(__file__).with_name("child.env")


class SettingError(SystemExit):
    """A variable's value cannot be used; the message names the variable."""


Parser = Callable[[str, str], Any]


def _text(name: str, raw: str) -> str:
    return raw


def _path(name: str, raw: str) -> Path:
    path = Path(raw)
    return path if path.is_absolute() else ROOT / path


def _port(name: str, raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise SettingError(f"{name} must be a port number, not {raw!r}") from None
    if not 0 < port < 65536:
        raise SettingError(f"{name} must be between 1 and 65535, not {port}")
    return port


def _at_least(minimum: float, integer: bool = False) -> Parser:
    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise SettingError(f"{name} must be a number, not {raw!r}") from None
        if not (minimum <= value and math.isfinite(value)) or (integer and value != int(value)):
            kind = "a whole number" if integer else "a number"
            raise SettingError(f"{name} must be {kind} of at least {minimum:g}, not {raw!r}")
        return int(value) if integer else value

    return parse


def _rate(name: str, raw: str) -> Any:
    from bot.ratelimit import parse_limit

    try:
        return parse_limit(raw)
    except ValueError:
        raise SettingError(f"{name} must look like 30/10 (per minute/burst) or off, not {raw!r}") from None


def _yes_no(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("yes", "no", "true", "false", "1", "0"):
        raise SettingError(f"{name} must be yes or no, not {raw!r}")
    return value in ("yes", "true", "1")


def _redis_url(name: str, raw: str) -> str:
    if raw in ("", "off"):
        return ""
    from bot.shared_state import RedisRefused, connection

    try:
        connection(raw)
    except RedisRefused as err:
        raise SettingError(f"{name}: {err}") from None
    return raw


def _urls(name: str, raw: str) -> tuple:
    urls = tuple(u.strip().rstrip("/") for u in raw.split(",") if u.strip() and raw != "auto")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise SettingError(f"{name} must be a comma-separated list of http(s) addresses, not {raw!r}")
    return urls


def _exit_url(name: str, raw: str) -> str:
    if not raw.startswith(("https://", "http://", "about:blank")):
        raise SettingError(f"{name} must be an http(s) address or about:blank, not {raw!r}")
    return raw


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    meaning: str
    parse: Parser = _text

    @property
    def field(self) -> str:
        return self.name.removeprefix("RELAIS_").lower()


VARIABLES: tuple[Variable, ...] = (
    Variable("RELAIS_WEB_HOST", "127.0.0.1", "web server bind address"),
    Variable("RELAIS_WEB_PORT", "8080", "web server port (chat page, /api/chat)", _port),
    Variable("RELAIS_RASA_HOST", "127.0.0.1", "Rasa server bind address"),
    Variable("RELAIS_RASA_PORT", "5005", "Rasa server port (Relais channel, API)", _port),
    Variable("RELAIS_ACTIONS_HOST", "127.0.0.1", "action server bind address"),
    Variable("RELAIS_ACTIONS_PORT", "5055", "action server port", _port),
    Variable("RELAIS_RASA_REPLICAS", "1", "Rasa processes the launcher starts, on RELAIS_RASA_PORT and the next ports",
             _at_least(1, integer=True)),
    Variable("RELAIS_ACTIONS_REPLICAS", "1", "action servers the launcher starts, on RELAIS_ACTIONS_PORT and the next",
             _at_least(1, integer=True)),
    Variable("RELAIS_RASA_URLS", "auto",
             "the Rasa servers the web server uses, comma-separated (auto: the launcher's replicas)", _urls),
    Variable("RELAIS_REDIS_URL", "off",
             "redis://:PASSWORD@HOST:PORT/DB shared by every process (conversations, locks, rate limits), or off: "
             "each process keeps its own in memory", _redis_url),
    Variable("RELAIS_REDIS_PERSISTENCE_OK", "no",
             "yes: accept a Redis that writes to disk (RDB or AOF); by default such a Redis is refused", _yes_no),
    Variable("RELAIS_RASA_TOKEN", "", "token for Rasa's API and channel (the launcher makes one per start)"),
    Variable("RELAIS_ACTIONS_TOKEN", "", "token for the action server (the launcher makes one per start)"),
    Variable("RELAIS_ACTIONS_MAX_BODY", "2097152", "bytes the action server takes in one call",
             _at_least(1024, integer=True)),
    Variable("RELAIS_HTTP_HEADER_TIMEOUT", "10", "seconds to receive a request's line and headers",
             _at_least(0.1)),
    Variable("RELAIS_HTTP_KEEPALIVE", "15", "seconds an idle keep-alive connection is kept", _at_least(0.1)),
    Variable("RELAIS_HTTP_MAX_CONNECTIONS", "1000", "connections the web server keeps open at once",
             _at_least(1, integer=True)),
    Variable("RELAIS_DB", DEFAULT_DB.relative_to(ROOT).as_posix(), "the directory database (relative to the checkout)",
             _path),
    Variable("RELAIS_MODEL", "models/relais.tar.gz", "the trained Rasa model", _path),
    Variable("RELAIS_CONVERSATION_TTL", "1800",
             "seconds before an idle conversation (and any geocoded place) is forgotten", _at_least(1)),
    Variable("RELAIS_MAX_EVENTS", "60", "events kept per conversation", _at_least(10, integer=True)),
    Variable("RELAIS_MAX_CONVERSATIONS", "10000", "conversations kept in memory", _at_least(1, integer=True)),
    Variable("RELAIS_RASA_TIMEOUT", "4", "seconds the web server waits for Rasa", _at_least(0.1)),
    Variable("RELAIS_EXIT_URL", "https://www.meteo.be/", "where quick exit sends the page", _exit_url),
    Variable("RELAIS_RATE_CHAT", "30/10", "per client: requests per minute/burst on /api/chat, or off", _rate),
    Variable("RELAIS_RATE_DIRECTORY", "240/60", "the same for /api/directory/* and /hsds/*", _rate),
    Variable("RELAIS_RATE_SIGNIN", "10/5", "the same for the back office's sign-in", _rate),
    Variable("RELAIS_RATE_PROPOSE", "5/3", "the same for sending the public training form", _rate),
    Variable("RELAIS_CURATION_DB", "directory/curation.db",
             "the back office's accounts and the history of edits (relative to the checkout)", _path),
    Variable("RELAIS_ADMIN_SESSION_IDLE", "3600", "seconds without a request before a back-office session ends",
             _at_least(60)),
    Variable("RELAIS_ADMIN_COOKIE_SECURE", "yes",
             "yes: the back-office cookie is sent over HTTPS only (no for plain-HTTP development)", _yes_no),
    Variable("RELAIS_RESTART_DELAY", "2", "seconds before restarting a dead part (doubles, at most 10)",
             _at_least(0)),
    Variable("RELAIS_GEOCODER_URL", "https://nominatim.openstreetmap.org", "a Nominatim server, or off"),
    Variable("RELAIS_GEOCODER_USER_AGENT",
             "Relais/0.1 (Brussels referral chatbot for victims of violence; self-hosted)",
             "user agent sent to the geocoder (the public server asks for an identifying one)"),
    Variable("RELAIS_GEOCODER_DEADLINE", "2", "seconds before a place counts as unknown", _at_least(0.1)),
    Variable("RELAIS_GEOCODE_CACHE", ":memory:", "a file to keep geocoded places in (default: memory only)"),
)


@dataclass(frozen=True)
class Settings:
    web_host: str
    web_port: int
    rasa_host: str
    rasa_port: int
    actions_host: str
    actions_port: int
    rasa_replicas: int
    actions_replicas: int
    rasa_urls: tuple
    redis_url: str
    redis_persistence_ok: bool
    rasa_token: str
    actions_token: str
    actions_max_body: int
    http_header_timeout: float
    http_keepalive: float
    http_max_connections: int
    db: Path
    model: Path
    conversation_ttl: float
    max_events: int
    max_conversations: int
    rasa_timeout: float
    exit_url: str
    rate_chat: Any
    rate_directory: Any
    rate_signin: Any
    rate_propose: Any
    curation_db: Path
    admin_session_idle: float
    admin_cookie_secure: bool
    restart_delay: float
    geocoder_url: str
    geocoder_user_agent: str
    geocoder_deadline: float
    geocode_cache: str

    @property
    def rasa_url(self) -> str:
        return self.launched_rasa_urls()[0]

    @property
    def actions_url(self) -> str:
        return self.launched_actions_urls()[0]

    def launched_rasa_urls(self) -> tuple:
        """The addresses of the Rasa replicas the launcher starts: RELAIS_RASA_PORT and the next ports."""
        return _local_urls(self.rasa_host, self.rasa_port, self.rasa_replicas)

    def launched_actions_urls(self) -> tuple:
        """The addresses of the action servers the launcher starts: RELAIS_ACTIONS_PORT and the next ports."""
        return _local_urls(self.actions_host, self.actions_port, self.actions_replicas)

    def rasa_replica_urls(self) -> tuple:
        """Every Rasa server the web server may send a conversation to: RELAIS_RASA_URLS, or the launcher's."""
        return self.rasa_urls or self.launched_rasa_urls()

    @property
    def web_url(self) -> str:
        return _local_urls(self.web_host, self.web_port, 1)[0]

    def geocoder(self) -> "Geocoder":
        """The geocoder these settings describe (one per process is enough: it holds the rate limit)."""
        from directory.geocoder import Geocoder

        return Geocoder(self.geocoder_url, user_agent=self.geocoder_user_agent, deadline=self.geocoder_deadline,
                        cache_path=self.geocode_cache, memory_ttl=self.conversation_ttl)


def _client_host(bind: str) -> str:
    """Where to reach a server bound to `bind` from this machine."""
    return "127.0.0.1" if bind in ("0.0.0.0", "", "::") else bind


def _local_urls(bind: str, port: int, count: int) -> tuple:
    """The addresses of `count` servers bound to `bind` on `port` and the next ports, from this machine."""
    return tuple(f"http://{_client_host(bind)}:{port + i}" for i in range(count))


def load(environ: Optional[Mapping[str, str]] = None) -> Settings:
    """Read every variable (empty counts as unset); raises SettingError on a bad value."""
    env = os.environ if environ is None else environ
    values = {v.field: v.parse(v.name, env.get(v.name, "").strip() or v.default) for v in VARIABLES}
    return Settings(**values)


def child_env() -> dict[str, str]:
    """The variables every process of the stack runs with (`bot/child.env`)."""
    pairs = (line.split("=", 1) for line in CHILD_ENV_FILE.read_text().splitlines()
             if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def environment() -> dict[str, str]:
    """This process's environment, for starting a child process."""
    return dict(os.environ)


def set_default(name: str, value: str) -> None:
    """Give a variable a value for this process and its children unless it has one."""
    if not os.environ.get(name, "").strip():
        os.environ[name] = value


def readme_table() -> str:
    """The README's settings table, from VARIABLES."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{v.name}` | `{v.default}` | {v.meaning} |" if v.default else f"| `{v.name}` | (none) | {v.meaning} |"
             for v in VARIABLES]
    return "\n".join(rows)


assert {f.name for f in fields(Settings)} == {v.field for v in VARIABLES}, "Settings and VARIABLES disagree"

if __name__ == "__main__":
    sys.stdout.write(readme_table() + "\n")
