"""Relais against bare Rasa, and two replicas against one: `make bench` (python -m tests.bench_scale).

Issue 14 asks for every figure as a ratio from one run on one machine. This
starts, one after the other and with the same load tool:

- bare Rasa: the `rasa init` moodbot (default config, the same Rasa 3.6.21
  from the project's venv), trained once into models/bench-moodbot/ (not
  committed), served by `rasa run` and its REST channel;
- Relais as `make run` starts it (one Rasa replica, everything in memory),
  through the web server's `/api/chat`;
- Relais with RELAIS_REDIS_URL on a real redis-server and two Rasa replicas.

The load tool: N conversations, each sending its next message as soon as
the previous one is answered (no pause), until M messages have been
answered in all; one user (N=1) and ten (N=10). Relais' messages are the
load test's mix (helpline questions, danger, nearby searches in FR/NL/EN);
the moodbot's are its own (greet, mood, affirm). It reports p50/p95 per
reply, messages per second, and the memory of every process, and writes
its section of docs/benchmarks.md; exits 1 when a goal of issue 14 is missed.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout

from tests.bench import machine, percentile, warm_up, write_section
from tests.bench_load import MESSAGES, PLACES
from tests.conftest import (
    ROOT,
    children_of,
    free_port,
    free_ports,
    get_json,
    redis_server,
    rss_mb,
    start_stack,
    stop_stack,
)

MOODBOT = ROOT / "models" / "bench-moodbot"
RASA = Path(sys.executable).with_name("rasa")
MESSAGES_PER_RUN = 300
MOOD = ["hello", "I am sad", "yes", "great, carry on", "hi there", "I'm feeling very good", "no", "goodbye"]
RELAIS_MIX = ["helpline", "nearby", "danger", "nearby", "helpline", "nearby"]
GOALS = {"p95 ratio at 10": 0.5, "throughput ratio at 10": 3.0, "one user p95 ms": 50.0}
PROFILE = """What the time goes to: `py-spy record -r 100 -f raw -d 20 -p PID` on each process of the
one-replica stack while ten conversations send 1,500 messages without pause. The web server and the action
server are mostly idle; the Rasa process is busy all the time (one core: Rasa handles turns on one event loop).

Stop 23, of the Rasa process's CPU before any change: reading the conversation back from the tracker store 33 %
(of which 21 % `Event.resolve_by_type`, which searched all subclasses of `Event` for every event), the rule
policy 16 % (the states of the whole history at every prediction), the NLU graph 20 %, the call to the action
server 11 % (8.5 % turning into JSON the whole tracker and the whole domain at every call), saving the tracker
6 %. Fixed: event classes remembered (`bot/rasa_server.py`; ten conversations 46 -> 55 messages/s), the action
server sent no domain and the last 10 events only (one user p95 52 -> 48 ms).

Stop 24, what was left: the states of the whole history for the rule and memoization policies 25 %, reading
the conversation back (JSON to objects) 15 %, saving it (objects to JSON) 11 %, DIET 12 %, the danger
detector 6 % (sklearn's checks around one short text, 1 ms a message). Fixed: the in-memory store hands back
the tracker object it saved (`bot/tracker_store.py`: reading and saving fell to 1 %); a conversation keeps at
most 60 events, its last whole turns after one event per slot (`LastEvents.trimmed`: the policies' states
fell to 10 %, and a long conversation no longer slows every reply); the detector's arithmetic in plain Python
(`DetectorScore`, 0.06 ms, the same probabilities). One replica went from 2.4 to 3.8 times bare Rasa's
messages/s, one user p95 from 56 to 25 ms. Left, in order: DIET 23 % (of which TensorFlow's dispatch of one
call about a third), the rule policy 14 %, the call to the action server 12 %, the danger patterns 5 %."""


def moodbot_model() -> Path:
    """The moodbot's trained model, made by `rasa init` the first time."""
    models = sorted((MOODBOT / "models").glob("*.tar.gz"))
    if not models:
        MOODBOT.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(RASA), "init", "--no-prompt", "--init-dir", str(MOODBOT)], cwd=MOODBOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": ""})
        models = sorted((MOODBOT / "models").glob("*.tar.gz"))
    return models[-1]


