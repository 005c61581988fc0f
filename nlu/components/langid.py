"""Offline language identification for short chat messages (fr / nl / en).

A multinomial naive Bayes over folded words and character trigrams, trained on
the project's own NLU examples plus a list of common words per language. It
is small (a few thousand counts), needs no download, and answers in well under
a millisecond. On a message it cannot judge ("ok", "112", an emoji) it says
so by returning no language, so that the conversation keeps the previous one.

Explicit requests ("in English please", "en français", "Nederlands aub") win
over the statistics: a short message that names a language selects it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional

import yaml

from directory import languages
from directory.textnorm import fold, words

COMMON_WORDS = Path(__file__).with_name("common_words.yml")
NLU_ROOT = Path(__file__).resolve().parent.parent
ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")

# Words every language uses: they say nothing of the user's language.
NEUTRAL = {"ok", "okay", "oke", "okey", "okido", "ciao", "lol", "mdr", "hmm", "hm", "euh", "eh", "ah", "oh", "haha",
           "hihi", "xd", "yes", "no", "si", "sos", "eva", "cpvs", "zsg", "gams"}
# A whole known word says more than its letters: it counts this many times.
WORD_WEIGHT = 3
# A message of at most this many words that several languages share keeps the conversation's language.
SHORT_WORDS = 2
# A language uses a word as its own when it has at least this share of the top language's count of it
# (weighted counts: "hello" in French examples 3 against 42 in English; "bonjour" in Arabic ones 3 against 63).
BORROWED_SHARE = 0.05
# A message naming a language counts as a request only when it is this short.
MAX_REQUEST_WORDS = 6


@dataclass
class Guess:
    """A detected language with its posterior probability and why."""

    language: str
    confidence: float
    reason: str  # "request", "script" or "statistics"


def features(text: str) -> list[str]:
    """Word and character-trigram features of a text."""
    feats: list[str] = []
    for word in words(text):
        if any(ch.isdigit() for ch in word) or word in NEUTRAL:
            continue
        feats.extend(["w:" + word] * WORD_WEIGHT)
        padded = f" {word} "
        feats.extend("c:" + padded[i : i + 3] for i in range(len(padded) - 2))
    return feats


def requested_language(text: str) -> Optional[str]:
    """The language a short message explicitly asks for, if any."""
    tokens = words(text)
    if not tokens or len(tokens) > MAX_REQUEST_WORDS:
        return None
    registry = languages.registry().languages
    # A code counts only as a whole message ("nl"): "en" is also a French word.
    if len(tokens) == 1:
        by_code = [lang for lang, entry in registry.items() if tokens[0] in entry.asked_as_code]
        if by_code:
            return by_code[0]
    named = {lang for lang, entry in registry.items() if entry.asked_as & set(tokens)}
    return named.pop() if len(named) == 1 else None


@dataclass
class LanguageModel:
    """Naive Bayes counts per language; build with `fit`, use with `guess`."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    min_confidence: float = 0.85
    _vocabulary: Optional[frozenset] = field(default=None, repr=False, compare=False)
    _totals: Optional[dict] = field(default=None, repr=False, compare=False)

    def _prepare(self) -> tuple[frozenset, dict]:
        """(vocabulary, total count per language), computed once."""
        if self._vocabulary is None or self._totals is None:
            self._vocabulary = frozenset().union(*(c.keys() for c in self.counts.values())) if self.counts \
                else frozenset()
            self._totals = {lang: sum(table.values()) for lang, table in self.counts.items()}
        return self._vocabulary, self._totals

    @classmethod
    def fit(cls, samples: Iterable[tuple[str, str]], min_confidence: float = 0.85) -> "LanguageModel":
        """Learn from (text, language) pairs; other languages are ignored."""
        counts: dict[str, Counter] = {lang: Counter() for lang in languages.codes()}
        for text, lang in samples:
            if lang in counts:
                counts[lang].update(features(text))
        return cls({lang: dict(c) for lang, c in counts.items()}, min_confidence)

    def to_dict(self) -> dict:
        return {"counts": self.counts, "min_confidence": self.min_confidence}

    @classmethod
    def from_dict(cls, data: dict) -> "LanguageModel":
        return cls(data["counts"], data.get("min_confidence", 0.85))

    def probabilities(self, text: str) -> dict[str, float]:
        """Posterior per language (uniform prior); empty when nothing is known."""
        vocabulary, totals = self._prepare()
        feats = [f for f in features(text) if f in vocabulary]
        if not feats:
            return {}
        size = len(vocabulary)
        scores = {}
        for lang, table in self.counts.items():
            total = totals[lang]
            scores[lang] = sum(math.log((table.get(f, 0) + 0.5) / (total + 0.5 * size)) for f in feats)
        top = max(scores.values())
        exp = {lang: math.exp(s - top) for lang, s in scores.items()}
        norm = sum(exp.values())
        return {lang: v / norm for lang, v in exp.items()}

    def shared_short_message(self, text: str) -> bool:
        """True for a message of one or two words that several languages use as they are ("ja" is Dutch and
        Polish, "merci" French and Brussels Dutch): it says nothing of the language, the conversation keeps its own."""
        tokens = [w for w in words(text) if w not in NEUTRAL and not any(ch.isdigit() for ch in w)]
        if not tokens or len(tokens) > SHORT_WORDS:
            return False
        speaking = [lang for lang in self.counts if all(self.uses(lang, t) for t in tokens)]
        return len(speaking) > 1

    def uses(self, lang: str, word: str) -> bool:
        """True when `lang`'s examples use `word` as their own: at least BORROWED_SHARE as often as the language
        that uses it most ("bonjour" in one Arabic example against 21 French ones is a borrowing)."""
        counts = [table.get("w:" + word, 0) for table in self.counts.values()]
        mine = self.counts[lang].get("w:" + word, 0)
        return mine > 0 and mine >= BORROWED_SHARE * max(counts)

    def guess(self, text: str) -> Optional[Guess]:
        """The language of `text`, or None when the message is too ambiguous."""
        asked = requested_language(text)
        if asked:
            return Guess(asked, 1.0, "request")
        by_letters = written_in_own_letters(text)
        if by_letters:
            return Guess(by_letters, 1.0, "script")
        if self.shared_short_message(text):
            return None
        probs = self.probabilities(text)
        if not probs:
            return None
        lang, p = max(probs.items(), key=lambda kv: kv[1])
        if p < self.min_confidence:
            return None
        return Guess(lang, p, "statistics")


