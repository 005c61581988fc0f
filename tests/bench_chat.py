"""Chat latency benchmark: `make bench` (python -m tests.bench_chat).

Starts the real stack with the launcher, then holds 10 concurrent
conversations through the web server's chat endpoint, each greeting and then
asking for the nearest help to a series of places (postcodes, municipalities,
stations), and measures the reply latency of the nearby searches. Bounded in
count and time, loopback only. Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid

from aiohttp import ClientSession, ClientTimeout

from tests.bench import machine, percentile, warm_up, write_section
from tests.conftest import start_stack, stop_stack

CONVERSATIONS = 10
SEARCHES = 20
# People read the answer and type the next message: at least a second between
# messages of one conversation (real typing is slower). Without any pause the
# test would measure a 10-client saturation, reported below as well.
THINK_S = (1.0, 2.0)
TARGET_P95_MS = 300
PLACES = ["1030", "Schaerbeek", "gare du Midi", "1050", "Ixelles", "Anderlecht", "1180", "Molenbeek", "Jette",
          "place Flagey", "Saint-Gilles", "1000", "Etterbeek", "Uccle", "Forest", "Evere", "metro Montgomery"]
ASK = {"fr": "pharmacie à {}", "nl": "apotheek in {}", "en": "pharmacy near {}"}


async def conversation(http: ClientSession, url: str, rng: random.Random, samples: list,
                       think: tuple = THINK_S) -> None:
    sid = uuid.uuid4().hex
    lang = rng.choice(list(ASK))
    await http.post(f"{url}/api/chat", json={"session": sid, "message": "bonjour", "lang": lang})
    for _ in range(SEARCHES):
        await asyncio.sleep(rng.uniform(*think))
        body = {"session": sid, "message": ASK[lang].format(rng.choice(PLACES)), "lang": lang}
        start = time.perf_counter()
        async with http.post(f"{url}/api/chat", json=body) as resp:
            reply = await resp.json()
        elapsed = (time.perf_counter() - start) * 1000
        ok = resp.status == 200 and not reply.get("degraded") and any(
            "1. " in m.get("text", "") for m in reply["messages"])
        samples.append((elapsed, ok))


async def run(url: str, think: tuple = THINK_S) -> tuple[list, float]:
    rng = random.Random(42)
    samples: list = []
    async with ClientSession(timeout=ClientTimeout(total=30)) as http:
        await warm_up(http, url)
        start = time.perf_counter()
        await asyncio.gather(*(conversation(http, url, random.Random(rng.random()), samples, think)
                               for _ in range(CONVERSATIONS)))
        return samples, time.perf_counter() - start


def main() -> int:
    stack = start_stack()
    try:
        samples, wall = asyncio.run(run(stack.web))
        burst, burst_wall = asyncio.run(run(stack.web, think=(0.0, 0.0)))
    finally:
        stop_stack(stack)
    times = [s[0] for s in samples]
    burst_times = [s[0] for s in burst]
    errors = sum(not ok for _, ok in samples) + sum(not ok for _, ok in burst)
    p95 = percentile(times, 95)
    text = "\n".join([
        "## Chat latency (issue 4)", "",
        f"`python -m tests.bench_chat`: {CONVERSATIONS} concurrent conversations × {SEARCHES} nearby searches "
        "through `POST /api/chat` (web server → Rasa → action server → directory), the real stack on loopback, "
        f"geocoder off (places resolved by the gazetteer). Each conversation waits {THINK_S[0]:g}–{THINK_S[1]:g} s "
        "between messages, as a person reading and typing would; the second row sends with no pause at all "
        "(10 clients saturating the 2 cores).", "",
        f"Machine: {machine()}.", "",
        "| load | replies | p50 | p95 | max | throughput |", "|---|---|---|---|---|---|",
        f"| 10 conversations, 1–2 s between messages | {len(times)} | {percentile(times, 50):.0f} ms | {p95:.0f} ms | "
        f"{max(times):.0f} ms | {len(times) / wall:.1f} replies/s |",
        f"| 10 clients, no pause | {len(burst_times)} | {percentile(burst_times, 50):.0f} ms | "
        f"{percentile(burst_times, 95):.0f} ms | {max(burst_times):.0f} ms | "
        f"{len(burst_times) / burst_wall:.1f} replies/s |",
        "", f"Errors: {errors}. Target: p95 ≤ {TARGET_P95_MS} ms with 10 conversations "
        f"({'met' if p95 <= TARGET_P95_MS else 'MISSED'}).",
    ])
    write_section("chat-latency", text)
    print(text)
    return 0 if p95 <= TARGET_P95_MS and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
