"""The launcher (`python -m bot`) and the stack's faults, as a user meets them.

The launcher builds what is missing, says when the stack is ready, reports
and restarts a child that dies, and leaves no process behind when stopped.
One stack (its own database copy, a slow geocoder stand-in, a 6 s restart
delay so a dead part stays dead long enough to talk to the rest) is broken
one part at a time: the geocoder is slow, the action server is killed, the
Rasa server is killed, the database is corrupted while running. Each time
the user still gets an answer with 112/101 and the helplines, and the part
comes back without restarting anything else.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from bot.launcher import prepare
from bot.settings import load as load_settings
from tests.conftest import children_of, get_json, post_json, stack_parts, start_stack, stop_stack, texts
from tests.nominatim_standin import StandIn

HELPLINES = ("0800 30 030", "1712")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_part(stack, part: str, state: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if get_json(f"{stack.web}/health")[1]["parts"][part] == state:
            return
        time.sleep(0.2)
    raise AssertionError(f"{part} never became {state}")


@pytest.fixture(scope="module")
def geocoder():
    standin = StandIn(delay=10.0).start()  # far slower than the 2 s deadline
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory, geocoder):
    db = tmp_path_factory.mktemp("db") / "relais.db"  # missing: the launcher must build it
    stack = start_stack({"RELAIS_DB": str(db), "RELAIS_RESTART_DELAY": "6", "RELAIS_GEOCODER_URL": geocoder.url})
    stack.db = db
    yield stack
    stop_stack(stack)


def test_a_corrupt_database_is_named_and_rebuilt_at_start(tmp_path, monkeypatch, capsys):
    db = tmp_path / "relais.db"
    db.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    monkeypatch.setenv("RELAIS_DB", str(db))
    prepare(load_settings())
    out = capsys.readouterr().out
    assert f"directory database {db} is unreadable: rebuilding it from the seed files" in out
    assert "directory database rebuilt" in out
    from directory.build import is_current
    assert is_current(db)


def test_missing_database_is_rebuilt_from_the_seed(own_stack):
    assert "rebuilding it from the seed files" in own_stack.log()
    assert own_stack.db.exists()
    status, health = get_json(f"{own_stack.web}/health")
    assert health["parts"]["directory"] == "ok"


def test_ready_line_says_where_to_open_the_chat(own_stack):
    assert f"Relais is ready: open {own_stack.web}/" in own_stack.log()


@pytest.mark.parametrize("message, expected", [
    ("pharmacie près de chaussée de Wavre 100", "Pharmacies les plus proches"),  # the street, from the gazetteer
    ("avenue des Tests Imaginaires 7", "Je ne connais pas ce lieu"),  # known to no one: said so, in time
])
def test_a_slow_geocoder_costs_at_most_its_deadline_and_the_gazetteer_answers(own_stack, geocoder, message, expected):
    sid = uuid.uuid4().hex
    own_stack.chat(sid, "où est la pharmacie la plus proche ?")
    asked = len(geocoder.requests)
    started = time.monotonic()
    reply = own_stack.chat(sid, message)
    elapsed = time.monotonic() - started
    assert len(geocoder.requests) > asked, "the geocoder was not asked"
    assert elapsed < 3.0, elapsed
    assert expected in texts(reply)


def test_killed_action_server_still_danger_helplines_and_searches_say_unavailable(own_stack):
    parts = stack_parts(own_stack)
    assert len(parts) == 3
    mark = len(own_stack.output)
    os.kill(parts["actions"], signal.SIGKILL)
    assert own_stack.wait_for("actions was killed by signal SIGKILL", 10, after=mark)
    wait_part(own_stack, "actions", "down")
    sid = uuid.uuid4().hex
    # Emergency and helpline answers need no action server.
    assert texts(own_stack.chat(sid, "je suis en danger")).startswith("En danger maintenant : appelez le 112")
    assert "0800 30 030" in texts(own_stack.chat(sid, "j'ai besoin de parler à quelqu'un"))
    search = own_stack.chat(sid, "pharmacie près de Ixelles")
    text = texts(search)
    assert search["degraded"] is True and "ne fonctionne pas" in text
    assert text.index("112") < text.index("0800 30 030")
    assert "actions is ready again" not in "".join(own_stack.output[mark:]), "restarted too early for this test"
    # It comes back by itself, and searches work again.
    assert own_stack.wait_for("actions is ready again", 60, after=mark), own_stack.log()[-3000:]
    assert "Pharmacies les plus proches" in texts(own_stack.chat(sid, "pharmacie près de Ixelles"))
    status, health = get_json(f"{own_stack.web}/health")
    assert status == 200 and health["parts"]["actions"] == "ok"
    now = stack_parts(own_stack)
    assert (now["rasa"], now["web"]) == (parts["rasa"], parts["web"]), "something else was restarted"


def test_killed_rasa_server_gives_numbers_within_5_s_then_comes_back(own_stack):
    mark = len(own_stack.output)
    os.kill(stack_parts(own_stack)["rasa"], signal.SIGKILL)
    assert own_stack.wait_for("rasa was killed by signal SIGKILL", 10, after=mark)
    for message in ("bonjour", "pharmacie près de Ixelles", "je suis en danger"):
        started = time.monotonic()
        status, reply = post_json(f"{own_stack.web}/api/chat", {"session": uuid.uuid4().hex, "message": message,
                                                                 "lang": "fr"}, timeout=10)
        assert time.monotonic() - started < 5
        assert status == 200 and reply["degraded"] is True
        text = texts(reply)
        assert text.index("112") < text.index("0800 30 030") and "ne répond pas" in text
    assert own_stack.wait_for("rasa is ready again", 240, after=mark), own_stack.log()[-3000:]
    reply = own_stack.chat(uuid.uuid4().hex, "bonjour")
    assert "degraded" not in reply and reply["lang"] == "fr"


def test_database_corrupted_while_running_degrades_searches_not_the_rest(own_stack):
    sid = uuid.uuid4().hex
    assert "Pharmacies les plus proches" in texts(own_stack.chat(sid, "pharmacie près de 1030"))
    with open(own_stack.db, "r+b") as f:  # overwrite in place, as a failing disk would
        f.seek(0)
        f.write(os.urandom(own_stack.db.stat().st_size))
    search = texts(own_stack.chat(sid, "pharmacie près de Ixelles"))
    assert "ne fonctionne pas" in search and search.index("112") < search.index("0800 30 030")
    assert texts(own_stack.chat(sid, "je suis en danger")).startswith("En danger maintenant : appelez le 112")
    status, error = get_json(f"{own_stack.web}/api/directory/search?q=GAMS")
    assert status == 503 and error["error"]["code"] == "directory_unavailable"
    status, health = get_json(f"{own_stack.web}/health")
    assert health["parts"]["directory"] != "ok"


def test_no_message_text_in_the_logs_of_a_broken_stack(own_stack):
    log = own_stack.log()
    for typed in ("près de Ixelles", "chaussée de Wavre", "Tests Imaginaires", "je suis en danger", "bonjour"):
        assert typed not in log, typed


def test_sigterm_stops_everything_and_leaves_no_process(own_stack):
    kids = children_of(own_stack.process.pid)
    assert len(kids) == 3
    assert stop_stack(own_stack) == 0
    deadline = time.monotonic() + 10
    while any(alive(p) for p in kids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in kids if alive(p)]
    assert "stopped" in own_stack.log()
