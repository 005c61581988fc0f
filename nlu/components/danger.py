"""Rasa NLU component: a per-language danger lexicon checked on every message.

The intent classifier is trained on many ways of saying "I am in danger now",
but a statistical model can miss a phrasing it has never seen. This component
runs after it and before the FallbackClassifier: when the folded message
matches a pattern of `danger_lexicon.yml` (any language, since the language
of a short panicked message is often unclear), the intent becomes `danger`
with confidence 1.0 and is the only intent in the ranking, and the rules
answer 112 / 101 first.

It also leans towards safety: when the classifier ranks `danger` anywhere
with a confidence of at least `promote_at` (config.yml), the message is
taken as danger. Missing a person in danger costs far more than a false
alarm, which only puts 112 / 101 and the helpline first (docs/nlu-eval.md
counts both).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from directory.textnorm import fold
from nlu.components.safely import each_safely

LEXICON = Path(__file__).with_name("danger_lexicon.yml")
DANGER_INTENT = "danger"


@lru_cache(maxsize=1)
def patterns() -> tuple:
    """The compiled patterns of all languages."""
    data = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))["danger_patterns"]
    return tuple(re.compile(p) for entries in data.values() for p in entries)


def matching_pattern(text: Optional[str]) -> Optional[str]:
    """The first lexicon pattern that the folded text matches, or None."""
    folded = fold(text or "")
    if not folded:
        return None
    for pattern in patterns():
        if pattern.search(folded):
            return pattern.pattern
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DangerLexicon(GraphComponent):
    """Overrides the intent with `danger` when the lexicon matches or the classifier finds it likely enough."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"promote_at": 1.1}  # off unless config.yml sets it

    def __init__(self, promote_at: float = 1.1) -> None:
        self.promote_at = promote_at

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "DangerLexicon":
        patterns()  # fail at start-up, not on a user's message, if the lexicon is broken
        return cls(float(config.get("promote_at", 1.1)))

    def likely_danger(self, message: Message) -> bool:
        """True when the classifier gives `danger` at least `promote_at`, wherever it ranks it."""
        ranking = message.get(INTENT_RANKING_KEY) or []
        return any(i.get("name") == DANGER_INTENT and (i.get("confidence") or 0.0) >= self.promote_at
                   for i in ranking)

    def process_one(self, message: Message) -> None:
        if not matching_pattern(message.get(TEXT)) and not self.likely_danger(message):
            return
        danger = {"name": DANGER_INTENT, "confidence": 1.0}
        # The classifier's own guesses are dropped, not kept below danger: a
        # confident second intent (0.96) would make the FallbackClassifier call
        # the turn ambiguous and answer "I did not understand" to a knife.
        message.set(INTENT, danger, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [danger], add_to_output=True)

    def process(self, messages: List[Message]) -> List[Message]:
        return each_safely("DangerLexicon", messages, self.process_one)
