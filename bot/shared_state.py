"""Redis as the shared state of a scaled-out Relais (RELAIS_REDIS_URL).

With one process of each kind (the default, `make run`), conversations, locks
and rate limits live in each process's memory and nothing else is needed.
When RELAIS_REDIS_URL is set, every Rasa replica keeps conversations in Redis
(bot/tracker_store.py `ExpiringRedisTrackerStore`, each key expiring with the
conversation), takes Rasa's conversation locks there (bot/tracker_store.py
`RelaisRedisLockStore`), and every web server shares its rate limits there
(bot/ratelimit.py) and reads which replicas a model reload is draining
(bot/reload.py), so any replica can answer any conversation and several web
servers share one limit. This module holds what they share (the address,
the key names, the check) and imports nothing of Rasa, so that the web
server and the settings do not load it.

Redis must not become a record of who said what: `check_private` refuses a
Redis that writes to disk (RDB snapshots or an append-only file) unless
RELAIS_REDIS_PERSISTENCE_OK=yes, a Redis without a password, and one on a
public address. The launcher checks before it starts anything.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import unquote, urlsplit

SOCKET_TIMEOUT = 2.0  # seconds: a Redis that does not answer makes a turn degraded, not stuck
CONNECT_TIMEOUT = 1.0
KEY_PREFIX = "relais"  # Rasa adds ":tracker:" and ":lock:"
RATE_KEY_PREFIX = f"{KEY_PREFIX}:rate:"  # + route group + ":" + keyed hash of the client (bot/ratelimit.py)
DRAINING_KEY = f"{KEY_PREFIX}:draining"  # the set of Rasa replicas a model reload is draining (bot/reload.py)
DRAIN_CACHE = 0.5  # seconds a web server trusts its copy of the draining set
RETRY_REDIS = 5.0  # seconds a web server does without Redis after it failed (local limits, last drain set)


class RedisRefused(Exception):
    """Relais will not use this Redis (bad address, no password, unreachable, or it writes to disk)."""


@dataclass(frozen=True)
class Connection:
    host: str
    port: int
    db: int
    username: Optional[str]
    password: str = field(repr=False)
    ssl: bool = False

    def client_kwargs(self) -> dict:
        return {"host": self.host, "port": self.port, "db": self.db, "username": self.username,
                "password": self.password, "ssl": self.ssl}


def connection(url: str) -> Connection:
    """The parts of a redis:// or rediss:// address; a password is required.

    >>> connection("redis://:s3cret@127.0.0.1:6390/2")
    Connection(host='127.0.0.1', port=6390, db=2, username=None, ssl=False)
    >>> try:
    ...     connection("redis://127.0.0.1:6379")
    ... except RedisRefused as err:
    ...     print(err)
    the Redis address has no password (redis://:PASSWORD@host:port/db)
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise RedisRefused("a Redis address looks like redis://:PASSWORD@host:port/db")
    if not parts.password:
        raise RedisRefused("the Redis address has no password (redis://:PASSWORD@host:port/db)")
    try:
        port = parts.port or 6379
        db = int(parts.path.strip("/") or 0)
    except ValueError:
        raise RedisRefused("the Redis address has a bad port or database number") from None
    return Connection(parts.hostname, port, db, unquote(parts.username) if parts.username else None,
                      unquote(parts.password), parts.scheme == "rediss")


def client(url: str) -> Any:
    """A synchronous Redis client for `url` (text replies, short timeouts)."""
    import redis

    return redis.StrictRedis(**connection(url).client_kwargs(), decode_responses=True,
                             socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=CONNECT_TIMEOUT)


def async_client(url: str) -> Any:
    """An asyncio Redis client for `url` (for the web server)."""
    import redis.asyncio

    return redis.asyncio.StrictRedis(**connection(url).client_kwargs(), decode_responses=True,
                                     socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=CONNECT_TIMEOUT)


def persistence_problem(save: str, appendonly: str) -> Optional[str]:
    """What makes a Redis with these `save` and `appendonly` settings write conversations to disk, or None.

    >>> persistence_problem("", "no") is None
    True
    >>> persistence_problem("3600 1 300 100", "no")
    'it writes snapshots to disk (save "3600 1 300 100")'
    >>> persistence_problem("", "yes")
    'it writes an append-only file to disk (appendonly yes)'
    """
    if save.strip():
        return f'it writes snapshots to disk (save "{save.strip()}")'
    if appendonly.strip().lower() == "yes":
        return "it writes an append-only file to disk (appendonly yes)"
    return None


def is_private_address(host: str) -> bool:
    """Whether every address of `host` is on loopback or a private network.

    >>> is_private_address("127.0.0.1"), is_private_address("10.1.2.3"), is_private_address("8.8.8.8")
    (True, True, False)
    """
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    return bool(addresses) and all(a.is_private or a.is_loopback for a in addresses)


def check_private(url: str, persistence_ok: bool = False) -> None:
    """Raise RedisRefused unless the Redis at `url` answers, is private and keeps nothing on disk."""
    import redis

    conn = connection(url)
    if not is_private_address(conn.host):
        raise RedisRefused(f"Redis at {conn.host} is not on loopback or a private network")
    r = client(url)
    try:
        r.ping()
        config = {**r.config_get("save"), **r.config_get("appendonly")}
    except redis.AuthenticationError:
        raise RedisRefused(f"Redis at {conn.host}:{conn.port} refused the password") from None
    except redis.ResponseError as err:
        if persistence_ok:
            return
        raise RedisRefused(f"Redis at {conn.host}:{conn.port} does not say whether it writes to disk "
                           f"({type(err).__name__}); set RELAIS_REDIS_PERSISTENCE_OK=yes to accept it") from None
    except redis.RedisError as err:
        raise RedisRefused(f"Redis at {conn.host}:{conn.port} does not answer ({type(err).__name__})") from None
    finally:
        r.close()
    problem = persistence_problem(config.get("save", ""), config.get("appendonly", "no"))
    if problem and not persistence_ok:
        raise RedisRefused(f"Redis at {conn.host}:{conn.port} keeps data: {problem}; turn it off "
                           "(save \"\", appendonly no) or set RELAIS_REDIS_PERSISTENCE_OK=yes")
