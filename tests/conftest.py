"""Shared fixtures: free ports, a built directory, and the real running stack.

`stack` starts `python -m bot` (the launcher: action server, Rasa server and
web server, as a user would) on free loopback ports, waits for its ready
line, and stops it with SIGTERM at the end of the test session.
"""

from __future__ import annotations

import atexit
import http.client
import http.cookies
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot import settings

ROOT = Path(__file__).resolve().parent.parent
DB = settings.load({}).db
MODEL = ROOT / "models" / "relais.tar.gz"
READY_LINE = "Relais is ready"
# Tests send hundreds of requests a minute from one address; the limits have their own test.
NO_RATE_LIMITS = {"RELAIS_RATE_CHAT": "off", "RELAIS_RATE_DIRECTORY": "off", "RELAIS_RATE_SIGNIN": "off",
                  "RELAIS_RATE_PROPOSE": "off"}
# The back office's store of the servers the tests start: never the checkout's own (directory/curation.db).
CURATION_FOLDER = Path(tempfile.mkdtemp(prefix="relais-curation-"))
atexit.register(shutil.rmtree, CURATION_FOLDER, True)
TEST_ENV = {**NO_RATE_LIMITS, "RELAIS_CURATION_DB": str(CURATION_FOLDER / "curation.db")}


# Each test module's tier, for `make test-fast` (unit) and `pytest -m TIER`:
# unit: no server; integration: the web server alone; e2e: the whole stack; browser: Chromium too.
TIERS = {
    "unit": ["test_actions", "test_danger_lexicon", "test_directory", "test_geocoding", "test_importers",
             "test_build_chain", "test_language_detection", "test_logsafe", "test_rasa_server", "test_responses",
             "test_opening", "test_speaker", "test_structure", "test_tracker_store", "test_exact_example",
             "test_live_facts", "test_insights", "test_training_requests", "test_linear_classifier"],
    "integration": ["test_directory_api", "test_http_edge", "test_ratelimit", "test_webserver_degraded", "test_hsds",
                    "test_admin", "test_proposals"],
    "e2e": ["test_e2e_conversations", "test_fuzz", "test_launcher", "test_privacy_security", "test_red_team",
            "test_live_edits", "test_scale_out"],
    "browser": ["test_browser"],
}


def pytest_configure(config) -> None:
    for tier in TIERS:
        config.addinivalue_line("markers", f"{tier}: a test of the {tier} tier (tests/conftest.py TIERS)")


def pytest_collection_modifyitems(config, items) -> None:
    tier_of = {module: tier for tier, modules in TIERS.items() for module in modules}
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        if module not in tier_of:
            raise pytest.UsageError(f"{module} has no tier: add it to TIERS in tests/conftest.py")
        item.add_marker(tier_of[module])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count: int) -> int:
    """The first of `count` consecutive free loopback ports (for the launcher's replicas)."""
    for _ in range(100):
        base = free_port()
        try:
            sockets = []
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError(f"no {count} consecutive free ports")


REDIS_SERVER = "/usr/bin/redis-server"  # Debian's, installed by `make test` (Makefile)


class RedisServer:
    """A real redis-server on a free loopback port, with a password and nothing on disk, in a temporary folder."""

    def __init__(self, persist: bool = False):
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self.folder = Path(tempfile.mkdtemp(prefix="relais-redis-"))
        self.persist = persist
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        config = self.folder / "redis.conf"
        config.write_text("\n".join([
            f"port {self.port}", "bind 127.0.0.1", f"requirepass {self.password}", f"dir {self.folder}",
            'save "3600 1"' if self.persist else 'save ""', "appendonly no", "daemonize no", "loglevel warning",
        ]) + "\n")
        self.process = subprocess.Popen([REDIS_SERVER, str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while self.ping() is not True:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def client(self, decode: bool = True):
        import redis

        return redis.StrictRedis(host="127.0.0.1", port=self.port, password=self.password, decode_responses=decode,
                                 socket_timeout=2)

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:
            return False


@contextmanager
def redis_server(persist: bool = False):
    """A running RedisServer, stopped and its folder removed afterwards."""
    import shutil

    server = RedisServer(persist)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


def post_json(url: str, body, timeout: float = 20.0, raw: bytes | None = None,
              headers: dict | None = None) -> tuple[int, object]:
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})},
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        body_bytes = err.read()
        try:
            return err.code, json.loads(body_bytes)
        except ValueError:
            return err.code, body_bytes.decode("utf-8", "replace")


def fetch(url: str, method: str = "GET", data: bytes | None = None, headers: dict | None = None,
          source: str = "127.0.0.1", timeout: float = 20.0) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One raw HTTP request from the address `source`: (status, headers (case-insensitive), body)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=data,
                     headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.msg, resp.read()
    finally:
        conn.close()


def read_all(sock: socket.socket, limit: float = 2.0) -> bytes:
    """What a raw socket receives until the server closes it (or `limit` s pass without data)."""
    sock.settimeout(limit)
    out = b""
    try:
        while data := sock.recv(65536):
            out += data
    except OSError:
        pass
    return out


def texts(reply: dict) -> str:
    """The text of all messages of a chat answer, one per line."""
    return "\n".join(m["text"] for m in reply["messages"])


def files_written_with(needle: str, since: float) -> tuple[int, list[Path]]:
    """(files scanned, files containing `needle`) among those written under the project
    or the temporary directory since the time `since`."""
    scanned, found = 0, []
    for top in (ROOT, Path(tempfile.gettempdir())):
        for dirpath, _, files in os.walk(top):
            for name in files:
                path = Path(dirpath) / name
                try:
                    st = path.lstat()
                    if not path.is_file() or st.st_mtime < since - 1 or st.st_size > 200_000_000:
                        continue
                    scanned += 1
                    if needle.encode() in path.read_bytes():
                        found.append(path)
                except OSError:
                    continue
    return scanned, found


