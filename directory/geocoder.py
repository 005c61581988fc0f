"""Network geocoding for what the offline gazetteer cannot resolve.

geopy's Nominatim client, asynchronous through geopy's aiohttp adapter:
- the server is given by the caller (the app's RELAIS_GEOCODER_URL: the
  public https://nominatim.openstreetmap.org or a deployment's own instance;
  "off" disables network geocoding);
- an identifying user agent, at most one request per second for the whole
  process (geopy's AsyncRateLimiter), results limited to the Brussels region
  (viewbox, bounded, country "be");
- every answer, found or not, is cached in SQLite (in memory by default, so
  no place a user typed is written to disk; a path keeps it in a file). An
  in-memory entry lives `memory_ttl` seconds (the app gives the conversation
  lifetime), so a typed address does not outlive the conversation that typed
  it; a file cache keeps found places 30 days and misses an hour;
- a hard deadline (2 s by default): with no network or a slow server the
  answer is "unknown place", never a hang.

`find_place` is the whole chain: the gazetteer (`Directory.resolve_place`),
then this geocoder for what the gazetteer does not know. The app builds its
geocoder from its settings (`bot.settings.Settings.geocoder()`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from typing import Optional
from urllib.parse import urlsplit

from geopy.adapters import AioHTTPAdapter
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import AsyncRateLimiter
from geopy.geocoders import Nominatim

from directory import geo
from directory.places import NotFound, Place, Result
from directory.textnorm import fold

log = logging.getLogger("relais.geocoder")

DEFAULT_USER_AGENT = "Relais-directory/0.1 (library default: give your own)"
FOUND_TTL = 30 * 24 * 3600.0
MISS_TTL = 3600.0
VIEWBOX = [(geo.BRUSSELS_BBOX[0], geo.BRUSSELS_BBOX[1]), (geo.BRUSSELS_BBOX[2], geo.BRUSSELS_BBOX[3])]


class Geocoder:
    """Nominatim behind a rate limiter, a cache and a deadline."""

    def __init__(self, url: str, *, user_agent: str = DEFAULT_USER_AGENT, deadline: float = 2.0,
                 min_delay: float = 1.0, cache_path: str = ":memory:", memory_ttl: float = MISS_TTL):
        """A geocoder asking the Nominatim server at `url` ("off": none).

        >>> Geocoder("off").enabled
        False
        """
        url = url.strip()
        self.enabled = url.lower() not in ("", "off", "none")
        parts = urlsplit(url if "://" in url else f"https://{url}")
        self.scheme, self.domain = parts.scheme or "https", parts.netloc + parts.path.rstrip("/")
        self.user_agent = user_agent
        self.deadline = float(deadline)
        in_memory = cache_path == ":memory:"
        self.found_ttl = memory_ttl if in_memory else FOUND_TTL
        self.miss_ttl = memory_ttl if in_memory else MISS_TTL
        self.cache = sqlite3.connect(cache_path, check_same_thread=False)
        self.cache.execute("create table if not exists geocode_cache (key text primary key, lat real, lon real, "
                           "name text, found integer not null, created real not null)")
        self._limited = AsyncRateLimiter(self._geocode, min_delay_seconds=min_delay, max_retries=0,
                                         swallow_exceptions=False)

    def purge(self, now: Optional[float] = None) -> None:
        """Forget every entry past its time to live."""
        now = time.time() if now is None else now
        with self.cache:
            self.cache.execute("delete from geocode_cache "
                               "where (found = 1 and created < ?) or (found = 0 and created < ?)",
                               (now - self.found_ttl, now - self.miss_ttl))

    def cached(self, key: str) -> Optional[tuple]:
        self.purge()
        row = self.cache.execute("select lat, lon, name, found, created from geocode_cache where key = ?",
                                 (key,)).fetchone()
        if row is None:
            return None
        return row

    def remember(self, key: str, found: Optional[tuple]) -> None:
        lat, lon, name = found if found else (None, None, None)
        with self.cache:
            self.cache.execute("insert or replace into geocode_cache values (?, ?, ?, ?, ?, ?)",
                               (key, lat, lon, name, 1 if found else 0, time.time()))

    async def _geocode(self, query: str, lang: Optional[str]):
        async with Nominatim(domain=self.domain, scheme=self.scheme, user_agent=self.user_agent,
                             adapter_factory=AioHTTPAdapter, timeout=self.deadline) as nominatim:
            return await nominatim.geocode(query, exactly_one=True, language=lang or False, country_codes="be",
                                           viewbox=VIEWBOX, bounded=True)

    async def geocode(self, text: str, lang: Optional[str] = None) -> Optional[Place]:
        """A place in Brussels for `text`, or None (unknown, unreachable or too slow)."""
        if not self.enabled or not isinstance(text, str) or not text.strip():
            return None
        key = f"{lang or ''}|{fold(text)}"
        hit = self.cached(key)
        if hit is not None:
            return Place(hit[2], hit[0], hit[1], "point", "geocoded", None, "geocoder (cached)", "geocoder") \
                if hit[3] else None
        try:
            location = await asyncio.wait_for(self._limited(text.strip(), lang), self.deadline)
        except asyncio.TimeoutError:
            log.warning("geocoder did not answer within %.1f s", self.deadline)
            return None
        except (GeopyError, OSError, ValueError) as err:
            log.warning("geocoder failed: %s", type(err).__name__)
            return None
        if location is None or not geo.in_bbox(location.latitude, location.longitude, geo.BRUSSELS_BBOX):
            self.remember(key, None)
            return None
        found = (location.latitude, location.longitude, location.address)
        self.remember(key, found)
        return Place(location.address, location.latitude, location.longitude, "point", "geocoded", None,
                     f"geocoder {self.domain} (© OpenStreetMap contributors, ODbL)", "geocoder")


async def find_place(directory, text: str, lang: Optional[str], geocoder: Optional[Geocoder]) -> Result:
    """Gazetteer first, then `geocoder` (if any) for what the gazetteer does not know.

    An address with a house number on a known street asks the geocoder for
    the precise point, and keeps the street's point when it gets none.
    """
    place = directory.resolve_place(text)
    wants_geocoder = (isinstance(place, NotFound) and place.reason == "unknown") or \
        (isinstance(place, Place) and place.matched == "street_of_address")
    if not wants_geocoder or geocoder is None:
        return place
    found = await geocoder.geocode(text, lang)
    if found is None:
        return place
    return Place(**{**found.__dict__, "municipality_nis": directory.gazetteer.municipality_at(found.lat, found.lon)})
