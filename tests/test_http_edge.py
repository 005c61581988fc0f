"""The web server at the HTTP-protocol level (bot/http_guard.py): malformed requests, slow clients.

Raw sockets on 127.0.0.1 send requests aiohttp's parser rejects; each must be
answered as a JSON error with the security headers (or the connection
closed), never a 5xx, never quoting the request, and logged as one line
without the request's bytes and without a traceback. Then slow clients: a
header read timeout, a cap on open connections, a body still arriving after
an early answer, and normal requests still served. No trained model is
needed (the web server runs alone).

CI runs this file on a busy 2-core machine: every wait polls with a
deadline, and every time bound is generous (a prompt answer is one within
3 s; a 1 s timeout fires after at least 0.9 s, measured from before the
client's last send, and within 5 s).
"""

from __future__ import annotations

import json
import re
import secrets
import select
import socket
import time
import urllib.request
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import pytest

from tests.conftest import read_all, web_alone

SECURITY = {"content-security-policy": "default-src 'none'", "x-content-type-options": "nosniff"}
LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \S+ [A-Z]+ ")  # how each log line begins


def port_of(url: str) -> int:
    return urlsplit(url).port


def wait_until(condition: Callable[[], bool], limit: float) -> bool:
    """Poll `condition` every 0.05 s for at most `limit` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


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


def bad_request_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if " bad request: " in line]


def path_text(path: Path) -> str:
    return path.read_text("utf-8", "replace")


def log_text(path: Path, until: Callable[[str], bool], limit: float = 5.0) -> str:
    """The server's log as soon as `until(log)` holds (polled: a line may come just after the answer),
    or as it is after `limit` s."""
    text = ""

    def ready() -> bool:
        nonlocal text
        text = path_text(path)
        return until(text)

    wait_until(ready, limit)
    return text


def logged_exchange(url: str, log_path: Path, parts: list[bytes]) -> tuple[bytes, str]:
    """`exchange`, then the server's log once it holds this connection's `bad request:` lines.

    The server logs one such line for each answer that ends the connection
    (a protocol error, or a body the parser rejects) but a 408 or 503; the
    application's own answers (404, 405, an empty body) are not logged.
    """
    before = len(bad_request_lines(path_text(log_path)))
    raw = exchange(port_of(url), parts)
    logged = [s for s, headers, _ in responses(raw) if headers.get("connection") == "close" and s not in (408, 503)]
    log = log_text(log_path, lambda text: len(bad_request_lines(text)) >= before + len(logged))
    assert len(bad_request_lines(log)) >= before + len(logged), log[-2000:]
    return raw, log


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


LOGGED_ONE_OF_EACH = [  # (parts, what its log line names); %M is replaced by a marker unique to the run
    ([b"GARBAGE %M\r\n\r\n"], "BadStatusLine"),
    ([b"GET / HTTP/1.1\r\nHost: x\r\nBad Header%M: x\r\n\r\n"], "BadHttpMessage"),
    ([CHAT + b"Content-Length: abc%M\r\n\r\n"], "BadHttpMessage"),
    ([b"GET /%M" + LONG + b" HTTP/1.1\r\nHost: x\r\n\r\n"], "LineTooLong"),
    ([b"GET http://[%M/ HTTP/1.1\r\nHost: x\r\n\r\n"], "ValueError"),
    ([b"GET / HTTP/1.1\r\nHost: x\r\nX-M: %M\r\n" + b"".join(b"X-%d: c\r\n" % i for i in range(4000)) + b"\r\n"],
     "HeadersTooLarge"),
    ([b"GET / HTTP/1.1\r\nHost: x\r\nExpect: %M\r\n\r\n"], "HTTP 417"),
    ([CHAT + b"Transfer-Encoding: chunked\r\n\r\n", b"-5\r\n%M\r\n"], "in a request body"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log_path = tmp_path_factory.mktemp("http_edge") / "web.log"
    with web_alone(log_path=log_path, RELAIS_HTTP_HEADER_TIMEOUT="2") as url:
        yield url, log_path


@pytest.mark.parametrize("name,parts", SHAPES, ids=[s[0] for s in SHAPES])
def test_malformed_request(server, name, parts):
    url, log_path = server
    marker = "MK" + secrets.token_hex(6)
    raw, log = logged_exchange(url, log_path, [p.replace(b"%M", marker.encode()) for p in parts])
    statuses = check_answer(raw, marker)
    print(f"\n{name}: {statuses or 'closed'}")
    assert marker not in log and marker.lower() not in log.lower()
    assert "Traceback" not in log


def test_malformed_requests_logged_as_one_line(tmp_path):
    """Each protocol error is one log line naming the exception's type and place, nothing of the request."""
    log_path = tmp_path / "web.log"
    marker = "MK" + secrets.token_hex(6)
    with web_alone(log_path=log_path, RELAIS_HTTP_HEADER_TIMEOUT="2") as url:
        statuses = []
        for parts, _ in LOGGED_ONE_OF_EACH:
            raw = exchange(port_of(url), [p.replace(b"%M", marker.encode()) for p in parts])
            statuses.append(check_answer(raw, marker))
        log = log_text(log_path, lambda text: len(bad_request_lines(text)) >= len(LOGGED_ONE_OF_EACH))
    print(f"\nanswered {statuses}\n{log}")
    assert marker not in log and marker.lower() not in log.lower()
    bad = bad_request_lines(log)
    assert len(bad) == len(LOGGED_ONE_OF_EACH), log
    for line, (_, named) in zip(bad, LOGGED_ONE_OF_EACH, strict=True):  # in the order sent
        assert named in line, (named, line)
        # "... web INFO bad request: BadStatusLine at _http_parser.pyx:557"
        assert line.split("bad request: ", 1)[1].split(" at ")[0].replace(" ", "").isalnum(), line
    for line in log.splitlines():  # one line each: no traceback, no continuation line
        assert LOG_RECORD.match(line), line
        assert " ERROR " not in line and "internal error" not in line, line