def start_moodbot() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([str(RASA), "run", "--enable-api", "--port", str(port), "--model",
                                str(moodbot_model())], cwd=MOODBOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True,
                               env={**os.environ, "PYTHONPATH": ""})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if get_json(f"{url}/status", timeout=2)[0] == 200:
                return process, url
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("bare Rasa did not start")
        time.sleep(0.5)


def relais_message(rng: random.Random, i: int) -> tuple[str, str]:
    lang = rng.choice(["fr", "nl", "en"])
    return rng.choice(MESSAGES[RELAIS_MIX[i % len(RELAIS_MIX)]][lang]).format(rng.choice(PLACES)), lang


async def drive(post, users: int, total: int) -> dict:
    """`users` conversations without pause until `total` replies; p50/p95 (ms), messages per second, errors."""
    times: list = []
    errors = 0
    counter = itertools.count()

    async def user(n: int) -> None:
        nonlocal errors
        rng, sid = random.Random(n), uuid.uuid4().hex
        for i in itertools.count():
            if next(counter) >= total:
                return
            start = time.perf_counter()
            ok = await post(sid, rng, i)
            times.append((time.perf_counter() - start) * 1000)
            errors += not ok

    started = time.monotonic()
    await asyncio.gather(*(user(n) for n in range(users)))
    wall = time.monotonic() - started
    return {"p50": percentile(times, 50), "p95": percentile(times, 95), "rate": len(times) / wall,
            "errors": errors, "n": len(times)}


async def measure(url: str, bare: bool) -> dict:
    async with ClientSession(timeout=ClientTimeout(total=30)) as http:
        async def post(sid: str, rng: random.Random, i: int) -> bool:
            if bare:
                body = {"sender": sid, "message": MOOD[i % len(MOOD)]}
                endpoint = f"{url}/webhooks/rest/webhook"
            else:
                text, lang = relais_message(rng, i)
                body, endpoint = {"session": sid, "message": text, "lang": lang}, f"{url}/api/chat"
            try:
                async with http.post(endpoint, json=body) as resp:
                    reply = await resp.json()
                return resp.status == 200 and bool(reply) and not (isinstance(reply, dict) and reply.get("degraded"))
            except (OSError, asyncio.TimeoutError, ValueError):
                return False

        if not bare:
            await warm_up(http, url)
        else:
            await drive(post, 1, 10)
        return {"one": await drive(post, 1, MESSAGES_PER_RUN), "ten": await drive(post, 10, MESSAGES_PER_RUN)}


def stack_memory(launcher_pid: int) -> dict:
    """{name: MB} of the launcher's children, named by their command line."""
    memory = {}
    for pid in children_of(launcher_pid):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        name = next((a.decode().split(".")[-1] for a in argv if a.startswith(b"bot.")), "?")
        if b"--port" in argv and name == "rasa_server":
            name = f"rasa :{argv[argv.index(b'--port') + 1].decode()}"
        memory[name] = rss_mb(pid)
    return memory


def run_relais(extra_env: dict) -> tuple[dict, dict]:
    stack = start_stack({"RELAIS_GEOCODER_URL": "off", **extra_env})
    try:
        results = asyncio.run(measure(stack.web, bare=False))
        return results, stack_memory(stack.process.pid)
    finally:
        stop_stack(stack)


