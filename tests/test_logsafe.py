"""The log guard (bot/logsafe.py) in a fresh process: whatever a library logs,
warns or raises with a marker in it, the marker reaches no output."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from tests.conftest import ROOT

MARKER = "zqw" + uuid.uuid4().hex[:12]

SCRIPT = f"""
import logging, sys, threading, warnings
import structlog
from bot import logsafe
logsafe.install()
logging.basicConfig(level=logging.DEBUG, format="%(name)s %(levelname)s %(message)s")
text = "{MARKER}"
"""

CASES = {
    "a library's log line with arguments": "logging.getLogger('sanic.error').error('message %s', text)",
    "a library's f-string log line": "logging.getLogger('rasa.core.processor').warning(f'Received {{text}}')",
    "an exception with its message and locals": """
def parse(message):
    secret = message
    raise ValueError(f"cannot parse {{message}}")
try:
    parse(text)
except ValueError:
    logging.getLogger('rasa_sdk.endpoint').exception('failed on %s', text)
    logging.getLogger('relais.web').exception('failed')
""",
    "Rasa's structured event with the text": """
structlog.get_logger().error('rest.message.received.timeout', text=text)
try:
    raise KeyError(text)
except KeyError:
    structlog.get_logger().exception('rest.message.received.failure', text=text)
""",
    "a structured event whose name is the text": "structlog.get_logger().info(text + ' was typed')",
    "a library's extra field": "logging.basicConfig(format='%(request)s %(message)s', force=True); "
                                "logging.getLogger('sanic.access').warning('', extra={'request': 'GET /x?q=' + text})",
    "a record that cannot be formatted": "logging.getLogger('relais.web').warning('%d items', text)",
    "a warning": "warnings.simplefilter('always'); warnings.warn(f'odd input {{text}}')",
    "an uncaught exception in a thread": """
t = threading.Thread(target=lambda: (_ for _ in ()).throw(RuntimeError(text)))
t.start(); t.join()
""",
    "an uncaught exception": "raise SystemError(text)",
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_marker_reaches_no_output(case):
    result = subprocess.run([sys.executable, "-c", SCRIPT + CASES[case]], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    output = result.stdout + result.stderr
    assert output.strip(), "nothing was logged: the case did not run"
    assert MARKER not in output, output
    assert "Traceback" not in output, output


def test_relais_own_lines_are_kept_on_one_line():
    script = SCRIPT + "logging.getLogger('relais.web').warning('route %s', '/static/x\\n2026 web ERROR forged')"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    lines = [line for line in result.stderr.splitlines() if "relais.web" in line or "forged" in line]
    assert len(lines) == 1 and "\\n2026 web ERROR forged" in lines[0], result.stderr


def test_an_exception_is_described_by_type_and_place():
    from bot.logsafe import describe

    try:
        {}[MARKER]
    except KeyError as exc:
        described = describe(exc)
    assert described.startswith("KeyError at test_logsafe.py:") and MARKER not in described
