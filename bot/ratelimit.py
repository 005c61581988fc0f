"""Per-client rate limiting for the web server's API (token buckets).

Each client (its IP address, as the web server sees it) has one bucket per
route group: `chat` (POST /api/chat) and `directory` (GET /api/directory/... and /hsds/...).
A bucket holds `burst` requests and refills at `rate` per minute; a request
that finds it empty gets HTTP 429 with a JSON error and `Retry-After`.

Limits come from RELAIS_RATE_CHAT and RELAIS_RATE_DIRECTORY (bot/settings.py)
as "PER_MINUTE/BURST" (defaults 30/10 and 240/60: a person typing never meets
them, a script does) or "off". The table of buckets is bounded
(MAX_CLIENTS, idle buckets dropped first), so a flood of addresses cannot grow
memory. Behind a reverse proxy every user has the proxy's address: set the
proxy's own limit, or `off` here.

With RELAIS_REDIS_URL set, `SharedRateLimiter` keeps the buckets in Redis
(one small hash per client and group, updated by one Lua script, expiring
once full again), so several web servers share one limit. Its keys name the
client by a keyed hash of its address, never the address. When Redis does
not answer, each web server limits on its own, and asks Redis again only
after RETRY_REDIS seconds (a Redis that hangs costs one request its
timeout, not every request).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional

from bot.shared_state import RATE_KEY_PREFIX, RETRY_REDIS

MAX_CLIENTS = 20000
log = logging.getLogger("relais.web")


@dataclass(frozen=True)
class Limit:
    per_minute: float
    burst: int


def parse_limit(raw: str) -> Optional[Limit]:
    """ "30/10" -> Limit(30, 10); "off" -> None. Raises ValueError otherwise."""
    raw = raw.strip().lower()
    if raw in ("off", "none", "0"):
        return None
    per_minute, _, burst = raw.partition("/")
    limit = Limit(float(per_minute), int(burst or per_minute.split(".")[0]))
    if not (limit.per_minute > 0 and limit.burst >= 1 and math.isfinite(limit.per_minute)):
        raise ValueError(f"not a rate limit: {raw!r}")
    return limit


class RateLimiter:
    """Token buckets keyed by client, oldest-idle evicted past MAX_CLIENTS."""

    def __init__(self, limit: Optional[Limit], max_clients: int = MAX_CLIENTS):
        self.limit = limit
        self.max_clients = max_clients
        self.buckets: "OrderedDict[str, tuple[float, float]]" = OrderedDict()

    def check(self, client: str, now: Optional[float] = None) -> float:
        """0 if the request may go on, else the seconds to wait before retrying."""
        if self.limit is None:
            return 0.0
        now = time.monotonic() if now is None else now
        rate = self.limit.per_minute / 60.0
        tokens, last = self.buckets.pop(client, (float(self.limit.burst), now))
        tokens = min(float(self.limit.burst), tokens + (now - last) * rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / rate
        self.buckets[client] = (tokens, now)
        while len(self.buckets) > self.max_clients:
            self.buckets.popitem(last=False)
        return wait

    async def admit(self, client: str) -> float:
        """`check` for the web server's middleware, which also takes a SharedRateLimiter."""
        return self.check(client)


# KEYS[1]: the bucket; ARGV: rate per second, burst. Redis' own clock, so web servers agree.
TOKEN_BUCKET = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 't', 'l')
local tokens = tonumber(bucket[1]) or burst
local last = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'l', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class SharedRateLimiter:
    """The same token buckets in Redis, shared by every web server (RELAIS_REDIS_URL)."""

    def __init__(self, limit: Optional[Limit], group: str, redis: Any, secret: str):
        self.limit, self.group, self.redis = limit, group, redis
        self.secret = secret.encode()
        self.local = RateLimiter(limit)
        self.script = redis.register_script(TOKEN_BUCKET)
        self.local_until = 0.0

    def key(self, client: str) -> str:
        """The bucket's key: the client by a keyed hash, never its address."""
        digest = hmac.new(self.secret, client.encode(), hashlib.blake2b).hexdigest()[:24]
        return f"{RATE_KEY_PREFIX}{self.group}:{digest}"

    async def admit(self, client: str) -> float:
        """0 if the request may go on, else the seconds to wait; limits locally while Redis is down."""
        if self.limit is None:
            return 0.0
        if time.monotonic() < self.local_until:
            return self.local.check(client)
        try:
            return float(await self.script(keys=[self.key(client)],
                                           args=[self.limit.per_minute / 60.0, self.limit.burst]))
        except Exception as err:  # any Redis failure: this web server limits on its own meanwhile
            log.warning("shared rate limit unavailable (%s): limiting locally for %g s", type(err).__name__,
                        RETRY_REDIS)
            self.local_until = time.monotonic() + RETRY_REDIS
            return self.local.check(client)