def get_json(url: str, timeout: float = 10.0) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


@dataclass
class Stack:
    process: subprocess.Popen
    env: dict
    output: list = field(default_factory=list)

    @property
    def web(self) -> str:
        return settings.load(self.env).web_url

    @property
    def rasa(self) -> str:
        return settings.load(self.env).rasa_url

    @property
    def actions(self) -> str:
        return settings.load(self.env).actions_url

    def log(self) -> str:
        return "".join(self.output)

    def wait_for(self, text: str, timeout: float, after: int = 0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in "".join(self.output[after:]):
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.2)
        return False

    @property
    def rasa_channel(self) -> str:
        return f"{self.rasa}/webhooks/relais/webhook"

    @property
    def rasa_auth(self) -> dict:
        return {"Authorization": f"Bearer {self.env['RELAIS_RASA_TOKEN']}"}

    def chat(self, session: str, message: str, lang: str | None = None, **extra) -> dict:
        body = {"session": session, "message": message, **extra}
        if lang:
            body["lang"] = lang
        status, reply = post_json(f"{self.web}/api/chat", body)
        assert status == 200, reply
        return reply


@contextmanager
def web_alone(*, log_path: Path | None = None, **extra_env: str):
    """The web server by itself (Rasa and the action server unreachable) on a free port; yields its URL.

    With `log_path`, the server's output (its log) goes to that file."""
    port = free_port()
    env = {**os.environ, "RELAIS_WEB_PORT": str(port), "RELAIS_RASA_PORT": str(free_port()),
           "RELAIS_ACTIONS_PORT": str(free_port()), "RELAIS_RASA_TOKEN": "t", "RELAIS_GEOCODER_URL": "off",
           **TEST_ENV, **extra_env}
    with open(log_path or os.devnull, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "bot.web"], cwd=ROOT, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/static/chat.css", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the web server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


PART_MARKS = {"actions": b"bot.action_server", "rasa": b"bot.rasa_server", "web": b"bot.web"}


def stack_parts(stack: "Stack") -> dict[str, int]:
    """{part name: pid} of the launcher's children."""
    parts = {}
    for pid in children_of(stack.process.pid):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        parts.update({name: pid for name, mark in PART_MARKS.items() if mark in cmdline})
    return parts


def rasa_replicas(stack: "Stack", module: bytes = b"bot.rasa_server") -> dict[int, int]:
    """{port: pid} of the stack's Rasa replicas (or, with module=b"bot.action_server", its action servers)."""
    replicas = {}
    for pid in children_of(stack.process.pid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if module in argv:
            replicas[int(argv[argv.index(b"--port") + 1])] = pid
    return replicas


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_stack(extra_env: dict | None = None) -> Stack:
    env = {
        **os.environ,
        "RELAIS_WEB_PORT": str(free_port()),
        "RELAIS_RASA_PORT": str(free_port()),
        "RELAIS_ACTIONS_PORT": str(free_port()),
        "RELAIS_GEOCODER_URL": "off",  # tests never reach the public geocoder
        "RELAIS_EXIT_URL": "about:blank",  # nor the neutral site of quick exit
        "RELAIS_RASA_TOKEN": secrets.token_urlsafe(16),  # known to the tests, still secret
        "RELAIS_ACTIONS_TOKEN": secrets.token_urlsafe(16),
        **TEST_ENV,
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    stack = Stack(process, env)

    def pump() -> None:
        for line in process.stdout:
            stack.output.append(line)

    threading.Thread(target=pump, daemon=True).start()
    if not stack.wait_for(READY_LINE, timeout=240):
        stop_stack(stack)
        raise RuntimeError("stack did not start:\n" + stack.log()[-5000:])
    return stack


def stop_stack(stack: Stack) -> int:
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGTERM)
        try:
            stack.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(stack.process.pid, signal.SIGKILL)
            stack.process.wait()
    return stack.process.returncode


@pytest.fixture(scope="session")
def stack():
    if not MODEL.exists() or not DB.exists():
        pytest.fail("run `make test` (it builds the directory and trains the model first)")
    running = start_stack()
    yield running
    stop_stack(running)


@pytest.fixture(scope="session")
def directory():
    from directory.facts import Directory

    d = Directory(DB)
    yield d
    d.close()


PASSWORD = "a long enough pass phrase"  # the test accounts' password


class Browser:
    """One user agent: keeps the back-office cookie, reads the forms' tokens."""

    def __init__(self, url: str):
        self.url, self.cookie = url, ""

    def request(self, path: str, data: dict | None = None) -> tuple[int, dict, str]:
        headers = {"Cookie": f"relais_admin={self.cookie}"} if self.cookie else {}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        status, head, raw = fetch(self.url + path, "POST" if data is not None else "GET", body, headers)
        for value in head.get_all("Set-Cookie") or []:
            morsel = http.cookies.SimpleCookie(value).get("relais_admin")
            if morsel is not None:
                self.cookie = morsel.value
        return status, dict(head.items()), raw.decode("utf-8", "replace")

    def csrf(self, path: str = "/admin") -> str:
        status, _, page = self.request(path)
        assert status == 200, page
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    def sign_in(self, username: str, password: str = PASSWORD) -> int:
        status, _, page = self.request("/admin/sign-in")
        assert status == 200, (status, page)
        token = re.search(r'name="token" value="([^"]+)"', page).group(1)
        status, _, _ = self.request("/admin/sign-in", {"token": token, "username": username, "password": password})
        return status

    def post(self, path: str, **fields: str) -> tuple[int, str]:
        status, _, page = self.request(path, {"csrf": self.csrf(), **fields})
        return status, page