def main() -> int:
    bare_process, bare_url = start_moodbot()
    try:
        bare = asyncio.run(measure(bare_url, bare=True))
        bare_memory = rss_mb(bare_process.pid)
    finally:
        bare_process.terminate()
        bare_process.wait(30)
    one, one_memory = run_relais({})
    with redis_server() as redis:
        two, two_memory = run_relais({"RELAIS_REDIS_URL": redis.url, "RELAIS_RASA_REPLICAS": "2",
                                      "RELAIS_RASA_PORT": str(free_ports(2))})
    rows = [("bare Rasa (moodbot, REST channel)", bare), ("Relais, one replica (make run)", one),
            ("Relais, two replicas on Redis", two)]
    lines = [
        "## Relais against bare Rasa, one replica against two (issue 14)", "",
        f"`python -m tests.bench_scale`: each server in turn, the same load tool: one user, then ten "
        f"conversations, each sending its next message as soon as the last is answered, {MESSAGES_PER_RUN} "
        "replies each time. Bare Rasa is the `rasa init` moodbot (default config) on the same Rasa 3.6.21, "
        "through its REST channel; Relais is the whole stack through the web server's `/api/chat` (helpline, "
        "danger and nearby messages in FR/NL/EN; rate limits and geocoder off).", "",
        f"Machine: {machine()}.", "",
        "| server | one user p50 | one user p95 | ten p50 | ten p95 | ten: messages/s | errors |",
        "|---|---|---|---|---|---|---|",
        *(f"| {label} | {r['one']['p50']:.0f} ms | {r['one']['p95']:.0f} ms | {r['ten']['p50']:.0f} ms | "
          f"{r['ten']['p95']:.0f} ms | {r['ten']['rate']:.1f} | {r['one']['errors'] + r['ten']['errors']} |"
          for label, r in rows),
    ]
    def ratios(relais: dict) -> dict:
        return {"p95 ratio at 10": relais["ten"]["p95"] / bare["ten"]["p95"],
                "throughput ratio at 10": relais["ten"]["rate"] / bare["ten"]["rate"],
                "one user p95 ms": relais["one"]["p95"]}

    def meets(name: str, value: float) -> str:
        ok = value >= GOALS[name] if "throughput" in name else value <= GOALS[name]
        return "met" if ok else "**missed**"

    r1, r2 = ratios(one), ratios(two)
    lines += [
        "", "| against bare Rasa | one replica | two replicas on Redis | goal |", "|---|---|---|---|",
        f"| p95 at ten conversations | {r1['p95 ratio at 10']:.2f} ({meets('p95 ratio at 10', r1['p95 ratio at 10'])}) "
        f"| {r2['p95 ratio at 10']:.2f} ({meets('p95 ratio at 10', r2['p95 ratio at 10'])}) "
        f"| ≤ {GOALS['p95 ratio at 10']} × |",
        f"| messages/s at ten conversations | {r1['throughput ratio at 10']:.2f} "
        f"({meets('throughput ratio at 10', r1['throughput ratio at 10'])}) | {r2['throughput ratio at 10']:.2f} "
        f"({meets('throughput ratio at 10', r2['throughput ratio at 10'])}) | ≥ {GOALS['throughput ratio at 10']} × |",
        f"| one user p95 | {r1['one user p95 ms']:.0f} ms ({meets('one user p95 ms', r1['one user p95 ms'])}) | "
        f"{r2['one user p95 ms']:.0f} ms ({meets('one user p95 ms', r2['one user p95 ms'])}) "
        f"| ≤ {GOALS['one user p95 ms']:.0f} ms |",
        f"| two replicas / one: messages/s at ten | | {two['ten']['rate'] / one['ten']['rate']:.2f} | (reported) |",
        "", "Memory (resident, after the load): bare Rasa " + f"{bare_memory:.0f} MB; Relais one replica "
        + ", ".join(f"{k} {v:.0f} MB" for k, v in sorted(one_memory.items()))
        + f" (stack {sum(one_memory.values()):.0f} MB); two replicas "
        + ", ".join(f"{k} {v:.0f} MB" for k, v in sorted(two_memory.items()))
        + f" (stack {sum(two_memory.values()):.0f} MB).", "", PROFILE,
    ]
    missed = [k for k in GOALS for r in (r1, r2) if meets(k, r[k]) != "met"]
    text = "\n".join(lines)
    write_section("scale", text)
    print(text)
    return 1 if missed or any(r["one"]["errors"] + r["ten"]["errors"] for _, r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
