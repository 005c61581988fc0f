"""Logging that cannot carry what a user typed, in every process of the stack.

An exception's message, a library's log line, a warning or a traceback's
local variables can quote what a user typed (a place, a name, a sentence),
and Relais writes no message text to its logs. Rasa, rasa-sdk, Sanic and
aiohttp all log request bodies, message texts or slot values on some path
(Rasa's REST channel logs the message when a reply times out; rasa-sdk logs
the whole request when an action fails; aiohttp logs the bytes of a request
it cannot parse). Rather than hunt each of those lines, `install()` changes
what a log record can contain, in the process that calls it:

- every record is made by `private_record`: a record of a Relais logger
  (`relais.*`) keeps its message; any other library's record keeps only its
  logger, level and file:line, its message is withheld;
- an exception attached to any record is reduced to `describe(exc)`: its
  type and the file:line where it was raised, never its message, its
  traceback's source lines or its local variables;
- every message is one line: line breaks and control characters are escaped,
  so no input can forge a log line;
- the fields a library adds to a record (`extra=`, such as Sanic's access
  log `request` with its URL and token) are withheld when they are text;
- logging's own "--- Logging error ---" report, which would print a record's
  arguments, is off;
- Rasa's structured logs (structlog) keep only their event name
  (`rest.message.received.timeout`), never their key-value pairs;
- Python warnings go through logging (so they are withheld too), and
  uncaught exceptions in any thread are reported with `describe`.

The web server, the Rasa server (bot/rasa_server.py) and the action server
(bot/action_server.py) call `install()` before anything else.
`tests/test_logsafe.py` checks each rule with a marker, and
`tests/test_red_team.py` types a marker through a running stack under load,
timeouts and errors.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, MutableMapping, Optional

OWN_LOGGER = "relais"
EVENT_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,120}")
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


class SafeText(str):
    """A log message built by Relais from no user input (the structlog event names)."""


def describe(exc: BaseException | None) -> str:
    """The exception's type and the file:line where it was raised, without its message."""
    if exc is None:
        return "no exception"
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__} at {where}"


def one_line(text: str) -> str:
    """`text` with line breaks and control characters escaped."""
    return UNPRINTABLE.sub(lambda m: repr(m.group(0))[1:-1], text)


def is_own(name: str) -> bool:
    return name == OWN_LOGGER or name.startswith(OWN_LOGGER + ".")


def safe_message(name: str, msg: Any, args: Any, filename: str, lineno: int, exc_info: Any) -> str:
    """The only text a record may carry (see the module docstring)."""
    if is_own(name) or isinstance(msg, SafeText):
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError, KeyError):
            text = str(msg)
    else:
        text = f"(message withheld: {Path(filename).name}:{lineno})"
    if exc_info and isinstance(exc_info, tuple) and exc_info[1] is not None:
        text += f" [{describe(exc_info[1])}]"
    return one_line(text)


def private_record(name: str, level: int, fn: str, lno: int, msg: Any, args: Any, exc_info: Any,
                   func: Optional[str] = None, sinfo: Optional[str] = None, **kwargs: Any) -> logging.LogRecord:
    """The log record factory of every Relais process: no arguments, no exception, no stack."""
    text = safe_message(name, msg, args, fn, lno, exc_info)
    return logging.LogRecord(name, level, fn, lno, text, (), None, func, None, **kwargs)


STANDARD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_make_record = logging.Logger.makeRecord


def make_private_record(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
    """Logger.makeRecord, then the text of any `extra=` field withheld (they are set after the factory)."""
    record = _make_record(self, *args, **kwargs)
    for key in set(vars(record)) - STANDARD_FIELDS:
        if isinstance(record.__dict__[key], (str, bytes)) and not is_own(record.name):
            record.__dict__[key] = "(withheld)"
    return record


def structlog_event(_logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> SafeText:
    """Last structlog processor: the event name only (Rasa's events are fixed identifiers)."""
    event = str(event_dict.get("event", ""))
    text = event if EVENT_NAME.fullmatch(event) else "(event withheld)"
    exc_info = event_dict.get("exc_info")
    if exc_info and method_name != "exception":  # logging adds it for .exception()
        exc = sys.exc_info()[1] if exc_info is True else exc_info
        if isinstance(exc, tuple):
            exc = exc[1]
        if isinstance(exc, BaseException):
            text += f" [{describe(exc)}]"
    return SafeText(text)


def configure_structlog(log_level: Optional[int] = None) -> None:
    """Structlog through the standard library, event names only (replaces Rasa's own set-up)."""
    import structlog

    level = logging.INFO if log_level is None else log_level
    structlog.configure(
        processors=[structlog_event],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )


def _excepthook(exc_type: type, exc: BaseException, tb: Any) -> None:
    sys.stderr.write(f"uncaught {describe(exc)}\n")


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    sys.stderr.write(f"uncaught in a thread: {describe(args.exc_value)}\n")


def _unraisablehook(unraisable: Any) -> None:
    sys.stderr.write(f"unraisable: {describe(unraisable.exc_value)}\n")


def install() -> None:
    """Make every log record, warning and uncaught exception of this process private."""
    logging.setLogRecordFactory(private_record)
    logging.Logger.makeRecord = make_private_record  # type: ignore[method-assign]
    logging.raiseExceptions = False
    logging.captureWarnings(True)
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    sys.unraisablehook = _unraisablehook
    try:
        configure_structlog()
    except ImportError:  # the web server runs without structlog if it must
        pass
