"""The web server at the HTTP-protocol level (bot/http_guard.py): malformed requests, slow clients.

Raw sockets on 127.0.0.1 send requests aiohttp's parser rejects; each must be
answered as a JSON error with the security headers (or the connection
closed), never a 5xx, never quoting the request, and logged as one line
without the request's bytes and without a traceback. Then slow clients: a
header read timeout, a cap on open connections, and normal requests still
served. No trained model is needed (the web server runs alone).
"""

from __future__ import annotations

import json
import os
import secrets
import select
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import NO_RATE_LIMITS, ROOT, free_port, web_alone

SECURITY = {"content-security-policy": "default-src 'none'", "x-content-type-options": "nosniff"}


@contextmanager
def logged_web(**extra_env: str):
    """`web_alone` with the server's log in a file: yields (URL, log path)."""
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "web.log"
        with web_alone(log_path=log_path, **extra_env) as url:
            yield url, log_path


def port_of(url: str) -> int:
    return urlsplit(url).port


def exchange(port: int, parts: list[bytes], pause: float = 0.2, limit: float = 5.0) -> bytes:
    """Send `parts` (pausing between them), then read until the server closes (at most `limit` s)."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        try:
            for i, part in enumerate(parts):
                if i:
                    time.sleep(pause)
                sock.sendall(part)
        except OSError:  # closed by the server while sending: read what it answered
            pass
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                break
            except OSError:  # reset
                break
            if not data:
                break
            out += data
    return out


def responses(raw: bytes) -> list[tuple[int, dict, bytes]]:
    """The HTTP responses in `raw`: (status, lower-case headers, body)."""
    found = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        assert sep, f"a truncated response: {raw[:200]!r}"
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        found.append((status, headers, rest[:length]))
        raw = rest[length:]
    return found


def check_answer(raw: bytes, marker: str) -> list[int]:
    """The checks common to every malformed request; returns the statuses answered."""
    assert marker.encode() not in raw and marker.lower().encode() not in raw.lower(), raw[:500]
    statuses = []
    for status, headers, body in responses(raw):
        statuses.append(status)
        assert status < 500, (status, body)
        for name, value in SECURITY.items():
            assert value in headers.get(name, ""), (name, headers)
        if status >= 400:
            assert headers.get("content-type", "").startswith("application/json"), headers
            error = json.loads(body)["error"]
            assert set(error) == {"code", "message"} and error["code"], error
    return statuses


def log_text(path: Path, settle: float = 0.3, limit: float = 5.0) -> str:
    """The server's log once it has stopped growing for `settle` s (it logs just after answering)."""
    deadline = time.monotonic() + limit
    size = -1
    while time.monotonic() < deadline and path.stat().st_size != size:
        size = path.stat().st_size
        time.sleep(settle)
    return path.read_text("utf-8", "replace")


LONG = b"a" * 9000
CHAT = b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
CHAT_BODY = b'{"session":"abcdefgh1234","message":"%M"}'

