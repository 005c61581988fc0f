"""Language identification on the held-out and fresh sets: Relais' own detector beside lingua (issue 13 research).

Run: `python -m tests.langid_compare` (needs `pip install lingua-language-detector==2.1.1`, which is not a
dependency of Relais yet). Prints, per language and for messages of three words or more, the share
identified right and what the others were taken for; figures in docs/language-id.md.
"""

from __future__ import annotations

import re
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from nlu.components import langid

SETS = Path(__file__).with_name("nlu")
CANDIDATES = ["fr", "nl", "en", "ar", "tr", "es", "pt", "pl", "ro"]
ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def messages(lang: str) -> list[str]:
    """The messages of the held-out set and of the fresh set of `lang`, without entity annotations."""
    paths = [p for p in (SETS / f"{lang}.yml", SETS / "fresh" / f"{lang}.yml") if p.exists()]
    return [ANNOTATION.sub(r"\1", line.strip()[2:]) for path in paths
            for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
            for line in block["examples"].splitlines() if line.strip().startswith("- ")]


def score(name: str, detect, langs: list[str]) -> None:
    """Print the share identified right per language (all messages; three words or more) and the confusions."""
    for lang in langs:
        rows = messages(lang)
        long_rows = [m for m in rows if len(m.split()) >= 3]
        right = sum(detect(m) == lang for m in rows)
        right_long = sum(detect(m) == lang for m in long_rows)
        taken = Counter(detect(m) or "none" for m in rows if detect(m) != lang)
        print(f"| {name} | {lang} | {right / len(rows):.1%} | {right_long / len(long_rows):.1%} ({len(long_rows)}) | "
              + (", ".join(f"{k} {v}" for k, v in taken.most_common()) or "–") + " |")


def main() -> int:
    try:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
    except ImportError:
        print("pip install lingua-language-detector==2.1.1 first", file=sys.stderr)
        return 2
    own = langid.LanguageModel.fit([*langid.nlu_file_samples(), *langid.common_word_samples()])

    def relais(m: str) -> str | None:
        return g.language if (g := own.guess(m)) else None

    print("| detector | language | all messages | 3 words or more | taken for |\n|---|---|---|---|---|")
    score("Relais (naive Bayes on its NLU data)", relais, CANDIDATES)
    for mode in ("low", "high"):  # the smaller first: a process's peak memory only grows
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        builder = LanguageDetectorBuilder.from_languages(
            *(Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in CANDIDATES))
        detector = (builder.with_low_accuracy_mode() if mode == "low" else builder).with_preloaded_language_models()
        built = detector.build()
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024
        start = time.perf_counter()

        def detect(m: str, built=built):
            found = built.detect_language_of(m)
            return found.iso_code_639_1.name.lower() if found else None

        score(f"lingua 2.1.1, {mode} accuracy (+{grown} MB)", detect, CANDIDATES)
        print(f"\n{mode}: {1000 * (time.perf_counter() - start) / 1500:.2f} ms per message (approx.)\n")

        def relais_then_lingua(m: str, detect=detect) -> str | None:
            return relais(m) or (detect(m) if len(m.split()) >= 3 else None)

        score(f"Relais, then lingua {mode} when Relais is unsure (3+ words)", relais_then_lingua, CANDIDATES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