def written_in_own_letters(text: str) -> Optional[str]:
    """The language whose own letters (registry `own_letters`, e.g. the Arabic script) make up most of
    the letters of `text`, if any: "mon mari يضربني كل يوم" is Arabic, "3afak" is left to the statistics."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    for code, entry in languages.registry().languages.items():
        if entry.own_letters and sum(bool(re.match(entry.own_letters, ch)) for ch in letters) * 2 > len(letters):
            return code
    return None


def supported(language: object) -> Optional[str]:
    """Normalise a language code from metadata ("FR", "nl-BE") or None."""
    if not isinstance(language, str):
        return None
    code = fold(language)[:2]
    return languages.known(code)


def common_word_samples() -> Iterator[tuple[str, str]]:
    """(word, language) for the everyday words of `common_words.yml`."""
    common = yaml.safe_load(COMMON_WORDS.read_text(encoding="utf-8"))
    for lang, text in common.items():
        yield from ((word, lang) for word in text.split())


def nlu_file_samples(root: Path = NLU_ROOT) -> Iterator[tuple[str, str]]:
    """(example, language) from the NLU files (`nlu/<language>/*.yml`), without Rasa.

    The examples the LanguageDetector learns from inside Rasa (where it picks
    them by their `metadata: {language}`, here by their folder, which agree),
    for the web server, which guesses the language of a message Rasa could not
    answer.
    """
    for lang in languages.codes():
        for path in sorted((root / lang).glob("*.yml")):
            for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
                for line in str(block.get("examples") or "").splitlines():
                    text = line.strip().removeprefix("- ").strip()
                    if text:
                        yield ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", text), lang
