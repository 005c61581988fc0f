"""Score the trained model on the held-out test sets: `make eval` (also run by `make test`).

Reads tests/nlu/<lang>.yml and the fresh check set tests/nlu/fresh/<lang>.yml
(neither used for training), parses every
message with the real model (all custom components included) and reports,
per language: intent accuracy, recall of `danger`, the false alarm rate
(other messages taken as danger), language detection, and what a search
asks to find (entity `search_for`, on the examples annotated with it). Writes
docs/nlu-eval.md and exits 1 when a quality bar is missed (the constants
below): intent accuracy ≥ 95 % per language on the held-out sets and ≥ 85 %
on the fresh sets, danger recall 100 % on both sets, lower floors for draft
languages (reported against issue 13's targets), no disclosure taken as out
of scope (which would get the bare "I cannot help with that"), and every
annotated `search_for` found. The report ends with a confusion
matrix per language: for each intent, what its misread messages were taken for.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Optional

import yaml

from directory import languages

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "tests" / "nlu"
# A second, smaller set written after the model was tuned on the errors of the first, by someone who had
# read neither the training data nor the first set: the honest figure for danger recall and false alarms.
FRESH = SETS / "fresh"
# Issue 16's situations (online violence, harassment in public and at work, discrimination and hate, victims'
# rights), written before their training data by someone who read none of it: ≥ 95 % per language.
SITUATIONS = SETS / "situations"
# Their target is issue 16's 95 % with no disclosure taken as out of scope; until the model reaches it, `make test`
# holds these floors (stop 25, DIET: 69-79 % accuracy; stop 27, the linear classifier and 85 more examples per
# situation and language: 90.6-92.0 %, one Dutch message out of scope) and the report says so.
SITUATIONS_FLOOR, SITUATIONS_TARGET = 0.85, 0.95
SITUATIONS_OUT_OF_SCOPE_FLOOR = 1
OUT = ROOT / "docs" / "nlu-eval.md"
MODEL = ROOT / "models" / "relais.tar.gz"
ACCURACY_BAR = 0.95  # issue 12's bar on the held-out sets, held by `make test` per language
FRESH_BAR = 0.85  # the floor on the fresh set (87 messages: one is 1.1 points; a few added examples move it by 4)
# A draft language (directory/languages.yml `draft`: no native speaker has read its texts yet) is held to floors
# below which `make test` fails, and reported against issue 13's targets (90 % accuracy, 100 % danger recall).
DRAFT_ACCURACY_BAR, DRAFT_ACCURACY_TARGET = 0.80, 0.90  # stop 27: 86.3-97.6 % (60 % until then)
DRAFT_DANGER_BAR, DRAFT_DANGER_TARGET = 0.95, 1.0
# Both lead to the same polite answer, so either is right for out-of-scope messages.
EQUIVALENT = {"out_of_scope": {"out_of_scope", "nlu_fallback"}}
# Someone telling what happens to them (or to someone close) must never get the out-of-scope
# answer; `nlu_fallback` is acceptable because it offers the situations as buttons.
DISCLOSURES = {"danger", "need_to_talk", "sexual_violence", "pharmacist_disclosure", "leave_home_tonight", "children",
               "fgm_forced_marriage", "lgbtqi_violence", "perpetrator", "relative_witness", "violence_forms",
               "safety_plan", "helpline_call", "online_violence", "harassment_public", "discrimination_hate",
               "victim_rights"}


# `[pharmacie]{"entity": "search_for", "value": "pharmacy"}`: the text, and what the NLU must find in it.
SEARCH_FOR = re.compile(r'\[([^\]]+)\]\{"entity": "search_for", "value": "([a-z]+)"\}')


def examples(path: Path) -> list[tuple[str, str, Optional[str]]]:
    """(text, intent, expected search_for value or None) for each held-out message of a set file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rows = []
    for block in data["nlu"]:
        for line in block["examples"].splitlines():
            if line.strip().startswith("- "):
                raw = line.strip()[2:]
                wanted = SEARCH_FOR.search(raw)
                rows.append((SEARCH_FOR.sub(lambda m: m.group(1), raw), block["intent"],
                             wanted.group(2) if wanted else None))
    return rows


