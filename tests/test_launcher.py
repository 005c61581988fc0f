"""The launcher (`python -m bot`) as a user meets it: it builds what is
missing, says when the stack is ready, reports and restarts a child that
dies, and leaves no process behind when stopped."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import get_json, start_stack, stop_stack


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


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


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "relais.db"  # missing: the launcher must build it
    stack = start_stack({"RELAIS_DB": str(db)})
    stack.db = db
    yield stack
    stop_stack(stack)


def test_missing_database_is_rebuilt_from_the_seed(own_stack):
    assert "rebuilding it from the seed files" in own_stack.log()
    assert own_stack.db.exists()
    status, health = get_json(f"{own_stack.web}/health")
    assert health["parts"]["directory"] == "ok"


def test_ready_line_says_where_to_open_the_chat(own_stack):
    assert f"Relais is ready: open {own_stack.web}/" in own_stack.log()


def test_a_killed_child_is_reported_and_restarted(own_stack):
    kids = children_of(own_stack.process.pid)
    assert len(kids) == 3
    actions_pid = next(p for p in kids if b"rasa_sdk" in Path(f"/proc/{p}/cmdline").read_bytes())
    mark = len(own_stack.output)
    os.kill(actions_pid, signal.SIGKILL)
    assert own_stack.wait_for("actions was killed by signal SIGKILL", 10, after=mark)
    # Emergency answers need no action server, so they come while it restarts.
    reply = own_stack.chat(uuid.uuid4().hex, "je suis en danger")
    assert "112" in reply["messages"][0]["text"]
    assert own_stack.wait_for("actions is ready again", 60, after=mark), own_stack.log()[-3000:]
    status, health = get_json(f"{own_stack.web}/health")
    assert status == 200 and health["parts"]["actions"] == "ok"


def test_sigterm_stops_everything_and_leaves_no_process(own_stack):
    kids = children_of(own_stack.process.pid)
    assert len(kids) == 3
    assert stop_stack(own_stack) == 0
    deadline = time.monotonic() + 10
    while any(alive(p) for p in kids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in kids if alive(p)]
    assert "stopped" in own_stack.log()