def test_protocol_error_answer(server):
    """A protocol error: the fixed JSON error, the security headers, Connection: close."""
    url, log_path = server
    raw, _ = logged_exchange(url, log_path, [b"GARBAGE\r\n\r\n"])
    (status, headers, body), = responses(raw)
    assert status == 400
    assert json.loads(body) == {"error": {"code": "bad_request", "message": "The request could not be understood."}}
    assert headers["connection"] == "close"
    assert headers["x-frame-options"] == "DENY"


def test_bad_chunk_fails_the_body_at_once(server):
    """A bad chunk after the headers: answered at once, not after the chat handler's body timeout."""
    url, log_path = server
    started = time.monotonic()
    raw, _ = logged_exchange(url, log_path, [CHAT + b"Transfer-Encoding: chunked\r\n\r\n", b"4\r\n{}\r\nzz\r\n"])
    took = time.monotonic() - started
    (status, headers, body), = responses(raw)
    print(f"\nbad chunk answered in {took:.2f} s")
    assert status == 400 and headers["connection"] == "close" and took < 5.0, (status, took)  # not the 10 s


def test_normal_requests_still_served(server):
    url, _ = server
    with urllib.request.urlopen(f"{url}/static/chat.css", timeout=5) as resp:
        assert resp.status == 200


# -- slow clients ---------------------------------------------------------------


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed `sock` (or answered on it) already, without waiting."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def read_until(sock: socket.socket, complete: Callable[[bytes], bool], limit: float = 5.0) -> bytes:
    """Bytes from `sock` until `complete(bytes so far)`, within `limit` s."""
    deadline = time.monotonic() + limit
    raw = b""
    while not complete(raw):
        left = deadline - time.monotonic()
        assert left > 0, f"no whole answer within {limit} s: {raw[:200]!r}"
        sock.settimeout(left)
        data = sock.recv(65536)
        assert data, f"closed before a whole answer: {raw[:200]!r}"
        raw += data
    return raw


def whole_response(raw: bytes) -> bool:
    head, sep, body = raw.partition(b"\r\n\r\n")
    return bool(sep) and len(body) >= int(responses(head + sep)[0][1].get("content-length", "0"))


def read_response(sock: socket.socket, limit: float = 5.0) -> tuple[int, dict, bytes]:
    """The one response `sock` receives next (status, lower-case headers, body), within `limit` s."""
    (response,) = responses(read_until(sock, whole_response, limit))
    return response


def served(url: str, limit: float = 5.0) -> bool:
    """Whether the page's stylesheet is served within `limit` s (retrying)."""
    def fetched() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/static/chat.css", timeout=limit) as resp:
                return resp.status == 200
        except OSError:
            return False

    return wait_until(fetched, limit)