# (name, parts sent with a pause between them); %M is replaced by a marker unique to the case.
SHAPES = [
    ("garbage line", [b"%M\r\n\r\n"]),
    ("garbage words", [b"GARBAGE %M NONSENSE\r\n\r\n"]),
    ("no version", [b"GET /%M\r\n\r\n"]),
    ("bad version", [b"GET / HTTP/1.1%M\r\nHost: x\r\n\r\n"]),
    ("version 9.9", [b"GET /%M HTTP/9.9\r\nHost: x\r\n\r\n"]),
    ("http2 preface", [b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n%M"]),
    ("tls hello", [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03%M\r\n\r\n"]),
    ("non-ascii method", [b"G\xc9T /%M HTTP/1.1\r\nHost: x\r\n\r\n"]),
    ("separator in method", [b"G(ET /%M HTTP/1.1\r\nHost: x\r\n\r\n"]),
    ("nul in request line", [b"GET /\x00%M HTTP/1.1\r\nHost: x\r\n\r\n"]),
    ("bad absolute uri", [b"GET http://[%M/ HTTP/1.1\r\nHost: x\r\n\r\n"]),
    ("bad percent", [b"GET /%zz%M HTTP/1.1\r\nHost: x\r\n\r\n"]),
    ("request line over 8 KiB", [b"GET /%M" + LONG + b" HTTP/1.1\r\nHost: x\r\n\r\n"]),
    ("bare LF", [b"GET /%M HTTP/1.1\nHost: x\n\n"]),
    ("content-length not a number", [b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc%M\r\n\r\n"]),
    ("content-length negative", [b"POST /api/chat HTTP/1.1\r\nHost: x\r\nX-M: %M\r\nContent-Length: -1\r\n\r\n"]),
    ("content-length overflow", [CHAT + b"X-M: %M\r\nContent-Length: 99999999999999999999999\r\n\r\n"]),
    ("two content-lengths", [CHAT + b"Content-Length: 5\r\nContent-Length: 7\r\n\r\n%M"]),
    ("content-length and chunked",
     [CHAT + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n%M\r\n0\r\n\r\n"]),
    ("unknown transfer-encoding", [CHAT + b"Transfer-Encoding: %M\r\n\r\n"]),
    ("chunked then identity", [CHAT + b"Transfer-Encoding: chunked, identity\r\n\r\n5\r\n%M\r\n0\r\n\r\n"]),
    ("bad chunk size", [CHAT + b"Transfer-Encoding: chunked\r\n\r\nzz%M\r\n"]),
    ("bad chunk size later", [CHAT + b"Transfer-Encoding: chunked\r\n\r\n", b"-5\r\n%M\r\n"]),
    ("huge chunk size", [CHAT + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffffff\r\n%M\r\n"]),
    ("chunk without crlf", [CHAT + b"Transfer-Encoding: chunked\r\n\r\n3\r\n%Mxyz\r\n0\r\n\r\n"]),
    ("bad chunk extension", [CHAT + b"Transfer-Encoding: chunked\r\n\r\n2;\x01%M\r\nab\r\n0\r\n\r\n"]),
    ("invalid header name", [b"GET / HTTP/1.1\r\nHost: x\r\nBad Header%M: 1\r\n\r\n"]),
    ("non-ascii header name", [b"GET / HTTP/1.1\r\nHost: x\r\nX-\xff%M: 1\r\n\r\n"]),
    ("header without colon", [b"GET / HTTP/1.1\r\nHost: x\r\nNoColon%M\r\n\r\n"]),
    ("space before colon", [b"GET / HTTP/1.1\r\nHost : %M\r\n\r\n"]),
    ("leading space header", [b"GET / HTTP/1.1\r\n Host: %M\r\n\r\n"]),
    ("folded header", [b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n %M\r\n\r\n"]),
    ("nul in header value", [b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00%M\r\n\r\n"]),
    ("bare CR in header value", [b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r%M\r\n\r\n"]),
    ("header line over 8190 bytes", [b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: %M" + LONG + b"\r\n\r\n"]),
    ("headers over 32 KiB", [b"GET / HTTP/1.1\r\nHost: x\r\nX-M: %M\r\n"
                             + b"".join(b"X-%d: %s\r\n" % (i, b"b" * 4000) for i in range(10)) + b"\r\n"]),
    ("many small headers", [b"GET / HTTP/1.1\r\nHost: x\r\nX-M: %M\r\n"
                            + b"".join(b"X-%d: c\r\n" % i for i in range(4000)) + b"\r\n"]),
    ("headers over 32 KiB in pieces", [b"GET / HTTP/1.1\r\nHost: x\r\nX-M: %M\r\n"]
     + [b"X-%d: %s\r\n" % (i, b"d" * 4000) for i in range(10)]),
    ("unknown expect", [b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-%M\r\n\r\n"]),
    ("unknown expect on chat", [CHAT + b"Content-Length: 2\r\nExpect: %M\r\n\r\n{}"]),
    ("chat without length", [CHAT + b"\r\n" + CHAT_BODY]),
    ("chat without length, body later", [CHAT + b"\r\n", CHAT_BODY]),
    ("pipelined garbage", [b"GET /static/chat.css HTTP/1.1\r\nHost: x\r\n\r\n%M\r\n\r\n"]),
    ("websocket upgrade", [b"GET /api/chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           b"Sec-WebSocket-Key: %M\r\nSec-WebSocket-Version: 13\r\n\r\n"]),
    ("connect method", [b"CONNECT %M:443 HTTP/1.1\r\nHost: x\r\n\r\n"]),
]
RESULTS: dict = {}  # name -> statuses answered, for the summary test


@pytest.fixture(scope="module")
def server():
    with logged_web(RELAIS_HTTP_HEADER_TIMEOUT="2") as running:
        yield running


@pytest.mark.parametrize("name,parts", SHAPES, ids=[s[0] for s in SHAPES])
def test_malformed_request(server, name, parts):
    url, log_path = server
    marker = "MK" + secrets.token_hex(6)
    sent = [p.replace(b"%M", marker.encode()) for p in parts]
    raw = exchange(port_of(url), sent)
    RESULTS[name] = check_answer(raw, marker) or ["close"]
    log = log_text(log_path)
    assert marker not in log and marker.lower() not in log.lower()
    assert "Traceback" not in log


def test_malformed_requests_logged_as_one_line(server):
    url, log_path = server
    for parts in ([b"GARBAGE\r\n\r\n"], [b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"],
                  [CHAT + b"Content-Length: abc\r\n\r\n"]):
        exchange(port_of(url), parts)
    log = log_text(log_path)
    assert "Traceback" not in log
    bad = [line for line in log.splitlines() if "bad request:" in line]
    assert bad, log[-2000:]
    for line in bad:  # "... web INFO bad request: BadStatusLine at _http_parser.pyx:557"
        assert line.split("bad request: ", 1)[1].split(" at ")[0].replace(" ", "").isalnum(), line
    assert not [line for line in log.splitlines() if " ERROR " in line or "internal error" in line]
    print("\n" + "\n".join(f"{name}: {statuses}" for name, statuses in RESULTS.items()))
    assert len(SHAPES) >= 30


def test_protocol_error_answer(server):
    """A protocol error: the fixed JSON error, the security headers, Connection: close."""
    url, _ = server
    (status, headers, body), = responses(exchange(port_of(url), [b"GARBAGE\r\n\r\n"]))
    assert status == 400
    assert json.loads(body) == {"error": {"code": "bad_request", "message": "The request could not be understood."}}
    assert headers["connection"] == "close"
    assert headers["x-frame-options"] == "DENY"


def test_bad_chunk_fails_the_body_at_once(server):
    """A bad chunk after the headers: answered at once, not after the chat handler's body timeout."""
    url, _ = server
    started = time.monotonic()
    raw = exchange(port_of(url), [CHAT + b"Transfer-Encoding: chunked\r\n\r\n", b"4\r\n{}\r\nzz\r\n"])
    took = time.monotonic() - started
    (status, headers, body), = responses(raw)
    assert status == 400 and headers["connection"] == "close" and took < 5.0, (status, took)  # not the 10 s body timeout


def test_normal_requests_still_served(server):
    url, _ = server
    with urllib.request.urlopen(f"{url}/static/chat.css", timeout=5) as resp:
        assert resp.status == 200


# -- slow clients ---------------------------------------------------------------


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed `sock` (or answered on it) already, without waiting."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def wait_until(condition, limit: float) -> bool:
    """Poll `condition` every 0.05 s for at most `limit` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def read_all(sock: socket.socket, limit: float = 2.0) -> bytes:
    sock.settimeout(limit)
    out = b""
    try:
        while data := sock.recv(65536):
            out += data
    except OSError:
        pass
    return out


def test_slow_headers_are_timed_out():
    with web_alone(RELAIS_HTTP_HEADER_TIMEOUT="1") as url:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port_of(url)), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n")
            closed_after = None
            for byte in b"Host: example.org\r\nX-Slow: " + b"s" * 40:  # 58 bytes, 17 s at most
                time.sleep(0.3)
                if closed_by_server(sock):
                    closed_after = time.monotonic() - started
                    break
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    closed_after = time.monotonic() - started
                    break
            answer = read_all(sock)
        print(f"\nslow headers closed after {closed_after:.2f} s")
        assert closed_after is not None and closed_after < 5.0
        if answer:  # 408 JSON first (closing alone would be enough)
            (status, headers, body), = responses(answer)
            assert status == 408 and headers["x-content-type-options"] == "nosniff"
            assert json.loads(body)["error"]["code"] == "header_timeout"
        with urllib.request.urlopen(f"{url}/static/chat.css", timeout=5) as resp:
            assert resp.status == 200


def test_keepalive_connection_timed_out_after_a_response():
    """Idle after a response on a keep-alive connection: closed HEADER_TIMEOUT s after it."""
    with web_alone(RELAIS_HTTP_HEADER_TIMEOUT="1") as url:
        with socket.create_connection(("127.0.0.1", port_of(url)), timeout=5) as sock:
            sock.sendall(b"GET /static/chat.css HTTP/1.1\r\nHost: x\r\n\r\n")
            first = b""
            for _ in range(100):  # the whole first response
                first += sock.recv(65536)
                head, sep, body = first.partition(b"\r\n\r\n")
                if sep and len(body) >= int(responses(head + sep)[0][1]["content-length"]):
                    break
            answered = time.monotonic()
            assert first.startswith(b"HTTP/1.1 200") and b"Connection: close" not in head
            closed_after = None
            for _ in range(30):  # 3 s at most
                time.sleep(0.05)
                if closed_by_server(sock):
                    assert read_all(sock, 0.5) == b""  # idle: closed without an answer
                    closed_after = time.monotonic() - answered
                    break
        print(f"\nidle keep-alive connection closed {closed_after:.2f} s after a response")
        assert closed_after is not None and 0.8 < closed_after < 5.0


def test_keepalive_timeout():
    """With a longer header timeout, aiohttp's keep-alive timer closes an idle connection."""
    with web_alone(RELAIS_HTTP_HEADER_TIMEOUT="5", RELAIS_HTTP_KEEPALIVE="1") as url:
        with socket.create_connection(("127.0.0.1", port_of(url)), timeout=5) as sock:
            sock.sendall(b"GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n")
            wait_until(lambda: closed_by_server(sock), 2.0)
            (status, headers, _), = responses(sock.recv(65536))
            assert status == 404 and headers.get("connection") != "close"
            answered = time.monotonic()
            assert wait_until(lambda: closed_by_server(sock), 3.0)
            assert read_all(sock, 0.5) == b""
            closed_after = time.monotonic() - answered
        print(f"\nkeep-alive connection closed {closed_after:.2f} s after a response")
        assert 0.8 < closed_after < 5.0


def test_idle_connections_over_the_cap():
    """80 idle connections with a cap of 50: the oldest idle ones are closed, normal requests served."""
    with web_alone(RELAIS_HTTP_MAX_CONNECTIONS="50") as url:
        port = port_of(url)
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(80)]
        try:
            wait_until(lambda: sum(map(closed_by_server, socks)) >= 30, 10.0)
            time.sleep(0.2)  # and no more
            closed = [s for s in socks if closed_by_server(s)]
            assert closed == socks[:30]  # the oldest idle ones
            for s in closed:
                assert read_all(s, 1.0) == b""  # idle: closed without an answer
            started = time.monotonic()
            with urllib.request.urlopen(f"{url}/static/chat.css", timeout=5) as resp:
                assert resp.status == 200
            took = time.monotonic() - started
            wait_until(lambda: sum(map(closed_by_server, socks)) >= 31, 5.0)
            closed_now = sum(map(closed_by_server, socks))
            print(f"\n{len(closed)} of 80 idle connections closed; a request took {took:.3f} s;"
                  f" {closed_now} closed after it")
            assert len(closed) == 30
            assert took < 3.0
            assert closed_now == 31  # the oldest idle one made room for it
        finally:
            for s in socks:
                s.close()
        time.sleep(0.2)
        for _ in range(3):
            with urllib.request.urlopen(f"{url}/static/chat.css", timeout=5) as resp:
                assert resp.status == 200


def test_busy_connections_over_the_cap():
    """When every connection is busy with a request, a new one is answered 503 and closed at once."""
    with web_alone(RELAIS_HTTP_MAX_CONNECTIONS="5") as url:
        port = port_of(url)
        busy = []
        try:
            for _ in range(5):  # each waits for a chat body that does not come
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(CHAT + b"Content-Length: 50\r\n\r\n")
                busy.append(s)
            time.sleep(2.0)  # the server has parsed their headers: they are busy, not idle
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=5) as extra:
                answer = read_all(extra, 3.0)
            took = time.monotonic() - started
            print(f"\nbusy server refused a connection in {took:.3f} s")
            (status, headers, body), = responses(answer)
            assert status == 503 and headers["connection"] == "close"
            assert "default-src 'none'" in headers["content-security-policy"]
            assert json.loads(body)["error"]["code"] == "busy"
            assert took < 3.0
        finally:
            for s in busy:
                s.close()
        deadline = time.monotonic() + 5
        while True:  # the busy handlers end when their connections close
            try:
                with urllib.request.urlopen(f"{url}/static/chat.css", timeout=5) as resp:
                    assert resp.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)


def first_response_length(raw: bytes) -> int:
    head, _, _ = raw.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    return len(head) + 4 + length


@pytest.mark.parametrize("path, size", [("/api/chat", 3000), ("/no/such/route", 40 * 1024)])
def test_a_body_still_arriving_after_an_early_answer_is_not_taken_for_headers(path, size):
    """A request answered before its body is read (429, 404): the rest of its body, in pieces, is
    neither timed out as slow headers (no 408) nor counted as headers (no 431); the idle connection
    then closes silently."""
    with web_alone(RELAIS_RATE_CHAT="1/1", RELAIS_HTTP_HEADER_TIMEOUT="1") as url:
        with socket.create_connection(("127.0.0.1", port_of(url)), timeout=10) as sock:
            message = b'{"session":"abcdefgh1234","message":"' + b"x" * (size - 50) + b'"}'
            head = b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            head += b"Content-Length: %d\r\n\r\n" % len(message)
            if path == "/api/chat":  # the one message a minute allowed, answered
                sock.sendall(head + message)
                first = b""
                while len(first) < 20 or len(first) < first_response_length(first):
                    first += sock.recv(65536)
            sock.sendall(head + message[:1000])
            for start in range(1000, len(message), len(message) // 3):
                time.sleep(0.4)
                sock.sendall(message[start:start + len(message) // 3])
            rest = read_all(sock, 8.0)
        statuses = [status for status, _, _ in responses(rest)]
        assert statuses == [429 if path == "/api/chat" else 404], statuses
