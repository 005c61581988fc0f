"""Nine languages against three: `make bench` (python -m tests.bench_languages).

Issue 13 asks that the nine languages do not make the bot slower or heavier
in a way users feel: chat reply p95 and memory within 10 % of a three-language
bot. This trains, at every run, a model on the French, Dutch and English data alone
(the same config, domain and rules: models/bench-three-languages.tar.gz, not
committed), then runs the load of tests/bench_load.py (50 conversations,
greetings, helpline questions, danger messages and nearby searches in FR, NL
and EN) against the real stack with each model, side by side in one run, in
the order three, nine, nine, three so that a warmer machine favours neither.
Writes its section of docs/benchmarks.md; exits 1 when a ratio is above 1.10.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
from pathlib import Path

from bot.build_chain import train
from tests.bench import machine, percentile, write_section
from tests.bench_load import run
from tests.conftest import ROOT, rss_mb, stack_parts, start_stack, stop_stack

NINE = ROOT / "models" / "relais.tar.gz"
THREE = ROOT / "models" / "bench-three-languages.tar.gz"
THREE_DATA = ("nlu/fr", "nlu/nl", "nlu/en", "nlu/search_for.yml", "bot/data")
MAX_RATIO = 1.10


def measure(model: Path) -> dict:
    """p50/p95 of every reply and the Rasa process's memory under the load, with `model`."""
    stack = start_stack({"RELAIS_MODEL": str(model), "RELAIS_GEOCODER_URL": "off"})
    try:
        samples, _ = asyncio.run(run(stack.web))
        rasa = stack_parts(stack).get("rasa")
        memory = rss_mb(rasa) if rasa else 0.0
    finally:
        stop_stack(stack)
    times = [t for _, t, _ in samples]
    return {"p50": percentile(times, 50), "p95": percentile(times, 95), "memory": memory, "n": len(times),
            "errors": sum(not ok for _, _, ok in samples)}


def main() -> int:
    train(THREE, THREE_DATA)  # every run: the same config, domain and rules as the nine-language model
    runs = {"three": [], "nine": []}
    for name in ("three", "nine", "nine", "three"):
        runs[name].append(measure(THREE if name == "three" else NINE))
    mean = {name: {k: statistics.fmean(r[k] for r in rs) for k in ("p50", "p95", "memory")}
            for name, rs in runs.items()}
    ratio = {k: mean["nine"][k] / mean["three"][k] for k in ("p50", "p95", "memory")}
    errors = sum(r["errors"] for rs in runs.values() for r in rs)
    met = ratio["p95"] <= MAX_RATIO and ratio["memory"] <= MAX_RATIO and not errors
    text = "\n".join([
        "## Nine languages against three (issue 13)", "",
        "`python -m tests.bench_languages`: the load of `tests.bench_load` (50 conversations for 60 s, FR/NL/EN "
        "messages) against the real stack with a model trained on the French, Dutch and English data alone and "
        "with the nine-language model, same code, config and rules, in one run (order: three, nine, nine, three; "
        "means of two runs each).", "",
        f"Machine: {machine()}.", "",
        "| model | replies | p50 | p95 | Rasa memory |", "|---|---|---|---|---|",
        *(f"| {name} languages | {sum(r['n'] for r in runs[name])} | {mean[name]['p50']:.0f} ms | "
          f"{mean[name]['p95']:.0f} ms | {mean[name]['memory']:.0f} MB |" for name in ("three", "nine")),
        f"| nine / three | | {ratio['p50']:.2f} | {ratio['p95']:.2f} | {ratio['memory']:.2f} |", "",
        f"Errors: {errors}. Target: p95 and memory ratios ≤ {MAX_RATIO:.2f} ({'met' if met else 'MISSED'}).",
    ])
    write_section("languages", text)
    print(text)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