def test_slow_headers_are_timed_out():
    with web_alone(RELAIS_HTTP_HEADER_TIMEOUT="1") as url:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port_of(url)), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n")
            closed_after = None
            for byte in b"Host: example.org\r\nX-Slow: " + b"s" * 40:  # 58 bytes, 17 s at most
                if wait_until(lambda: closed_by_server(sock), 0.3):
                    closed_after = time.monotonic() - started
                    break
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    closed_after = time.monotonic() - started
                    break
            answer = read_all(sock)
        print(f"\nslow headers closed after {closed_after:.2f} s")
        assert closed_after is not None and 0.9 <= closed_after < 5.0
        if answer:  # 408 JSON first (closing alone would be enough)
            (status, headers, body), = responses(answer)
            assert status == 408 and headers["x-content-type-options"] == "nosniff"
            assert json.loads(body)["error"]["code"] == "header_timeout"
        assert served(url)


def test_keepalive_connection_timed_out_after_a_response():
    """Idle after a response on a keep-alive connection: closed HEADER_TIMEOUT s after it."""
    with web_alone(RELAIS_HTTP_HEADER_TIMEOUT="1") as url:
        with socket.create_connection(("127.0.0.1", port_of(url)), timeout=5) as sock:
            sent = time.monotonic()  # the clock starts after the answer, so after this
            sock.sendall(b"GET /static/chat.css HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, _ = read_response(sock)
            assert status == 200 and headers.get("connection") != "close"
            assert wait_until(lambda: closed_by_server(sock), 6.0)
            closed_after = time.monotonic() - sent
            assert read_all(sock, 0.5) == b""  # idle: closed without an answer
        print(f"\nidle keep-alive connection closed {closed_after:.2f} s after a request")
        assert 0.9 <= closed_after < 5.0


def test_keepalive_timeout():
    """With a longer header timeout, aiohttp's keep-alive timer closes an idle connection."""
    with web_alone(RELAIS_HTTP_HEADER_TIMEOUT="5", RELAIS_HTTP_KEEPALIVE="1") as url:
        with socket.create_connection(("127.0.0.1", port_of(url)), timeout=5) as sock:
            sent = time.monotonic()
            sock.sendall(b"GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, _ = read_response(sock)
            assert status == 404 and headers.get("connection") != "close"
            assert wait_until(lambda: closed_by_server(sock), 6.0)
            closed_after = time.monotonic() - sent
            assert read_all(sock, 0.5) == b""
        print(f"\nkeep-alive connection closed {closed_after:.2f} s after a request")
        assert 0.9 <= closed_after < 5.0  # not the 5 s header timeout


def test_idle_connections_over_the_cap():
    """80 idle connections with a cap of 50: the oldest idle ones are closed, normal requests served."""
    # A header timeout well past the test, so only the cap closes a connection here (with the default 10 s, a
    # slow CI run once saw the 31st closed by its timeout before the count was read).
    with web_alone(RELAIS_HTTP_MAX_CONNECTIONS="50", RELAIS_HTTP_HEADER_TIMEOUT="60") as url:
        port = port_of(url)
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(80)]
        try:
            # The server closes the oldest idle one as it accepts each of the last 30, in order: once
            # 30 are closed, all 80 have been accepted, and no other is closed until a new connection.
            assert wait_until(lambda: sum(map(closed_by_server, socks)) >= 30, 10.0)
            closed = [s for s in socks if closed_by_server(s)]
            assert closed == socks[:30]  # the oldest idle ones
            for s in closed:
                assert read_all(s, 1.0) == b""  # idle: closed without an answer
            started = time.monotonic()
            with urllib.request.urlopen(f"{url}/static/chat.css", timeout=5) as resp:
                assert resp.status == 200
            took = time.monotonic() - started
            wait_until(lambda: sum(map(closed_by_server, socks)) >= 31, 5.0)
            closed_now = [s for s in socks if closed_by_server(s)]
            print(f"\n{len(closed)} of 80 idle connections closed; a request took {took:.3f} s;"
                  f" {len(closed_now)} closed after it")
            assert took < 3.0
            assert closed_now == socks[:31]  # the oldest idle one made room for it
        finally:
            for s in socks:
                s.close()
        for _ in range(3):
            assert served(url)


def test_busy_connections_over_the_cap():
    """When every connection is busy with a request, a new one is answered 503 and closed at once."""
    with web_alone(RELAIS_HTTP_MAX_CONNECTIONS="5") as url:
        port = port_of(url)
        busy = []
        try:
            for _ in range(5):  # each waits for a chat body that does not come
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                busy.append(s)
                s.sendall(CHAT + b"Content-Length: 50\r\nExpect: 100-continue\r\n\r\n")
            for s in busy:  # its headers parsed: a request in progress, not an idle connection
                assert read_until(s, lambda raw: b"\r\n\r\n" in raw, 10.0).startswith(b"HTTP/1.1 100 Continue")
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=5) as extra:
                answer = read_all(extra, 5.0)
            took = time.monotonic() - started
            print(f"\nbusy server refused a connection in {took:.3f} s")
            (status, headers, body), = responses(answer)
            assert status == 503 and headers["connection"] == "close"
            assert "default-src 'none'" in headers["content-security-policy"]
            assert json.loads(body)["error"]["code"] == "busy"
            assert took < 3.0
            assert not any(map(closed_by_server, busy))  # the busy ones are kept
        finally:
            for s in busy:
                s.close()
        assert served(url)  # the busy handlers end when their connections close


