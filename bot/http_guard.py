"""The web server's HTTP connection layer: protocol errors, slow clients, connection cap.

`run(app, host, port)` replaces `aiohttp.web.run_app` for the web server
(bot/web/__main__.py). It serves the same application with three
changes below the application, where aiohttp's own code answers:

- HTTP protocol errors (a request aiohttp's parser rejects: bad request line,
  bad header, bad Content-Length or chunk size, line too long, ...; and an
  HTTP error raised outside the application's middlewares, such as the 417 of
  an unknown `Expect:`) are answered as JSON
  `{"error": {"code": "bad_request", "message": "..."}}` with a fixed
  message, the security headers of every other response and
  `Connection: close`. aiohttp would answer in plain text quoting the bytes it
  could not parse, and log them with a traceback: here nothing of the request
  is echoed, and the log has one line from `relais.web`, such as
  `bad request: BadStatusLine at _http_parser.pyx:557` (`logsafe.describe`:
  the exception's type and where it was raised, never its message). A parser
  error in the body of a request being handled fails that body at once (the
  handler reads a ConnectionError; the chat handler answers 400) and the
  connection is closed after that answer, rather than the handler waiting for
  a body that cannot come.
- Slow clients are timed out: a connection must complete its request line and
  headers within RELAIS_HTTP_HEADER_TIMEOUT seconds of opening, or of the end
  of the previous response on a keep-alive connection; otherwise it is closed
  (with a 408 JSON answer if it had sent part of a request, silently if it had
  sent nothing), and one that sends more than MAX_HEADER_BYTES without
  completing them, or whose headers exceed that size, is answered 431
  (aiohttp's C parser limits each line, not their number). After a request
  answered before its body was read (a 429, 413, 415, 404, 405: aiohttp
  reads and discards the rest of that body after the answer, for up to its
  lingering time of 10 s, then closes the connection), the clock starts, and
  bytes count as header bytes, only once that body is completely in: its
  bytes are never taken for a slow (408) or oversized (431) request, and no
  unrequested answer is sent while a body is still arriving. An idle
  keep-alive connection is thus closed after
  min(RELAIS_HTTP_HEADER_TIMEOUT, RELAIS_HTTP_KEEPALIVE) seconds (aiohttp's
  keep-alive timer is RELAIS_HTTP_KEEPALIVE). Reading a request body is the
  handler's business (bot/web/chat.py BODY_TIMEOUT).
- At most RELAIS_HTTP_MAX_CONNECTIONS connections are open at once. A new
  connection past the cap closes the connection that has waited longest for
  its request headers (idle or slow: a normal client sends its request at
  once), the way a production server drains idle connections; when every
  open connection is busy with a request, the new one is answered 503 (JSON)
  and closed at once.

The three limits are settings (bot/settings.py): RELAIS_HTTP_HEADER_TIMEOUT,
RELAIS_HTTP_MAX_CONNECTIONS and RELAIS_HTTP_KEEPALIVE.

SIGINT and SIGTERM stop the server cleanly (the launcher sends SIGTERM to the
web server's process group): no new connection, idle connections closed,
requests in progress given SHUTDOWN_TIMEOUT seconds, then the app's cleanup.

aiohttp internals relied on (the pin is aiohttp 3.9.5, requirements/lock.txt;
check them again when it changes):
- `aiohttp.web_protocol.RequestHandler`: `handle_error()` (called by
  `_make_error_handler` for parser errors and by `_handle_request` for a 500),
  `log_exception()`, `connection_made/connection_lost/data_received`,
  `finish_response()` (end of each response), `close()`, `force_close()`,
  and its attributes `_manager`, `_messages` (requests parsed, not yet
  handled, with `web_protocol._ErrInfo` for a parser error, as its
  `data_received` queues them), `_request_count`, `_waiter`,
  `_current_request`, `_force_close`, `_close`, `_loop`; the request
  parser feeds a body into `request.content` (a StreamReader: `is_eof()`,
  `total_bytes`) and parses the next request only after that body's end;
- `aiohttp.web_request.BaseRequest._cancel()` (fails a request's body, as
  aiohttp does when a connection is lost);
- `aiohttp.web_server.Server`: `__call__` (the protocol factory),
  `_connections`, `_kwargs`, `_loop`, `request_handler`, `request_factory`,
  `handler_cancellation`;
- `aiohttp.web_runner.AppRunner._make_server` (returns the app's Server).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from typing import Any, Optional

from aiohttp import web
from aiohttp.streams import EMPTY_PAYLOAD
from aiohttp.web_protocol import RequestHandler, _ErrInfo
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse
from aiohttp.web_server import Server

from bot.logsafe import describe
from bot.web.errors import SECURITY_HEADERS

log = logging.getLogger("relais.web")

MAX_HEADER_BYTES = 32768  # a request line and headers (aiohttp's max_headers, which its C parser ignores)
SHUTDOWN_TIMEOUT = 5.0  # seconds for requests in progress at SIGTERM (the launcher waits 10)

BAD_REQUEST = "The request could not be understood."
INTERNAL_ERROR = "Something went wrong on our side."
TIMEOUT = "The request took too long to arrive."
BUSY = "The server is busy: please try again in a moment."
REASONS = {408: "Request Timeout", 503: "Service Unavailable"}


class HeadersTooLarge(Exception):
    """More than MAX_HEADER_BYTES received without a complete request line and headers."""


def headers_too_large() -> HeadersTooLarge:
    """A HeadersTooLarge with a traceback, for `describe`."""
    try:
        raise HeadersTooLarge()
    except HeadersTooLarge as exc:
        return exc


def _security_headers() -> dict:
    return {**SECURITY_HEADERS, "Cache-Control": "no-store", "Connection": "close"}


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def json_error(status: int) -> web.Response:
    """The JSON answer to a request aiohttp could not hand to the application."""
    if status >= 500:
        body = error_body("internal_error", INTERNAL_ERROR)
    else:
        body = error_body("bad_request", BAD_REQUEST)
    response = web.Response(status=status, body=body, content_type="application/json",
                            headers=_security_headers())
    response.force_close()
    return response


def raw_answer(status: int, code: str, message: str) -> bytes:
    """A whole HTTP/1.1 response, for a connection with no request to answer (408, 503)."""
    body = error_body(code, message)
    head = [f"HTTP/1.1 {status} {REASONS[status]}", "Content-Type: application/json; charset=utf-8",
            f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in _security_headers().items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body


def guard_handler(handler):
    """The application's handler, with HTTP errors raised outside its middlewares answered as JSON.

    aiohttp calls a route's expect handler before the middlewares: an unknown
    `Expect:` raises a 417 whose text quotes the header.
    """
    async def guarded(request: BaseRequest) -> StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            log.info("bad request: HTTP %s before the application", exc.status)
            return json_error(exc.status)

    return guarded


class GuardedRequestHandler(RequestHandler):
    """aiohttp's HTTP protocol with JSON protocol errors and a header read timeout."""

    __slots__ = ("_header_timer", "_partial", "_header_bytes", "_unparsable", "_draining")

    def __init__(self, manager: "GuardedServer", **kwargs: Any):
        super().__init__(manager, **kwargs)
        self._header_timer: Optional[asyncio.TimerHandle] = None
        self._partial = False  # bytes of a request received since the header clock started
        self._header_bytes = 0  # bytes received since the header clock started
        self._unparsable = False  # a parser error is queued
        self._draining: Optional[BaseRequest] = None  # a request answered before its body was all in

    # -- the header timeout and the connection cap --------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        manager = self._manager
        assert isinstance(manager, GuardedServer)
        if not manager.make_room():
            self._manager = None  # not counted: connection_lost does nothing
            self._force_close = True  # data_received ignores anything
            transport.write(raw_answer(503, "busy", BUSY))  # type: ignore[attr-defined]
            transport.close()
            return
        super().connection_made(transport)
        self._start_header_clock()

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self._stop_header_clock()
        self._draining = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._unparsable:  # a parser error is queued: the connection ends after its answer
            return
        parsed, waiting = self._request_count, self._header_timer is not None
        body_left = self._body_left()
        try:
            super().data_received(data)  # aiohttp queues an HttpProcessingError as an _ErrInfo
        except Exception as exc:  # e.g. yarl's ValueError on `GET http://[x/ HTTP/1.1`
            self._queue_error(400, exc)  # asyncio would log it and drop the connection
        added = self._request_count - parsed
        if self._draining is not None:  # the body of a request already answered is arriving
            if not added and not self._draining.content.is_eof():
                return  # body bytes, not headers: no clock, nothing counted
            self._draining = None  # that body is in: the next request's clock starts
            if not added:
                if not self._messages and not self._force_close and not self._close:
                    self._start_header_clock()
                    if body_left is not None and len(data) > body_left:  # the next request has begun
                        self._count_header_bytes(len(data) - body_left)
                return
        if added:  # a request line and headers are complete, or an error
            self._stop_header_clock()
            self._limit_header_size(added)
            if self._messages and isinstance(self._messages[-1][0], _ErrInfo):
                self._unparsable = True
                self._fail_body(self._messages[-1][0].exc)
        elif data and waiting:
            self._count_header_bytes(len(data))

    def _count_header_bytes(self, size: int) -> None:
        """`size` bytes of a request line and headers received: 431 past MAX_HEADER_BYTES."""
        self._partial = True
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER_BYTES:
            self._stop_header_clock()
            self._queue_error(431, headers_too_large())

    def _body_left(self) -> Optional[int]:
        """The bytes still to come of the body being drained, when known (a Content-Length, uncompressed)."""
        request = self._draining
        if request is None or request.content_length is None or "Content-Encoding" in request.headers:
            return None
        return max(0, request.content_length - request.content.total_bytes)

    def _limit_header_size(self, added: int) -> None:
        """A 431 instead of the first of the `added` requests whose headers exceed MAX_HEADER_BYTES.

        aiohttp's C parser limits the size of each header line, not their number.
        """
        messages = self._messages
        for i in range(max(0, len(messages) - added), len(messages)):
            raw_headers = getattr(messages[i][0], "raw_headers", ())
            if sum(len(name) + len(value) + 4 for name, value in raw_headers) > MAX_HEADER_BYTES:
                messages[i] = (_ErrInfo(status=431, exc=headers_too_large(), message=""), EMPTY_PAYLOAD)
                while len(messages) > i + 1:  # the connection ends after that answer
                    messages.pop()
                return

    def _queue_error(self, status: int, exc: BaseException) -> None:
        """Queue a parser error as aiohttp does (data_received), to be answered in turn by handle_error."""
        self._unparsable = True
        self._messages.append((_ErrInfo(status=status, exc=exc, message=""), EMPTY_PAYLOAD))
        self._request_count += 1
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail_body(self, exc: BaseException) -> None:
        """A parser error within the body of the request being handled: fail its body now.

        aiohttp would leave the handler waiting for the rest of the body (the
        chat handler's BODY_TIMEOUT), then answer the error. The handler reads
        a ConnectionError (the chat handler answers 400 incomplete_body) and
        the connection is closed after its answer.
        """
        request = self._current_request
        if request is None or request.content.is_eof():
            return  # no body being read: the error is answered in turn, by handle_error
        log.info("bad request: %s in a request body", describe(exc))
        self.close()  # no further request on this connection: the queued error is dropped
        request._cancel(ConnectionResetError("the request body could not be parsed"))
        request.content.feed_eof()  # read() still raises; aiohttp does not linger on this body

    async def finish_response(self, request: BaseRequest, resp: StreamResponse, start_time: float) -> bool:
        if self._close and not resp.prepared and hasattr(resp, "force_close"):
            resp.force_close()  # say `Connection: close` when this connection ends after the answer
        reset = await super().finish_response(request, resp, start_time)
        if not reset and not self._force_close and not self._messages:
            if request.content.is_eof():
                self._start_header_clock()  # the next request's headers, on a keep-alive connection
            else:  # answered before its body was in (429, 413, 415, 404): the clock waits for its end
                self._draining = request
        return reset

    def _start_header_clock(self) -> None:
        self._stop_header_clock()
        manager = self._manager
        if manager is None or self.transport is None:
            return
        assert isinstance(manager, GuardedServer)
        self._partial, self._header_bytes = False, 0
        self._header_timer = self._loop.call_later(manager.header_timeout, self.headers_too_slow)
        manager.waiting[self] = None

    def _stop_header_clock(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        manager = self._manager
        if isinstance(manager, GuardedServer):
            manager.waiting.pop(self, None)

    def headers_too_slow(self) -> None:
        """Close a connection still waiting for a request line and headers (408 if it had begun one)."""
        self._header_timer = None
        self.drop(408 if self._partial else None)

    def drop(self, status: Optional[int]) -> None:
        """Close this connection, which has no request in progress, answering `status` first."""
        self._stop_header_clock()
        if self.transport is not None and status is not None:
            if status == 408:
                self.transport.write(raw_answer(408, "header_timeout", TIMEOUT))
            else:
                self.transport.write(raw_answer(503, "busy", BUSY))
        self.force_close()

    # -- errors: JSON, fixed messages, one log line ---------------------------------

    def handle_error(self, request: BaseRequest, status: int = 500, exc: Optional[BaseException] = None,
                     message: Optional[str] = None) -> StreamResponse:
        """aiohttp's answer to a request it could not parse (or a 500), as fixed JSON.

        aiohttp's `message` and `str(exc)` quote the request: neither is used.
        """
        if status >= 500:
            log.error("internal error %s: %s", status, describe(exc))
        else:
            log.info("bad request: %s", describe(exc))
        if request.writer.output_size > 0:  # as aiohttp: a response was already begun
            raise ConnectionError("a response was already sent")
        return json_error(status)

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp's other error logs (an exception in its request loop): one line, no traceback."""
        exc = kw.get("exc_info")
        log.error("http protocol error: %s", describe(exc if isinstance(exc, BaseException) else None))


class GuardedServer(Server):
    """aiohttp's Server, making GuardedRequestHandler protocols and keeping the connection cap."""

    def __init__(self, handler: Any, *, header_timeout: float, max_connections: int, **kwargs: Any):
        super().__init__(guard_handler(handler), **kwargs)
        self.header_timeout = header_timeout
        self.max_connections = max_connections
        self.waiting: dict = {}  # connections waiting for request headers, oldest first

    def make_room(self) -> bool:
        """Whether a new connection may open, closing the longest-waiting idle one if at the cap."""
        while len(self._connections) >= self.max_connections:
            if not self.waiting:
                return False
            oldest = next(iter(self.waiting))
            self.waiting.pop(oldest)
            oldest.drop(503 if oldest._partial else None)
            self._connections.pop(oldest, None)  # its connection_lost comes later
        return True

    def __call__(self) -> RequestHandler:
        return GuardedRequestHandler(self, loop=self._loop, **self._kwargs)


class GuardedRunner(web.AppRunner):
    """An AppRunner whose server is a GuardedServer."""

    def __init__(self, app: web.Application, *, header_timeout: float, max_connections: int, **kwargs: Any):
        super().__init__(app, **kwargs)
        self._header_timeout, self._max_connections = header_timeout, max_connections

    async def _make_server(self) -> Server:
        plain = await super()._make_server()  # the app's startup, then its Server
        return GuardedServer(plain.request_handler, request_factory=plain.request_factory,
                             handler_cancellation=plain.handler_cancellation, loop=plain._loop,
                             header_timeout=self._header_timeout, max_connections=self._max_connections,
                             **plain._kwargs)


async def serve(app: web.Application, host: str, port: int, *, header_timeout: float, max_connections: int,
                keepalive: float) -> None:
    """Serve `app` on host:port until SIGINT or SIGTERM, then stop cleanly."""
    runner = GuardedRunner(app, header_timeout=header_timeout, max_connections=max_connections,
                           keepalive_timeout=keepalive, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runner.setup()  # the app's startup
        await web.TCPSite(runner, host, port).start()
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await runner.cleanup()


def run(app: web.Application, host: str, port: int, *, header_timeout: float, max_connections: int,
        keepalive: float) -> None:
    """`web.run_app(app, host=host, port=port, access_log=None, print=None)`, guarded."""
    asyncio.run(serve(app, host, port, header_timeout=header_timeout, max_connections=max_connections,
                      keepalive=keepalive))
