"""Start and supervise the whole Relais stack: `python -m bot`.

Three kinds of child process, each in its own process group:
  actions  the rasa-sdk action server      (RELAIS_ACTIONS_HOST:PORT, /health;
           callers need RELAIS_ACTIONS_TOKEN: bot/action_server.py)
  rasa     the Rasa server, Relais channel (RELAIS_RASA_HOST:PORT, /status;
           its API and its channel need the per-start token RELAIS_RASA_TOKEN,
           passed in the environment, never on a command line:
           bot/rasa_server.py, bot/channel.py)
  web      the aiohttp web server          (RELAIS_WEB_HOST:PORT, /health)

With RELAIS_RASA_REPLICAS=N (and RELAIS_ACTIONS_REPLICAS=M) it starts N Rasa
servers on RELAIS_RASA_PORT, +1, ... (rasa-1 ... rasa-N), Rasa replica i
calling action server i mod M; several replicas need RELAIS_REDIS_URL, which
the launcher checks first (bot/shared_state.py: reachable, password,
private, nothing on disk) and gives to Rasa through bot/endpoints-redis.yml.

Before starting, it brings the build chain up to date (bot/build_chain.py):
the directory database with the seed, the rendered responses with the
database, and the model with the responses, so no part serves facts older
than the directory.
It waits for each part to answer, prints one line saying where to open the
chat, and then watches: a child that dies is reported (name, exit code or
signal) and restarted, at most MAX_RESTARTS times in RESTART_WINDOW seconds;
past that the launcher stops everything and exits non-zero. Ctrl-C or
SIGTERM stops all children cleanly; children also get SIGKILL from the
kernel if the launcher itself is killed (PR_SET_PDEATHSIG), so none is
left behind.
"""

from __future__ import annotations

import asyncio
import ctypes
import math
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Optional

from aiohttp import ClientSession, ClientTimeout

from bot import settings as settings_mod
from bot import shared_state
from bot.settings import ROOT, Settings, child_env, environment, set_default
from bot.tokens import new_token

MAX_RESTARTS = 3
RESTART_WINDOW = 300.0
STOP_GRACE = 10.0
READY_TIMEOUT = {"actions": 60.0, "rasa": 180.0, "web": 30.0}
# Rasa's Sanic server reads these: a request body of at most 64 KiB (a chat
# turn is under 16 KiB), received within 10 s. The action server sets its own.
RASA_SANIC_LIMITS = {"SANIC_REQUEST_MAX_SIZE": "65536", "SANIC_REQUEST_TIMEOUT": "10"}


def ticket_lock_lifetime(cfg: Settings) -> str:
    """Rasa's conversation lock lifetime (TICKET_LOCK_LIFETIME): the web server's wait for a turn plus 2 s,
    not Rasa's default minute, so that a lock a dead replica left behind soon expires."""
    return str(math.ceil(cfg.rasa_timeout) + 2)


def restart_delay(base: float, deaths: int) -> float:
    """Seconds before restarting a child that died `deaths` times lately:
    `base` (RELAIS_RESTART_DELAY), doubling, at most 10 or that base."""
    return min(base * 2 ** (deaths - 1), max(base, 10.0))


def say(message: str) -> None:
    print(f"[relais] {message}", flush=True)


def _die_with_parent() -> None:
    """In the child, before exec: own process group, SIGKILL when the launcher dies."""
    os.setpgrp()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Child:
    name: str
    argv: list
    health_url: str
    env: dict
    kind: str  # actions, rasa or web
    process: Optional[asyncio.subprocess.Process] = None
    deaths: list = field(default_factory=list)

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, env=self.env, cwd=str(ROOT), preexec_fn=_die_with_parent
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def stop(self) -> None:
        if self.process is None or not self.running:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            await asyncio.wait_for(self.process.wait(), STOP_GRACE)
        except asyncio.TimeoutError:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            await self.process.wait()

    def describe_exit(self) -> str:
        code = self.process.returncode if self.process else None
        if code is None:
            return "is running"
        if code < 0:
            try:
                return f"was killed by signal {signal.Signals(-code).name}"
            except ValueError:
                return f"was killed by signal {-code}"
        return f"exited with code {code}"


def numbered(kind: str, i: int, count: int) -> str:
    """A child's name: its kind alone when it is the only one, else kind-1, kind-2, ..."""
    return kind if count == 1 else f"{kind}-{i + 1}"


def children(cfg: Settings) -> list:
    env = {**environment(), **child_env(), "PYTHONPATH": str(ROOT), "RELAIS_RASA_TOKEN": cfg.rasa_token,
           "RELAIS_DB": str(cfg.db)}
    endpoints = "bot/endpoints-redis.yml" if cfg.redis_url else "bot/endpoints.yml"
    action_urls = cfg.launched_actions_urls()
    actions = [Child(numbered("actions", j, cfg.actions_replicas),
                     [sys.executable, "-m", "bot.action_server", "--port", str(cfg.actions_port + j)],
                     f"{url}/health", env, "actions")
               for j, url in enumerate(action_urls)]
    rasa = [Child(numbered("rasa", i, cfg.rasa_replicas),
                  [sys.executable, "-m", "bot.rasa_server", "run", "--model", str(cfg.model), "--enable-api",
                   "--interface", cfg.rasa_host, "--port", str(cfg.rasa_port + i),
                   "--endpoints", endpoints, "--credentials", "bot/credentials.yml"],
                  f"{url}/status?token={cfg.rasa_token}",
                  {**env, **RASA_SANIC_LIMITS, "RELAIS_ACTION_URL": f"{action_urls[i % len(action_urls)]}/webhook",
                   "TICKET_LOCK_LIFETIME": ticket_lock_lifetime(cfg)}, "rasa")
            for i, url in enumerate(cfg.launched_rasa_urls())]
    web = Child("web", [sys.executable, "-m", "bot.web"], f"{cfg.web_url}/health",
                {k: v for k, v in env.items() if k != "RELAIS_ACTIONS_TOKEN"}, "web")
    return [*actions, *rasa, web]