# -- a body still arriving after an early answer ---------------------------------

CHAT_HEAD = b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
NO_ROUTE_HEAD = b"POST /no/such/route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
HELLO = b'{"session":"abcdefgh1234","message":"hello"}'
EARLY = [  # (case, request head, body size, environment, the status answered before the body is read)
    ("429", CHAT_HEAD, 3000, {"RELAIS_RATE_CHAT": "1/1"}, 429),
    ("404", NO_ROUTE_HEAD, 3000, {}, 404),
    ("413, 40 KiB", CHAT_HEAD, 40 * 1024, {}, 413),
    ("404, 40 KiB", NO_ROUTE_HEAD, 40 * 1024, {}, 404),
]


@pytest.mark.parametrize("head, size, env, status", [case[1:] for case in EARLY], ids=[case[0] for case in EARLY])
def test_a_body_arriving_after_an_early_answer_is_not_taken_for_headers(head, size, env, status):
    """A request answered before its body is read (a 429, 404, 413), the body then arriving in 3
    pieces 0.2 s apart on the keep-alive connection: its bytes are neither slow headers (no 408) nor
    headers over 32 KiB (no 431); the connection, idle once the body is in, closes silently after
    the header timeout."""
    with web_alone(RELAIS_HTTP_HEADER_TIMEOUT="1", **env) as url:
        with socket.create_connection(("127.0.0.1", port_of(url)), timeout=5) as sock:
            if status == 429:  # the one chat message a minute allowed
                sock.sendall(head + b"Content-Length: %d\r\n\r\n" % len(HELLO) + HELLO)
                assert read_response(sock)[0] == 200
            sock.sendall(head + b"Content-Length: %d\r\n\r\n" % size)
            answered, headers, _ = read_response(sock)  # before any of its body was sent
            assert answered == status and headers.get("connection") != "close", (answered, headers)
            piece = -(-size // 3)
            for i in range(3):
                if i:
                    time.sleep(0.2)
                last_sent = time.monotonic()
                sock.sendall(b"x" * min(piece, size - i * piece))
            assert wait_until(lambda: closed_by_server(sock), 8.0)
            closed_after = time.monotonic() - last_sent
            after = read_all(sock, 1.0)
        print(f"\nidle after the body: closed {closed_after:.2f} s after its last piece")
        assert after == b"", responses(after)  # nothing unrequested: no 408, no 431
        assert 0.9 <= closed_after < 5.0


def test_the_request_after_an_early_answered_body():
    """The next request on that connection starts with the byte after the body: served when whole;
    begun in the body's last packet and left unfinished, timed out with a 408."""
    with web_alone(RELAIS_HTTP_HEADER_TIMEOUT="1") as url:
        for tail, expected in ((b"GET /static/chat.css HTTP/1.1\r\nHost: x\r\n\r\n", 200),
                               (b"GET /static/chat.css HTTP/1.1\r\nHo", 408)):
            with socket.create_connection(("127.0.0.1", port_of(url)), timeout=5) as sock:
                sock.sendall(NO_ROUTE_HEAD + b"Content-Length: 3000\r\n\r\n")
                assert read_response(sock)[0] == 404
                sock.sendall(b"x" * 1500)
                time.sleep(0.2)
                sent = time.monotonic()
                sock.sendall(b"x" * 1500 + tail)
                status, headers, body = read_response(sock)
                took = time.monotonic() - sent
                assert status == expected, (status, body)
                if expected == 408:
                    print(f"\nunfinished request after a body answered 408 after {took:.2f} s")
                    assert json.loads(body)["error"]["code"] == "header_timeout"
                    assert headers["connection"] == "close" and 0.9 <= took < 5.0
