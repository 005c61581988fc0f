"""Hostile and random input against the running stack (hypothesis).

Over 2,000 generated requests to the chat endpoint and the directory API:
random and hostile text (control characters, lone surrogates, emoji,
right-to-left text, SQL and FTS syntax, HTML/JS, Rasa intent syntax, texts
around the size limit), JSON of every wrong type, raw bytes that are not JSON
or not UTF-8, and query strings with broken encodings. Every answer must be a
4xx JSON error or a 200 the page can show, never a 5xx or a traceback. Then a
very long conversation and many sessions: memory stays bounded and the stack
still answers correctly. Examples are derandomized, so CI runs the same ones.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.conftest import get_json, post_json, rss_mb, stack_parts, texts

HOSTILE = [
    "' OR 1=1 --", '"; DROP TABLE services; --', "GAMS*", '"unterminated', "a AND OR NOT b", "NEAR(gams viol)",
    "^*:()", "col:value", "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "javascript:alert(1)",
    "{{phone:evc_0800}}", "${RELAIS_RASA_TOKEN}", "%s%s%n", "/restart", "/session_start", "/danger",
    '/choose_language{"language":"xx"}', '/inform_place{"place":"\'); drop table x"}', "/nlu_fallback",
    "\u202eevil\u202c", "مرحبا أنا في خطر", "אני בסכנה", "🆘🔪😱", "\ud800", "\udfff lone", "\x00\x01\x02",
    "a" * 2000, "a" * 2001, "🙂" * 1000, "\n" * 500, " " * 3000, "1030" * 100, "je suis à 1030 " * 100,
    "jsuis en dangé", "HELP HE IS HERE", "pharmacie pres de 0000", "pharmacie pres de -1,-1", "NaN", "null",
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
MESSAGES = st.one_of(
    st.text(max_size=300),
    st.sampled_from(HOSTILE),
    st.builds(lambda a, b: f"{a} {b}", st.sampled_from(HOSTILE), st.text(max_size=60)),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Cs", "Zs", "Mn", "So"]), max_size=120),
    st.text(alphabet="abcdé 1030\n", min_size=1990, max_size=2010),
)
SESSIONS = st.one_of(
    st.sampled_from([f"fuzz-session-{i}" for i in range(5)]),  # a few long conversations
    st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True),
    st.text(max_size=80),
)
LOCATIONS = st.one_of(
    st.fixed_dictionaries({"lat": st.floats(), "lon": st.floats()}),
    st.fixed_dictionaries({"lat": st.floats(50.76, 50.92), "lon": st.floats(4.24, 4.48)}),
    JSON_VALUES,
)
CHAT_BODIES = st.one_of(
    st.fixed_dictionaries({"session": SESSIONS, "message": MESSAGES},
                          optional={"lang": st.one_of(st.sampled_from(["fr", "nl", "en"]), JSON_VALUES),
                                    "location": LOCATIONS}),
    st.fixed_dictionaries({"session": JSON_VALUES, "message": JSON_VALUES}),
    JSON_VALUES,
)
FUZZ = settings(deadline=None, database=None, derandomize=True, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


def check(status: int, body) -> None:
    """What every answer must be: JSON, not a 5xx, no traceback, and a 200 the page can show."""
    assert status < 500, (status, body)
    dumped = json.dumps(body)
    assert "Traceback" not in dumped and 'File "' not in dumped, dumped[:500]
    if isinstance(body, str):  # only aiohttp's own HTTP parser answers in plain text: a line too long
        assert status in (400, 413, 431) and "too long" in body, (status, body[:200])
        return
    if status == 200 and isinstance(body, dict) and "messages" in body:
        assert body["messages"] and all(isinstance(m.get("text"), str) for m in body["messages"])
    elif status >= 400:
        assert set(body["error"]) == {"code", "message"}


def post_raw(url: str, raw: bytes) -> tuple[int, object]:
    return post_json(url, None, raw=raw)


@settings(FUZZ, max_examples=900)
@given(body=CHAT_BODIES)
def test_chat_endpoint_survives_random_and_hostile_json(stack, body):
    try:
        raw = json.dumps(body).encode("utf-8", "surrogatepass")
    except (ValueError, TypeError):
        raw = b"{}"
    check(*post_raw(f"{stack.web}/api/chat", raw))


@settings(FUZZ, max_examples=300)
@given(raw=st.one_of(
    st.binary(max_size=3000),
    st.binary(min_size=16 * 1024, max_size=20 * 1024),
    st.builds(lambda s: b'{"session":"fuzz-session-raw","message":"' + s + b'"}', st.binary(max_size=200)),
    st.builds(lambda n: b"[" * n + b"]" * n, st.integers(1, 20000)),
))
def test_chat_endpoint_survives_raw_bytes(stack, raw):
    check(*post_raw(f"{stack.web}/api/chat", raw))

TEXT_PARAM = st.one_of(st.text(max_size=250), st.sampled_from(HOSTILE), st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,8})?"))
QUERY = st.dictionaries(
    st.sampled_from(["q", "place", "lat", "lon", "k", "limit", "type", "category", "municipality", "language",
                     "audience", "open_now", "offset", "x"]),
    TEXT_PARAM, max_size=6,
)


@settings(FUZZ, max_examples=900)
@given(path=st.sampled_from(["search", "nearest", "place", "taxonomy", "nope"]), query=QUERY,
       broken=st.sampled_from(["", "&q=%ZZ", "&q=%C3%28", "&q=%00", "&k=1&k=2", "&lat=1e999&lon=-1e999"]))
def test_directory_api_survives_random_and_hostile_queries(stack, path, query, broken):
    encoded = urllib.parse.urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in query.items()})
    url = f"{stack.web}/api/directory/{path}?{encoded}{broken}"
    try:
        with urllib.request.urlopen(url, timeout=20) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw.decode("utf-8", "replace")
    check(status, body)


def test_after_the_fuzz_a_long_conversation_and_many_sessions_keep_memory_bounded(stack):
    parts = stack_parts(stack)
    before = {name: rss_mb(pid) for name, pid in parts.items()}
    sid = uuid.uuid4().hex
    for i in range(300):
        post_json(f"{stack.web}/api/chat", {"session": sid, "message": ["bonjour", "pharmacie près de 1030",
                                                                        "plus", "merci"][i % 4]})
    status, tracker = get_json(f"{stack.rasa}/conversations/{sid}/tracker?token={stack.env['RELAIS_RASA_TOKEN']}")
    assert status == 200 and len(tracker["events"]) <= 400  # RELAIS_MAX_EVENTS
    for _ in range(500):
        post_json(f"{stack.web}/api/chat", {"session": uuid.uuid4().hex, "message": "hello"})
    after = {name: rss_mb(pid) for name, pid in parts.items()}
    growth = {name: after[name] - before[name] for name in parts}
    assert all(g < 150 for g in growth.values()), growth
    # The stack still answers correctly, in the user's language, danger first.
    reply = stack.chat(uuid.uuid4().hex, "il me frappe, je suis en danger")
    assert reply["lang"] == "fr" and reply["messages"][0]["text"].startswith("En danger maintenant : appelez le 112")
    reply = stack.chat(sid, "pharmacie près de Ixelles")
    assert "Pharmacies les plus proches" in texts(reply)
