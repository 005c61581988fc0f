"""The web server alone, with Rasa unreachable: it still gives the numbers."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, free_port, get_json, post_json


@pytest.fixture(scope="module")
def web_alone():
    port = free_port()
    env = {**os.environ, "RELAIS_WEB_PORT": str(port), "RELAIS_RASA_PORT": str(free_port()),
           "RELAIS_ACTIONS_PORT": str(free_port()), "RELAIS_RASA_TOKEN": "t"}
    proc = subprocess.Popen([sys.executable, "-m", "bot.webserver"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            get_json(f"{url}/health", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.mark.parametrize("lang, helpline", [("fr", "0800 30 030"), ("nl", "1712"), (None, "0800 30 030")])
def test_chat_answers_with_emergency_numbers_when_rasa_is_down(web_alone, lang, helpline):
    body = {"session": "abcdefgh1234", "message": "bonjour"}
    if lang:
        body["lang"] = lang
    started = time.monotonic()
    status, reply = post_json(f"{web_alone}/api/chat", body)
    assert time.monotonic() - started < 5
    assert status == 200 and reply["degraded"] is True
    text = "\n".join(m["text"] for m in reply["messages"])
    assert text.index("112") < text.index(helpline)
    assert "101" in text


def test_health_says_which_part_is_down(web_alone):
    status, health = get_json(f"{web_alone}/health")
    assert status == 503
    assert health["parts"]["rasa"] == "down" and health["parts"]["web"] == "ok"
