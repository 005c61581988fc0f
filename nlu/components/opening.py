"""Rasa NLU component: a white-space tokenizer that leaves out an opening greeting and folds words.

People often start with a greeting: "hallo, ik word thuis uitgescholden",
"hi, my boyfriend reads all my messages". The classifier used to read such a
message as a greeting. This tokenizer drops the opening (`openings.yml`,
every language) from the tokens when at least three words follow it, in
training and at run time alike, so the intent is learnt and predicted from
what the person came to say. The text itself is unchanged: entity
extractors and every later component see the whole message with its
offsets; a greeting alone ("bonjour", "hello there") stays a greeting.

Each token's lemma, which the intent classifier reads, is its folded form
(directory.textnorm.fold): "fête"/"fete", "ağlıyorum"/"agliyorum",
"أنا"/"انا", "مرة"/"مره" are one word to the classifier, as people type
them either way.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from directory.textnorm import fold
from nlu.components.ngrams import code_fingerprint

OPENINGS = Path(__file__).with_name("openings.yml")
# Fewer words than this after an opening: the message is the greeting itself ("bonsoir à vous", "hi im 14").
MIN_REST = 3


@lru_cache(maxsize=1)
def openings() -> tuple[tuple[str, ...], ...]:
    """The openings of every language as folded word tuples, longest first."""
    data = yaml.safe_load(OPENINGS.read_text(encoding="utf-8"))["openings"]
    phrases = {tuple(fold(p).split()) for entries in data.values() for p in entries}
    return tuple(sorted((p for p in phrases if p), key=len, reverse=True))


def opening_length(words: List[str]) -> int:
    """How many of the folded `words` form an opening greeting with at least MIN_REST words after it (else 0).

    >>> opening_length(["hallo", "ik", "word", "uitgescholden"]), opening_length(["hello", "there"])
    (1, 0)
    >>> opening_length(["good", "evening", "i", "was", "raped"]), opening_length(["bonsoir", "a", "vous"])
    (2, 0)
    """
    for phrase in openings():
        if tuple(words[:len(phrase)]) == phrase and len(words) - len(phrase) >= MIN_REST:
            return len(phrase)
    return 0


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class OpeningTokenizer(WhitespaceTokenizer):
    """WhitespaceTokenizer whose message tokens leave out an opening greeting followed by a request."""

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retokenize, and so retrain what reads the tokens, when the openings or the folding change."""
        return code_fingerprint(__file__, OPENINGS)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = super().tokenize(message, attribute)
        if attribute != TEXT:
            return tokens
        folded = [fold(token.text) for token in tokens]
        for token, lemma in zip(tokens, folded, strict=True):
            token.lemma = lemma or token.text
        return tokens[opening_length(folded):]
