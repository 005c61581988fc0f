"""Privacy and security of the running stack.

A unique marker is typed into conversations (small talk, a place, a lookup,
a danger message, bad requests, the directory API) and must then appear in no
log line, in no file written under the project or the temporary directory,
and nowhere once the conversation has expired. Then: only loopback sockets,
no secret on a command line, Rasa's API closed without its token, no CORS,
and the security headers on every kind of response. The anonymous counts
(issue 17) hold codes only, and a municipality only the marked conversations
searched is suppressed in the dashboard, its CSV and the open data.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from directory.curation import Curation
from directory.insights import DIMENSIONS, now, week_of
from tests.conftest import (
    PASSWORD,
    Browser,
    fetch,
    files_written_with,
    get_json,
    post_json,
    stack_parts,
    start_stack,
    stop_stack,
    texts,
)
from tests.nominatim_standin import StandIn

TTL = 4
MARKER = "zqx" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def private_stack():
    geocoder = StandIn().start()
    started = time.time()
    counts_db = Path(tempfile.mkdtemp(prefix="relais-counts-")) / "curation.db"
    stack = start_stack({"RELAIS_CONVERSATION_TTL": str(TTL), "RELAIS_GEOCODER_URL": geocoder.url,
                         "RELAIS_CURATION_DB": str(counts_db), "RELAIS_ADMIN_COOKIE_SECURE": "no"})
    stack.counts_db = counts_db
    stack.started = started
    yield stack
    stop_stack(stack)
    geocoder.stop()


@pytest.fixture(scope="module")
def marked_session(private_stack):
    """A conversation and requests carrying the marker, through every path."""
    web, sid = private_stack.web, uuid.uuid4().hex
    for message in (f"bonjour {MARKER}", f"pharmacie près de rue {MARKER} 12", f"numéro {MARKER}",
                    f"il me frappe {MARKER}", MARKER, f"/inform_place{{\"place\":\"{MARKER}\"}}"):
        private_stack.chat(sid, message)
    post_json(f"{web}/api/chat", None, raw=f'{{"session": "{sid}", "message": "{MARKER}'.encode())
    post_json(f"{web}/api/chat", {"session": sid, "message": MARKER * 200})
    post_json(f"{web}/api/chat", {"session": sid, "message": "x", "lang": MARKER})
    post_json(f"{web}/api/chat", {"session": MARKER + "\n", "message": MARKER})
    for path in (f"search?q={MARKER}", f"place?q={MARKER}", f"nearest?place={MARKER}", f"search?category={MARKER}"):
        get_json(f"{web}/api/directory/{path}")
    return sid


RARE = "21017"  # Watermael-Boitsfort: searched by the marked conversations only


@pytest.fixture(scope="module")
def rare_searches(private_stack, marked_session):
    """Three conversations with the marker in their session id, each searching near Watermael-Boitsfort."""
    sessions = [f"{MARKER}-{i}" for i in range(3)]
    for sid in sessions:
        reply = private_stack.chat(sid, "de l'aide près de 1170")
        assert texts(reply).startswith("Près de 1170"), texts(reply)
        private_stack.chat(sid, f"il me menace {MARKER}")
    return sessions


def test_the_counts_hold_codes_only_and_the_rare_municipality_is_suppressed_everywhere(private_stack,
                                                                                      rare_searches):
    """Issue 17's marker test: the counters, the database and every file hold no text and no session id; the
    municipality only the marked conversations searched is counted, and suppressed in every published view."""
    db = private_stack.counts_db
    time.sleep(1)  # the web server counts off its event loop
    rows = sqlite3.connect(db).execute("select week, dimension, value, n from counts").fetchall()
    assert rows and all(re.fullmatch(r"[0-9]{4}-W[0-9]{2}", w) and re.fullmatch(r"[a-z0-9_-]{1,40}", v)
                        for w, _, v, _ in rows)
    assert ("area", RARE) in {(d, v) for _, d, v, n in rows if n >= 3}
    assert {d for _, d, _, _ in rows} <= set(DIMENSIONS)
    for path in db.parent.iterdir():  # the database, its journal and its write-ahead log
        raw = path.read_bytes()
        assert MARKER.encode() not in raw and not any(s.encode() in raw for s in rare_searches), path
    scanned, found = files_written_with(MARKER, since=private_stack.started)
    assert scanned > 0 and not found, found
    last_week = week_of(now() - timedelta(days=7))
    with sqlite3.connect(db) as conn:  # the week ends: only a complete week is ever shown
        conn.execute("UPDATE counts SET week = ?", (last_week,))
    store = Curation(db)
    store.create_user("cora", PASSWORD, "coordinator")
    store.close()
    browser = Browser(private_stack.web)
    assert browser.sign_in("cora") == 303
    status, _, page = browser.request("/admin/insights")
    assert status == 200 and re.search(r"Watermael-Boitsfort[^<]*</td><td>suppressed</td>", page)
    status, _, table = browser.request("/admin/insights.csv")
    assert status == 200 and any(line.startswith(f"{last_week},area,{RARE},") and line.endswith(",suppressed")
                                 for line in table.splitlines())
    status, _, data = browser.request("/admin/insights/open-data.json")
    assert status == 200 and RARE not in {r["category"] for r in json.loads(data)["dimensions"]["area"]["rows"]
                                          if r["count"] is not None}
    assert MARKER not in page + table + data


def test_the_marker_is_in_no_log_line(private_stack, marked_session):
    time.sleep(1)  # let the children flush
    log = private_stack.log()
    assert log, "no log captured"
    assert MARKER not in log


def test_the_marker_is_in_no_file_under_the_project_or_the_temporary_directory(private_stack, marked_session):
    scanned, found = files_written_with(MARKER, since=private_stack.started)
    assert scanned > 0 and not found, found


def test_nothing_of_the_conversation_outlives_its_expiry(private_stack):
    token, sid = private_stack.env["RELAIS_RASA_TOKEN"], uuid.uuid4().hex
    private_stack.chat(sid, f"pharmacie près de {MARKER}")
    status, tracker = get_json(f"{private_stack.rasa}/conversations/{sid}/tracker?token={token}")
    assert status == 200 and MARKER in json.dumps(tracker)  # kept while the conversation lives
    time.sleep(TTL + 1)
    private_stack.chat(uuid.uuid4().hex, "bonjour")  # any activity drops expired conversations
    status, tracker = get_json(f"{private_stack.rasa}/conversations/{sid}/tracker?token={token}")
    assert status == 200 and MARKER not in json.dumps(tracker)


def listening_sockets() -> dict[str, str]:
    """{socket inode: "address:port"} of every TCP socket in LISTEN state."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":
                continue
            address, port = fields[1].split(":")
            if len(address) == 8:
                ip = ".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0))
            else:
                ip = "::1" if address == "0" * 24 + "01000000" else address
            found[fields[9]] = f"{ip}:{int(port, 16)}"
    return found


