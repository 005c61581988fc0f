"""Score the trained model on the held-out test sets: `make eval` (also run by `make test`).

Reads tests/nlu/{fr,nl,en}.yml (never used for training), parses every
message with the real model (all custom components included) and reports,
per language: intent accuracy, recall of `danger`, the false alarm rate
(other messages taken as danger), language detection, and what a search
asks to find (entity `search_for`, on the examples annotated with it). Writes
docs/nlu-eval.md and exits 1 when a quality bar is missed:
intent accuracy ≥ 92 % per language, danger recall 100 %, and every
annotated `search_for` found.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from datetime import date
from pathlib import Path
from typing import Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "tests" / "nlu"
OUT = ROOT / "docs" / "nlu-eval.md"
MODEL = ROOT / "models" / "relais.tar.gz"
ACCURACY_BAR = 0.92
# Both lead to the same polite answer, so either is right for out-of-scope messages.
EQUIVALENT = {"out_of_scope": {"out_of_scope", "nlu_fallback"}}


# `[pharmacie]{"entity": "search_for", "value": "pharmacy"}`: the text, and what the NLU must find in it.
SEARCH_FOR = re.compile(r'\[([^\]]+)\]\{"entity": "search_for", "value": "([a-z]+)"\}')


def examples(lang: str) -> list[tuple[str, str, Optional[str]]]:
    """(text, intent, expected search_for value or None) for each held-out message."""
    data = yaml.safe_load((SETS / f"{lang}.yml").read_text(encoding="utf-8"))
    rows = []
    for block in data["nlu"]:
        for line in block["examples"].splitlines():
            if line.strip().startswith("- "):
                raw = line.strip()[2:]
                wanted = SEARCH_FOR.search(raw)
                rows.append((SEARCH_FOR.sub(lambda m: m.group(1), raw), block["intent"],
                             wanted.group(2) if wanted else None))
    return rows


async def score() -> tuple[dict, list]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(MODEL))
    results, errors = {}, []
    for lang in ("fr", "nl", "en"):
        rows = examples(lang)
        correct = danger_total = danger_hit = false_alarm = other_total = lang_ok = search_n = search_ok = 0
        for text, expected, search in rows:
            parsed = await agent.parse_message(text)
            if search:
                search_n += 1
                found = {e["value"] for e in parsed.get("entities", []) if e["entity"] == "search_for"}
                search_ok += search in found
                if search not in found:
                    errors.append((lang, text, f"search_for={search}", ",".join(sorted(found)) or "nothing"))
            predicted = parsed["intent"]["name"]
            detected = next((e["value"] for e in parsed.get("entities", []) if e["entity"] == "language"), None)
            ok = predicted in EQUIVALENT.get(expected, {expected})
            correct += ok
            lang_ok += detected in (lang, None)
            if expected == "danger":
                danger_total += 1
                danger_hit += predicted == "danger"
            else:
                other_total += 1
                false_alarm += predicted == "danger"
            if not ok:
                errors.append((lang, text, expected, predicted))
        results[lang] = {"n": len(rows), "accuracy": correct / len(rows), "danger_recall": danger_hit / danger_total,
                         "danger_n": danger_total, "false_alarms": false_alarm, "others": other_total,
                         "language_ok": lang_ok / len(rows), "search_n": search_n, "search_ok": search_ok}
    return results, errors


def main() -> int:
    logging.disable(logging.WARNING)
    os.environ.setdefault("RELAIS_GEOCODER_URL", "off")
    results, errors = asyncio.run(score())
    lines = ["# NLU evaluation on the held-out test sets", "",
             f"Made by `make eval` on {date.today().isoformat()} with `models/relais.tar.gz`; test sets in "
             "`tests/nlu/` (typos, no accents, SMS style; never used for training).", "",
             "| language | messages | intent accuracy | danger recall | false alarms "
             "| language detected right or left unchanged | what to find (`search_for`) |",
             "|---|---|---|---|---|---|---|"]
    for lang, r in results.items():
        lines.append(f"| {lang} | {r['n']} | {r['accuracy']:.1%} | {r['danger_recall']:.0%} of {r['danger_n']} | "
                     f"{r['false_alarms']} of {r['others']} ({r['false_alarms'] / r['others']:.1%}) | "
                     f"{r['language_ok']:.0%} | {r['search_ok']} of {r['search_n']} |")
    lines += ["", f"Bars: intent accuracy ≥ {ACCURACY_BAR:.0%} per language; danger recall 100 %; "
              "every annotated `search_for` found.", "",
              "## Errors", ""]
    lines += [f"- [{lang}] \"{text}\": expected `{exp}`, got `{got}`" for lang, text, exp, got in errors] or ["none"]
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    missed = [lang for lang, r in results.items()
              if r["accuracy"] < ACCURACY_BAR or r["danger_recall"] < 1.0 or r["search_ok"] < r["search_n"]]
    if missed:
        print(f"\nquality bar missed for: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