def check_shared_state(cfg: Settings) -> None:
    """Exit with a clear message when replicas lack Redis or the Redis given is not private."""
    if cfg.rasa_replicas > 1 and not cfg.redis_url:
        raise SystemExit("[relais] RELAIS_RASA_REPLICAS above 1 needs RELAIS_REDIS_URL: the replicas share "
                         "conversations through Redis")
    if cfg.redis_url:
        try:
            shared_state.check_private(cfg.redis_url, cfg.redis_persistence_ok)
        except shared_state.RedisRefused as err:
            raise SystemExit(f"[relais] {err}") from None


def prepare(cfg: Settings) -> None:
    """Database, rendered responses and model current with the seed (bot/build_chain.py), or exit."""
    from bot.build_chain import BuildError, ensure

    try:
        ensure(cfg.db, cfg.model, say, curation_db=cfg.curation_db)
    except BuildError as err:
        raise SystemExit(f"[relais] {err}") from None


async def wait_ready(http: ClientSession, child: Child) -> None:
    deadline = time.monotonic() + READY_TIMEOUT[child.kind]
    while time.monotonic() < deadline:
        if not child.running:
            raise RuntimeError(f"{child.name} {child.describe_exit()} while starting")
        try:
            async with http.get(child.health_url, timeout=ClientTimeout(total=2)) as resp:
                if resp.status == 200 or child.kind == "web":  # web's /health reports the others
                    return
        except (OSError, asyncio.TimeoutError):
            pass
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{child.name} did not answer at {child.health_url.split('?')[0]} "
                       f"within {READY_TIMEOUT[child.kind]:.0f} s")


class Supervisor:
    def __init__(self, cfg: Settings):
        self.cfg = cfg
        self.children = children(cfg)
        self.stopping = asyncio.Event()
        self.failed = False
        self.reloading: Optional[asyncio.Future] = None

    async def start_all(self, http: ClientSession) -> None:
        """Start the action servers, then the Rasa replicas, then the web server; each kind together."""
        for kind in ("actions", "rasa", "web"):
            group = [c for c in self.children if c.kind == kind]
            for child in group:
                say(f"starting {child.name}")
                await child.start()
            await asyncio.gather(*(wait_ready(http, child) for child in group))
            for child in group:
                say(f"{child.name} is ready")

    async def stop_all(self) -> None:
        for child in reversed(self.children):
            await child.stop()

    async def keep(self, http: ClientSession, child: Child) -> None:
        """Restart `child` whenever it dies, until Relais stops; too many deaths stop Relais."""
        while not self.stopping.is_set() and child.process is not None:
            await child.process.wait()
            if self.stopping.is_set():
                return
            say(f"{child.name} {child.describe_exit()}")
            now = time.monotonic()
            child.deaths = [t for t in child.deaths if now - t < RESTART_WINDOW] + [now]
            if len(child.deaths) > MAX_RESTARTS:
                say(f"{child.name} died {len(child.deaths)} times in {RESTART_WINDOW:.0f} s: stopping Relais")
                self.failed = True
                self.stopping.set()
                return
            say(f"restarting {child.name} ({len(child.deaths)}/{MAX_RESTARTS})")
            await asyncio.sleep(restart_delay(self.cfg.restart_delay, len(child.deaths)))
            try:
                await child.start()
                await wait_ready(http, child)
                say(f"{child.name} is ready again")
            except RuntimeError as err:
                say(str(err))
            except Exception as err:  # never let a child's keeper end silently: report, and watch it again
                say(f"{child.name}: restart failed ({type(err).__name__})")

    async def watch(self, http: ClientSession) -> int:
        """Restart children that die, each on its own (a replica restarting does not hold up another's
        restart); returns the exit code of the launcher."""
        keepers = [asyncio.ensure_future(self.keep(http, child)) for child in self.children]
        await self.stopping.wait()
        for keeper in keepers:
            keeper.cancel()
        await asyncio.gather(*keepers, return_exceptions=True)
        return 1 if self.failed else 0

    def reload_model(self) -> None:
        """SIGHUP: load RELAIS_MODEL into the Rasa replicas one at a time (bot/reload.py), once at a time."""
        from bot.reload import reload_all

        if self.reloading is not None and not self.reloading.done():
            say("a model reload is already running")
            return
        say(f"reloading {self.cfg.model.name} into the Rasa replicas")
        self.reloading = asyncio.ensure_future(reload_all(self.cfg, self.cfg.model))

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload_model)
        async with ClientSession() as http:
            try:
                starting = asyncio.ensure_future(self.start_all(http))
                stop = asyncio.ensure_future(self.stopping.wait())
                await asyncio.wait([starting, stop], return_when=asyncio.FIRST_COMPLETED)
                if self.stopping.is_set():
                    starting.cancel()
                    return 0
                stop.cancel()
                starting.result()
                say(f"Relais is ready: open {self.cfg.web_url}/ in your browser (Ctrl-C to stop)")
                return await self.watch(http)
            except RuntimeError as err:
                say(f"could not start: {err}")
                return 1
            finally:
                say("stopping")
                await self.stop_all()
                say("stopped")


def main() -> int:
    set_default("RELAIS_RASA_TOKEN", new_token())
    set_default("RELAIS_ACTIONS_TOKEN", new_token())
    cfg = settings_mod.load()
    check_shared_state(cfg)
    prepare(cfg)
    return asyncio.run(Supervisor(cfg).run())