def test_every_part_listens_on_loopback_only(private_stack):
    sockets = listening_sockets()
    seen = {}
    for name, pid in stack_parts(private_stack).items():
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in sockets:
                seen.setdefault(name, []).append(sockets[target[8:-1]])
    assert set(seen) == {"web", "rasa", "actions"}, seen
    assert all(a.startswith(("127.0.0.1:", "::1:")) for addresses in seen.values() for a in addresses), seen


def test_no_secret_on_any_command_line(private_stack):
    token = private_stack.env["RELAIS_RASA_TOKEN"].encode()
    pids = [private_stack.process.pid, *stack_parts(private_stack).values()]
    assert all(token not in Path(f"/proc/{pid}/cmdline").read_bytes() for pid in pids)


def test_rasa_api_needs_its_token(private_stack):
    for query in ("", "?token=wrong"):
        status, _, _ = fetch(f"{private_stack.rasa}/conversations/someone/tracker{query}")
        assert status in (401, 403)
    status, _, _ = fetch(f"{private_stack.rasa}/model", method="PUT", data=b"{}")
    assert status in (401, 403)


def test_cors_is_closed(private_stack):
    evil = {"Origin": "https://evil.example", "Content-Type": "application/json"}
    body = json.dumps({"session": uuid.uuid4().hex, "message": "bonjour"}).encode()
    for url, method, data in ((f"{private_stack.web}/api/chat", "POST", body),
                              (f"{private_stack.web}/api/chat", "OPTIONS", None),
                              (f"{private_stack.web}/api/directory/search?q=GAMS", "GET", None),
                              (private_stack.rasa_channel, "POST", body),
                              (private_stack.rasa_channel, "OPTIONS", None)):
        _, headers, _ = fetch(url, method, data, {**evil, "Access-Control-Request-Method": "POST"})
        assert "Access-Control-Allow-Origin" not in headers, url


@pytest.mark.parametrize("path, method, data", [
    ("/", "GET", None), ("/staff", "GET", None), ("/static/chat.js", "GET", None), ("/health", "GET", None),
    ("/api/chat", "POST", b'{"session": "abcdefgh12", "message": "hello"}'), ("/api/chat", "POST", b"nope"),
    ("/api/directory/search?q=GAMS", "GET", None), ("/api/directory/nearest?k=abc", "GET", None),
    ("/no/such/page", "GET", None), ("/api/chat", "GET", None), ("/hsds/services", "GET", None),
    ("/hsds/services/nope", "GET", None), ("/admin/sign-in", "GET", None), ("/admin", "GET", None),
])
def test_security_headers_on_every_response(private_stack, path, method, data):
    _, headers, _ = fetch(private_stack.web + path, method, data, {"Content-Type": "application/json"})
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    # Form pages send a referrer to their own origin only, so their forms carry a real Origin (/admin checks it)
    assert headers["Referrer-Policy"] == ("same-origin" if path.startswith("/admin") else "no-referrer")
