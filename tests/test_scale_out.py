"""Relais scaled out on a real Redis (issue 14): replicas share conversations, survive kills and Redis restarts.

One stack runs with RELAIS_REDIS_URL on a real redis-server (Debian's,
started on a free port with a password and nothing on disk), two Rasa
replicas and two action servers, with a 6 s conversation lifetime so that expiry can be seen. The
tests kill the replica that serves a conversation, kill replicas every 10 s
under a steady flow of messages, restart Redis, and look into Redis for what
it keeps. The launcher's refusals (a Redis that persists, no password, no
Redis for several replicas) need no model and run first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from bot.web.rasa_client import replica_order
from tests.conftest import (
    ROOT,
    free_ports,
    get_json,
    post_json,
    rasa_replicas,
    redis_server,
    start_stack,
    stop_stack,
    texts,
    web_alone,
)

TTL = 8  # seconds: RELAIS_CONVERSATION_TTL of this module's stack
MARKER = "zebracornichon"  # a word no answer contains: where it shows up, a message was kept


def launcher_refusal(env: dict) -> tuple[int, str]:
    """Exit code and output of `python -m bot` with `env` (it must refuse before building anything)."""
    done = subprocess.run([sys.executable, "-m", "bot"], cwd=ROOT, env={**os.environ, **env}, text=True,
                          capture_output=True, timeout=60)
    return done.returncode, done.stdout + done.stderr


def test_the_launcher_refuses_a_redis_that_writes_to_disk_and_says_how_to_fix_it():
    with redis_server(persist=True) as redis:
        code, output = launcher_refusal({"RELAIS_REDIS_URL": redis.url})
        assert code != 0 and "writes snapshots to disk" in output and "RELAIS_REDIS_PERSISTENCE_OK" in output
        assert redis.password not in output


def test_the_launcher_refuses_redis_without_password_and_replicas_without_redis():
    code, output = launcher_refusal({"RELAIS_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert code != 0 and "RELAIS_REDIS_URL" in output and "no password" in output
    code, output = launcher_refusal({"RELAIS_RASA_REPLICAS": "2"})
    assert code != 0 and "needs RELAIS_REDIS_URL" in output


def test_a_replica_hands_back_its_own_saved_conversation_and_reads_another_s_from_redis(monkeypatch):
    import asyncio

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet, UserUttered

    from bot.tracker_store import ExpiringRedisTrackerStore

    with redis_server() as redis:
        monkeypatch.setenv("RELAIS_REDIS_URL", redis.url)
        monkeypatch.setenv("RELAIS_CONVERSATION_TTL", "2")
        domain = Domain.from_dict({"slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]}}})
        one, two = ExpiringRedisTrackerStore(domain), ExpiringRedisTrackerStore(domain)

        async def scenario():
            mine = await one.get_or_create_tracker("s")
            mine.update(SlotSet("language", "nl"))
            mine.update(UserUttered("first"))
            await one.save(mine)
            assert await one.retrieve("s") is mine  # no JSON read back: Redis holds what this replica saved
            theirs = await two.retrieve("s")
            assert theirs is not mine and theirs.get_slot("language") == "nl"
            theirs.update(UserUttered("second"))
            await two.save(theirs)  # the other replica took the conversation on
            back = await one.retrieve("s")
            assert back is not mine and back.latest_message.text == "second" and back.get_slot("language") == "nl"
            await asyncio.sleep(2.5)
            assert await one.retrieve("s") is None and not one.recent  # expired in Redis and in this replica

        asyncio.run(scenario())


def test_two_web_servers_share_one_rate_limit_through_redis():
    with redis_server() as redis:
        shared = {"RELAIS_REDIS_URL": redis.url, "RELAIS_RATE_CHAT": "6/3"}
        with web_alone(**shared) as first, web_alone(**shared) as second:
            body = {"session": "limit-test-1", "message": "bonjour"}
            statuses = [post_json(f"{(first, second)[i % 2]}/api/chat", body)[0] for i in range(4)]
            assert statuses[:3] == [200, 200, 200] and statuses[3] == 429  # the burst of 3, across both servers
            keys = redis.client().keys("*")
            assert keys and all(k.startswith("relais:rate:chat:") and "127.0.0.1" not in k for k in keys)


def get_json_quiet(url: str):
    try:
        import urllib.request

        with urllib.request.urlopen(url, timeout=1) as resp:
            return resp.status
    except OSError:
        return None


@pytest.fixture(scope="module")
def scaled():
    """(stack, redis server, the replicas' base port): two Rasa replicas sharing a real Redis, each with its own
    action server."""
    with redis_server() as redis:
        base = free_ports(2)
        stack = start_stack({"RELAIS_REDIS_URL": redis.url, "RELAIS_RASA_REPLICAS": "2", "RELAIS_ACTIONS_REPLICAS": "2",
                             "RELAIS_RASA_PORT": str(base), "RELAIS_ACTIONS_PORT": str(free_ports(2)),
                             "RELAIS_CONVERSATION_TTL": str(TTL)})
        try:
            yield stack, redis, base
        finally:
            stop_stack(stack)


def replica_urls(base: int) -> tuple:
    return (f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}")


def wait_until_up(stack, base: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    token = stack.env["RELAIS_RASA_TOKEN"]
    while not all(get_json_quiet(f"{url}/status?token={token}") == 200 for url in replica_urls(base)):
        assert time.monotonic() < deadline, "a killed replica did not come back"
        time.sleep(0.5)


def test_the_next_message_after_its_replica_is_killed_keeps_the_conversation(scaled):
    stack, redis, base = scaled
    session = f"kill-{uuid.uuid4().hex[:12]}"
    assert stack.chat(session, "hallo, ik word thuis geslagen door mijn man")["lang"] == "nl"
    serving = int(replica_order(replica_urls(base), session)[0].rsplit(":", 1)[1])
    os.kill(rasa_replicas(stack)[serving], signal.SIGKILL)
    started = time.monotonic()
    reply = stack.chat(session, "1030")  # no language given: it must come from the conversation, now in Redis
    assert time.monotonic() - started < 4 and not reply.get("degraded")
    assert reply["lang"] == "nl" and "Dicht bij 1030" in texts(reply)
    other = replica_urls(base)[1] if serving == base else replica_urls(base)[0]
    status, tracker = get_json(f"{other}/conversations/{session}/tracker?token={stack.env['RELAIS_RASA_TOKEN']}")
    assert status == 200 and tracker["slots"]["language"] == "nl"
    assert [e["event"] for e in tracker["events"]].count("user") == 2  # both turns, on the replica that took over
    wait_until_up(stack, base)


def test_health_counts_every_replica_and_every_action_server(scaled):
    stack, redis, base = scaled
    status, health = get_json(f"{stack.web}/health")
    assert status == 200 and health["parts"]["rasa"] == "ok" and health["parts"]["actions"] == "ok"
    port, pid = sorted(rasa_replicas(stack, b"bot.action_server").items())[-1]
    os.kill(pid, signal.SIGSTOP)  # frozen: it neither answers nor gets restarted
    try:
        status, health = get_json(f"{stack.web}/health")
        assert status == 503 and health["parts"]["actions"] == "1 of 2 up" and health["parts"]["rasa"] == "ok"
    finally:
        os.kill(pid, signal.SIGCONT)
    assert get_json(f"{stack.web}/health")[0] == 200


def test_kills_every_10_s_under_a_steady_flow_lose_no_message(scaled):
    stack, redis, base = scaled
    wait_until_up(stack, base)
    replies, stop = [], threading.Event()

    def converse(n: int) -> None:
        session = f"flow-{n}-{uuid.uuid4().hex[:8]}"
        lines = ["bonjour", "j'ai besoin de parler à quelqu'un", "pharmacie 1050", "merci"]
        i = 0
        while not stop.is_set():
            status, reply = post_json(f"{stack.web}/api/chat", {"session": session, "message": lines[i % 4]})
            replies.append((status, isinstance(reply, dict) and reply.get("degraded", False)))
            i += 1
            time.sleep(0.2)

    talkers = [threading.Thread(target=converse, args=(n,), daemon=True) for n in range(4)]
    for talker in talkers:
        talker.start()
    token, kills = stack.env["RELAIS_RASA_TOKEN"], 0
    started = time.monotonic()
    # A tick every 10 s, three kills in turn (two of one replica, one of the other: the launcher stops
    # Relais when one dies 4 times in 300 s), the flow going on for at least a minute and at most two: a
    # busy machine may need more than 10 s to bring a killed replica back, and the tick then skips.
    tick = 0
    while kills < 3 and tick < 12:
        tick += 1
        time.sleep(max(0.0, started + 10 * tick - time.monotonic()))
        up = {port: pid for port, pid in rasa_replicas(stack).items()
              if get_json_quiet(f"http://127.0.0.1:{port}/status?token={token}") == 200}
        if len(up) == 2:  # kill one only while the other answers: one replica down at a time
            os.kill(up[base + kills % 2], signal.SIGKILL)
            kills += 1
    time.sleep(max(10.0, started + 60 - time.monotonic()))
    stop.set()
    for talker in talkers:
        talker.join(30)
    assert kills >= 3
    assert len(replies) > 200
    assert [r for r in replies if r != (200, False)] == []  # every message answered, none degraded
    wait_until_up(stack, base)


def test_redis_keeps_only_expiring_conversations_and_nothing_on_disk(scaled):
    stack, redis, base = scaled
    session = f"ttl-{uuid.uuid4().hex[:12]}"
    stack.chat(session, f"bonjour je m'appelle {MARKER}")
    client = redis.client()
    key = f"relais:tracker:{session}"
    assert 0 < client.ttl(key) <= TTL
    assert client.config_get("save")["save"] == "" and client.config_get("appendonly")["appendonly"] == "no"
    time.sleep(TTL + 1.5)
    assert not client.exists(key)
    raw = redis.client(decode=False)
    assert not [k for k in raw.keys(b"*") if MARKER.encode() in (raw.dump(k) or b"")]
    assert [p.name for p in Path(redis.folder).iterdir() if p.name != "redis.conf"] == []


def test_a_redis_restart_loses_at_most_the_state_and_every_message_is_answered(scaled):
    stack, redis, base = scaled
    session = f"redis-{uuid.uuid4().hex[:12]}"
    stack.chat(session, "bonjour")
    processes = rasa_replicas(stack)
    redis.stop()
    reply = stack.chat(session, "je suis en danger")
    assert "112" in texts(reply)  # answered, at worst degraded to the emergency numbers
    redis.start()
    deadline = time.monotonic() + 20
    while True:  # the stack recovers by itself, without a restart
        reply = stack.chat(session, "je suis en danger")
        if not reply.get("degraded"):
            break
        assert time.monotonic() < deadline, "the stack did not recover from the Redis restart"
        time.sleep(1)
    assert "112" in texts(reply)
    assert rasa_replicas(stack) == processes  # the same Rasa processes: nothing was restarted


def test_a_model_reload_under_load_fails_no_reply_and_keeps_the_conversations(scaled):
    stack, redis, base = scaled
    wait_until_up(stack, base)
    replies, dutch, stop = [], [], threading.Event()

    def converse(n: int) -> None:  # 50 people, each sending a message every 3 s or so
        own = f"load-{n}-{uuid.uuid4().hex[:8]}"
        lines = ["bonjour", "j'ai peur de rentrer chez moi", "pharmacie 1000", "merci"]
        if n == 0:  # Dutch once, then only postcodes: the language must come from the conversation
            lines = ["hallo, mijn vriend controleert mijn telefoon", "1000", "1030", "1050"]
        i = 0
        time.sleep(n * 0.06)
        while not stop.is_set():
            line = lines[min(i, 3)] if n == 0 else lines[i % 4]
            status, reply = post_json(f"{stack.web}/api/chat", {"session": own, "message": line})
            replies.append((status, isinstance(reply, dict) and reply.get("degraded", False)))
            if n == 0 and isinstance(reply, dict):
                dutch.append(reply.get("lang"))
            i += 1
            time.sleep(3)

    people = [threading.Thread(target=converse, args=(n,), daemon=True) for n in range(50)]
    for person in people:
        person.start()
    time.sleep(5)
    env = {**stack.env, "RELAIS_RASA_URLS": ",".join(replica_urls(base))}
    done = subprocess.run([sys.executable, "-m", "bot", "reload-model"], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=300)
    time.sleep(3)
    stop.set()
    for person in people:
        person.join(30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("runs relais.tar.gz") == 2
    assert len(replies) > 300
    assert [r for r in replies if r != (200, False)] == []
    assert len(dutch) > 10 and set(dutch) == {"nl"}  # the conversation went on in Dutch through both reloads


def test_without_redis_a_reload_keeps_the_conversations_in_memory(stack):
    session = f"reload-mem-{uuid.uuid4().hex[:8]}"
    assert stack.chat(session, "hallo, ik word thuis geslagen")["lang"] == "nl"
    done = subprocess.run([sys.executable, "-m", "bot", "reload-model"], cwd=ROOT, env=stack.env, text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0 and "emergency numbers while the model loads" in done.stdout, done.stdout
    reply = stack.chat(session, "1000")
    assert reply["lang"] == "nl" and "Dicht bij 1000" in texts(reply)


def test_sighup_makes_the_launcher_reload_every_replica_in_turn(scaled):
    stack, redis, base = scaled
    wait_until_up(stack, base)
    mark = len(stack.output)
    os.kill(stack.process.pid, signal.SIGHUP)
    for n in (1, 2):
        assert stack.wait_for(f"replica {n} of 2", timeout=120, after=mark), stack.log()[-3000:]
    assert "".join(stack.output[mark:]).count("runs relais.tar.gz") == 2
    assert not stack.chat(f"hup-{uuid.uuid4().hex[:8]}", "bonjour").get("degraded")


def test_reload_model_from_a_shell_without_the_stack_token_says_what_to_do():
    done = subprocess.run([sys.executable, "-m", "bot", "reload-model"], cwd=ROOT, text=True, capture_output=True,
                          env={**os.environ, "RELAIS_RASA_TOKEN": ""}, timeout=60)
    assert done.returncode == 2 and "kill -HUP" in done.stdout
