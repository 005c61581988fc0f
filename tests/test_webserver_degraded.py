"""The web server alone, with Rasa unreachable: it still gives the numbers."""

from __future__ import annotations

import time

import pytest

from tests.conftest import get_json, post_json, web_alone


@pytest.fixture(scope="module")
def web_url():
    with web_alone() as url:
        yield url


@pytest.mark.parametrize("lang, helpline", [("fr", "0800 30 030"), ("nl", "1712"), (None, "0800 30 030")])
def test_chat_answers_with_emergency_numbers_when_rasa_is_down(web_url, lang, helpline):
    body = {"session": "abcdefgh1234", "message": "bonjour"}
    if lang:
        body["lang"] = lang
    started = time.monotonic()
    status, reply = post_json(f"{web_url}/api/chat", body)
    assert time.monotonic() - started < 5
    assert status == 200 and reply["degraded"] is True
    text = "\n".join(m["text"] for m in reply["messages"])
    assert text.index("112") < text.index(helpline)
    assert "101" in text


def test_health_says_which_part_is_down(web_url):
    status, health = get_json(f"{web_url}/health")
    assert status == 503
    assert health["parts"]["rasa"] == "down" and health["parts"]["web"] == "ok"


def test_health_of_a_web_server_for_rasa_servers_elsewhere_probes_those_and_not_their_action_servers():
    with web_alone(RELAIS_RASA_URLS="http://127.0.0.1:9,http://127.0.0.1:10") as url:
        status, health = get_json(f"{url}/health")
    assert status == 503 and health["parts"]["rasa"] == "0 of 2 up" and "actions" not in health["parts"]


@pytest.mark.parametrize("message, lang", [('/greet{"language":"nl"}', "nl"), ('/greet{"language":"en"}', "en"),
                                           ("hij slaat me", "nl"), ("il me frappe", "fr")])
def test_with_rasa_down_the_answer_speaks_the_language_of_the_message_or_the_page_greeting(web_url, message, lang):
    """No `lang` from the page: the language the greeting payload names, or the message's own."""
    status, reply = post_json(f"{web_url}/api/chat", {"session": "abcdefgh1234", "message": message})
    assert status == 200 and reply["degraded"] and reply["lang"] == lang