async def score(agent, folder: Path) -> tuple[dict, list, dict]:
    """Per-language figures, the errors and the confusion counts of the sets in `folder`."""
    results, errors, confusion = {}, [], {}
    for lang in languages.codes():
        if not (folder / f"{lang}.yml").exists():
            continue
        rows = examples(folder / f"{lang}.yml")
        confusion[lang] = Counter()
        correct = danger_total = danger_hit = false_alarm = other_total = lang_ok = search_n = search_ok = 0
        out_of_scope = 0
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
            confusion[lang][(expected, expected if ok else predicted)] += 1
            out_of_scope += expected in DISCLOSURES and predicted == "out_of_scope"
            lang_ok += detected in (lang, None)
            if expected == "danger":
                danger_total += 1
                danger_hit += predicted == "danger"
            else:
                other_total += 1
                false_alarm += predicted == "danger"
            if not ok:
                errors.append((lang, text, expected, predicted))
        results[lang] = {"n": len(rows), "accuracy": correct / len(rows),
                         "danger_recall": danger_hit / danger_total if danger_total else 1.0,
                         "danger_n": danger_total, "false_alarms": false_alarm, "others": other_total,
                         "language_ok": lang_ok / len(rows), "search_n": search_n, "search_ok": search_ok,
                         "out_of_scope": out_of_scope}
    return results, errors, confusion


def confusion_lines(lang: str, counts: Counter) -> list[str]:
    """One row per intent: its messages, how many were read right, and what the others were taken for."""
    lines = [f"### {lang}", "", "| intent | messages | read right | taken for |", "|---|---|---|---|"]
    for intent in sorted({expected for expected, _ in counts}):
        row = {got: n for (expected, got), n in counts.items() if expected == intent}
        total, right = sum(row.values()), row.get(intent, 0)
        wrong = ", ".join(f"`{got}` {n}" for got, n in sorted(row.items(), key=lambda kv: -kv[1]) if got != intent)
        lines.append(f"| {intent} | {total} | {right} | {wrong or '–'} |")
    return lines + [""]


def situations_table(results: dict) -> list[str]:
    lines = ["| language | messages | intent accuracy | disclosures taken as out of scope |", "|---|---|---|---|"]
    return lines + [f"| {lang} | {r['n']} | {r['accuracy']:.1%} | {r['out_of_scope']} |" for lang, r in results.items()]


def table(results: dict) -> list[str]:
    lines = ["| language | messages | intent accuracy | danger recall | false alarms "
             "| disclosures taken as out of scope | language detected right or left unchanged "
             "| what to find (`search_for`) |",
             "|---|---|---|---|---|---|---|---|"]
    for lang, r in results.items():
        lines.append(f"| {lang} | {r['n']} | {r['accuracy']:.1%} | {r['danger_recall']:.0%} of {r['danger_n']} | "
                     f"{r['false_alarms']} of {r['others']} ({r['false_alarms'] / r['others']:.1%}) | "
                     f"{r['out_of_scope']} | "
                     f"{r['language_ok']:.0%} | {r['search_ok']} of {r['search_n']} |")
    return lines


async def score_all() -> tuple[dict, list, dict, dict, list, dict, list, dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(MODEL))
    results, errors, confusion = await score(agent, SETS)
    fresh, fresh_errors, _ = await score(agent, FRESH)
    situations, situation_errors, situation_confusion = await score(agent, SITUATIONS)
    return results, errors, confusion, fresh, fresh_errors, situations, situation_errors, situation_confusion


def below(r: dict, draft: bool, accuracy_bar: float) -> bool:
    """True when a language's scores on one set miss its bars (a draft language's floors if `draft`)."""
    return (r["accuracy"] < (DRAFT_ACCURACY_BAR if draft else accuracy_bar)
            or r["danger_recall"] < (DRAFT_DANGER_BAR if draft else 1.0) or bool(r["out_of_scope"]))


