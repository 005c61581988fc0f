"""A local HTTP stand-in for Nominatim's search API, for tests.

It answers `GET /search?q=...&format=json` like Nominatim does (a JSON list
of places with lat, lon and display_name), from a small table of known
places, and records every request (query, headers, time) so tests can check
the user agent, the Brussels bounds and the rate limit. `delay` makes it slow.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

from aiohttp import web

KNOWN = {
    "avenue de la toison d'or 1": (50.8368, 4.3590, "Avenue de la Toison d'Or 1, 1050 Ixelles, Belgique"),
    "chaussee de wavre 100": (50.8350, 4.3700, "Chaussée de Wavre 100, 1050 Ixelles, Belgique"),
    "residence imaginaire des tests": (50.8500, 4.3500, "Résidence imaginaire des tests, 1000 Bruxelles, Belgique"),
    "eiffel tower": (48.8584, 2.2945, "Tour Eiffel, Paris, France"),
}


@dataclass
class StandIn:
    delay: float = 0.0
    requests: list = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop = None
    _runner: web.AppRunner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def search(self, request: web.Request) -> web.Response:
        self.requests.append({"time": time.monotonic(), "query": dict(request.query),
                              "user_agent": request.headers.get("User-Agent", "")})
        if self.delay:
            await asyncio.sleep(self.delay)
        from directory.textnorm import fold

        found = next((v for k, v in KNOWN.items() if fold(k) == fold(request.query.get("q", ""))), None)
        if found is None:
            return web.json_response([])
        lat, lon, name = found
        return web.json_response([{"place_id": 1, "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
                                   "lat": str(lat), "lon": str(lon), "display_name": name,
                                   "class": "place", "type": "house", "importance": 0.5}])

    def start(self) -> "StandIn":
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_get("/search", self.search)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
