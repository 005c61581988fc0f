"""Per-client rate limits: a script flooding the API gets a clear 429, a
person typing and other clients do not notice."""

from __future__ import annotations

import json

import pytest

from bot.ratelimit import Limit, RateLimiter, parse_limit
from tests.conftest import fetch, web_alone


def test_a_bucket_allows_its_burst_then_refills_at_its_rate():
    limiter = RateLimiter(Limit(per_minute=60, burst=3))
    assert [limiter.check("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check("a", now=0.0) == pytest.approx(1.0)  # one token a second
    assert limiter.check("b", now=0.0) == 0.0  # another client has its own bucket
    assert limiter.check("a", now=1.5) == 0.0


def test_the_table_of_clients_is_bounded():
    limiter = RateLimiter(Limit(60, 1), max_clients=100)
    for i in range(10_000):
        limiter.check(f"10.0.{i // 256}.{i % 256}", now=float(i))
    assert len(limiter.buckets) == 100


@pytest.mark.parametrize("raw, expected", [("30/10", Limit(30, 10)), ("off", None), ("5", Limit(5, 5))])
def test_limits_are_read_from_a_short_form(raw, expected):
    assert parse_limit(raw) == expected


@pytest.mark.parametrize("raw", ["fast", "-1/3", "10/0", "nan/2"])
def test_a_wrong_limit_is_refused(raw):
    with pytest.raises(ValueError):
        parse_limit(raw)


def request(url: str, method: str, path: str, body: dict | None = None, source: str = "127.0.0.1"):
    status, headers, raw = fetch(url + path, method, json.dumps(body).encode() if body else None,
                                 {"Content-Type": "application/json"}, source=source)
    return status, headers, json.loads(raw or b"null")


def test_chat_and_directory_answer_429_past_the_limit_per_client():
    with web_alone(RELAIS_RATE_CHAT="6/3", RELAIS_RATE_DIRECTORY="6/2") as url:
        chat = {"session": "ratelimit-test", "message": "bonjour", "lang": "fr"}
        statuses = [request(url, "POST", "/api/chat", chat)[0] for _ in range(3)]
        assert statuses == [200, 200, 200]  # Rasa is down here: the degraded answer, still a 200
        status, headers, body = request(url, "POST", "/api/chat", chat)
        assert status == 429 and body["error"]["code"] == "too_many_requests"
        assert int(headers["Retry-After"]) >= 1
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        # Another address is another client.
        assert request(url, "POST", "/api/chat", chat, source="127.0.0.2")[0] == 200
        # The directory has its own budget, and pages are not limited.
        assert [request(url, "GET", "/api/directory/search?q=GAMS")[0] for _ in range(3)] == [200, 200, 429]
        assert fetch(url + "/")[0] == 200