def main() -> int:
    from bot import logsafe

    logsafe.install()  # Rasa's own debug lines would print the test messages, as they would users' on a server
    logging.disable(logging.WARNING)
    os.environ.setdefault("RELAIS_GEOCODER_URL", "off")
    results, errors, confusion, fresh, fresh_errors, situations, situation_errors, situation_confusion = \
        asyncio.run(score_all())
    lines = ["# NLU evaluation on the held-out test sets", "",
             f"Made by `make eval` on {date.today().isoformat()} with `models/relais.tar.gz`; test sets in "
             "`tests/nlu/` (typos, no accents, SMS style; never used for training).", "",
             *table(results)]
    if fresh:
        lines += ["", "A fresh set (`tests/nlu/fresh/`, 87 messages per language), written from the intents' "
                  "definitions alone by someone who had read neither the training data nor the sets above, "
                  "never used for training or tuning: the figures to trust.", "",
                  *table(fresh)]
    if situations:
        lines += ["", "Issue 16's situations (`tests/nlu/situations/`: online violence, harassment in public space "
                  "and at work, discrimination and hate, victims' rights after a complaint), written before their "
                  "training data by someone who had read none of it, never used for training. Target "
                  f"{SITUATIONS_TARGET:.0%} per language and no disclosure taken as out of scope; `make test` holds "
                  f"floors of {SITUATIONS_FLOOR:.0%} and at most {SITUATIONS_OUT_OF_SCOPE_FLOOR} out of scope until "
                  "then: target " + ("met." if all(r["accuracy"] >= SITUATIONS_TARGET and not r["out_of_scope"]
                                                   for r in situations.values()) else "not met."),
                  "", *situations_table(situations)]
    drafts = [lang for lang in results if languages.get(lang).draft]
    short = [f"{lang}{label} ({r['accuracy']:.1%} accuracy, {r['danger_recall']:.0%} danger recall)"
             for label, scores in (("", results), (" fresh", fresh)) for lang, r in scores.items() if lang in drafts
             and (r["accuracy"] < DRAFT_ACCURACY_TARGET or r["danger_recall"] < DRAFT_DANGER_TARGET)]
    lines += ["", f"Bars (`make test` fails below them): intent accuracy ≥ {ACCURACY_BAR:.0%} per language on the "
              f"held-out sets and ≥ {FRESH_BAR:.0%} on the fresh set; danger recall 100 % (both sets); "
              "no disclosure taken as out of scope; every annotated `search_for` found. Draft languages "
              f"({', '.join(drafts) or 'none'}; no native speaker has read their texts yet): accuracy ≥ "
              f"{DRAFT_ACCURACY_BAR:.0%} and danger recall ≥ {DRAFT_DANGER_BAR:.0%} on both sets, against targets of "
              f"{DRAFT_ACCURACY_TARGET:.0%} and {DRAFT_DANGER_TARGET:.0%}: "
              + (f"not met for {'; '.join(short)}." if short else "met."), "",
              "## Confusion matrix", "",
              "For each intent of the test sets: how many of its messages were read right, and what the others "
              "were taken for (`nlu_fallback`: the bot said it was unsure and offered the situations as buttons).", ""]
    for lang, counts in confusion.items():
        lines += confusion_lines(lang, counts)
    for lang, counts in situation_confusion.items():
        lines += confusion_lines(f"{lang} (issue 16's situations)", counts)
    lines += ["## Errors", ""]
    lines += [f"- [{lang}] \"{text}\": expected `{exp}`, got `{got}`" for lang, text, exp, got in errors] or ["none"]
    if fresh:
        lines += ["", "## Errors on the fresh set", ""]
        lines += [f"- [{lang}] \"{text}\": expected `{exp}`, got `{got}`"
                  for lang, text, exp, got in fresh_errors] or ["none"]
    if situations:
        lines += ["", "## Errors on issue 16's situations", ""]
        lines += [f"- [{lang}] \"{text}\": expected `{exp}`, got `{got}`"
                  for lang, text, exp, got in situation_errors] or ["none"]
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    missed = [lang for lang, r in results.items()
              if below(r, lang in drafts, ACCURACY_BAR) or r["search_ok"] < r["search_n"]]
    missed += [f"{lang} (fresh)" for lang, r in fresh.items() if below(r, lang in drafts, FRESH_BAR)]
    missed += [f"{lang} (issue 16's situations)" for lang, r in situations.items()
               if r["accuracy"] < SITUATIONS_FLOOR or r["out_of_scope"] > SITUATIONS_OUT_OF_SCOPE_FLOOR]
    if missed:
        print(f"\nquality bar missed for: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
