"""Load test: `make bench` (python -m tests.bench_load).

Starts the real stack with the launcher (rate limits off: every client here
is 127.0.0.1) and runs 50 concurrent conversations for 60 s through the web
server's chat endpoint. Each conversation greets, then mixes helpline
questions, danger messages and nearby searches with 1–3 s between messages
(a person reading and typing), and starts over with a new session when it
has sent ten messages. A bounded asyncio client: no request is retried, each
has 30 s. Reports p50/p95/max latency per kind of message, throughput,
errors, and the resident memory of each process before and after. Writes its
section of docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid

from aiohttp import ClientSession, ClientTimeout

from tests.bench import machine, percentile, warm_up, write_section
from tests.conftest import rss_mb, stack_parts, start_stack, stop_stack

CONVERSATIONS = 50
DURATION_S = 60.0
THINK_S = (1.0, 3.0)
MESSAGES = {
    "greeting": {"fr": ["bonjour", "salut"], "nl": ["hallo", "goedendag"], "en": ["hello", "hi there"]},
    "helpline": {"fr": ["j'ai besoin de parler à quelqu'un", "c'est normal qu'il contrôle mon téléphone ?"],
                 "nl": ["ik wil met iemand praten", "is het normaal dat hij mijn geld afpakt"],
                 "en": ["I need to talk to someone", "what happens when I call the helpline"]},
    "danger": {"fr": ["il me frappe, je suis en danger"], "nl": ["hij slaat me, ik ben in gevaar"],
               "en": ["he is hitting me, I'm in danger"]},
    "nearby": {"fr": ["pharmacie à {}", "aide près de {}"], "nl": ["apotheek in {}", "hulp in de buurt van {}"],
               "en": ["pharmacy near {}", "help near {}"]},
}
PLACES = ["1030", "Schaerbeek", "gare du Midi", "1050", "Ixelles", "Anderlecht", "1180", "Molenbeek", "Jette",
          "place Flagey", "Saint-Gilles", "1000", "Etterbeek", "Uccle", "Forest", "Evere", "metro Montgomery"]
MIX = ["helpline", "nearby", "nearby", "danger", "helpline", "nearby", "nearby", "helpline", "nearby"]


async def conversation(http: ClientSession, url: str, rng: random.Random, deadline: float, samples: list) -> None:
    while time.monotonic() < deadline:
        sid, lang = uuid.uuid4().hex, rng.choice(["fr", "nl", "en"])
        for kind in ["greeting", *MIX]:
            if time.monotonic() >= deadline:
                return
            text = rng.choice(MESSAGES[kind][lang]).format(rng.choice(PLACES))
            start = time.perf_counter()
            try:
                async with http.post(f"{url}/api/chat", json={"session": sid, "message": text, "lang": lang}) as resp:
                    reply = await resp.json()
                ok = resp.status == 200 and not reply.get("degraded") and bool(reply.get("messages"))
            except (OSError, asyncio.TimeoutError, ValueError):
                ok = False
            samples.append((kind, (time.perf_counter() - start) * 1000, ok))
            await asyncio.sleep(rng.uniform(*THINK_S))


async def run(url: str) -> tuple[list, float]:
    rng = random.Random(7)
    samples: list = []
    async with ClientSession(timeout=ClientTimeout(total=30)) as http:
        await warm_up(http, url)
        start = time.monotonic()
        await asyncio.gather(*(conversation(http, url, random.Random(rng.random()), start + DURATION_S, samples)
                               for _ in range(CONVERSATIONS)))
        return samples, time.monotonic() - start


def row(label: str, times: list, wall: float) -> str:
    return (f"| {label} | {len(times)} | {percentile(times, 50):.0f} ms | {percentile(times, 95):.0f} ms | "
            f"{max(times):.0f} ms | {len(times) / wall:.1f}/s |")


def main() -> int:
    stack = start_stack({"RELAIS_GEOCODER_URL": "off"})
    try:
        parts = stack_parts(stack)
        before = {name: rss_mb(pid) for name, pid in parts.items()}
        samples, wall = asyncio.run(run(stack.web))
        after = {name: rss_mb(pid) for name, pid in parts.items()}
    finally:
        stop_stack(stack)
    errors = sum(not ok for _, _, ok in samples)
    lines = [
        "## Load: 50 conversations for 60 s (issue 6)", "",
        f"`python -m tests.bench_load`: {CONVERSATIONS} concurrent conversations for {DURATION_S:.0f} s through "
        "`POST /api/chat`, the real stack on loopback (rate limits off, geocoder off). Each conversation greets, "
        "then mixes helpline questions, danger messages and nearby searches, waiting "
        f"{THINK_S[0]:g}–{THINK_S[1]:g} s between messages, and starts a new session after ten messages.", "",
        f"Machine: {machine()}.", "",
        "| messages | replies | p50 | p95 | max | throughput |", "|---|---|---|---|---|---|",
        row("all", [t for _, t, _ in samples], wall),
        *(row(kind, [t for k, t, _ in samples if k == kind], wall) for kind in MESSAGES),
        "", f"Errors (non-200, degraded, timeout or empty answer): {errors} of {len(samples)}.", "",
        "| process | memory before | memory after |", "|---|---|---|",
        *(f"| {name} | {before[name]:.0f} MB | {after[name]:.0f} MB |" for name in sorted(parts)),
        "", "First bottleneck found (2026-11-22, py-spy on the Rasa process during this load): Rasa validated "
        "every action server response with `jsonschema.validate()`, which re-checks the schema on every call "
        "(about 12 % of Rasa's CPU, 14 % with the validation itself). `bot/rasa_server.py` now validates with "
        "one validator built once. Same load on the same machine without that change: all messages p50 63 ms, "
        "p95 476 ms; nearby searches p50 119 ms, p95 541 ms (an earlier run: p95 375 and 417 ms). Greetings keep "
        "a high p95: the 50 conversations start at the same second, and a first message also creates the "
        "conversation.",
    ]
    text = "\n".join(lines)
    write_section("load", text)
    print(text)
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
