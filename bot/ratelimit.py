"""Per-client rate limiting for the web server's API (token buckets).

Each client (its IP address, as the web server sees it) has one bucket per
route group: `chat` (POST /api/chat) and `directory` (GET /api/directory/...).
A bucket holds `burst` requests and refills at `rate` per minute; a request
that finds it empty gets HTTP 429 with a JSON error and `Retry-After`.

Limits come from RELAIS_RATE_CHAT and RELAIS_RATE_DIRECTORY (bot/settings.py)
as "PER_MINUTE/BURST" (defaults 30/10 and 240/60: a person typing never meets
them, a script does) or "off". The table of buckets is bounded
(MAX_CLIENTS, idle buckets dropped first), so a flood of addresses cannot grow
memory. Behind a reverse proxy every user has the proxy's address: set the
proxy's own limit, or `off` here.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

MAX_CLIENTS = 20000


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
