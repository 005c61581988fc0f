"""Rasa NLU component: a question about trainings for professionals is a staff lookup.

"formation pour les pharmaciens", "ik ben apotheker en zoek een opleiding",
"training for pharmacists": the classifier, which has few such examples,
took them for a search of pharmacies or was unsure, and more examples moved
the other intents' held-out figures (issue 15, stop 26: two tries, both
lowered a bar). A message with a training word and a profession word
(`training_requests.yml`, per language) gets the intent `lookup_service`
with confidence 1.0, whose action searches the directory's trainings, but
only when the classifier took it for one of `replaces` (a search for places,
a lookup) or was unsure (below `unsure_below`, the FallbackClassifier's
threshold): a disclosure that mentions a training keeps the intent the
classifier gave it. It runs after the classifier and the exact-example
match; the danger lexicon and detector run after it and still override.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from directory.textnorm import fold
from nlu.components.danger import DANGER_INTENT
from nlu.components.safely import each_safely
from nlu.components.shared import compiled_patterns, set_message_intent

WORDS = Path(__file__).with_name("training_requests.yml")
INTENT_NAME = "lookup_service"


@lru_cache(maxsize=1)
def patterns() -> tuple[tuple, tuple]:
    """(training words, profession words), compiled, all languages together."""
    return compiled_patterns(WORDS, "training"), compiled_patterns(WORDS, "professions")


def asks_for_training(text: Optional[str]) -> bool:
    """Whether a message asks about trainings for a profession.

    >>> asks_for_training("formation pour les pharmaciens"), asks_for_training("ik ben apotheker, welke opleiding?")
    (True, True)
    >>> asks_for_training("at training my coach touched me"), asks_for_training("une cliente de la pharmacie pleure")
    (False, False)
    """
    folded = fold(text or "")
    training, professions = patterns()
    return any(p.search(folded) for p in training) and any(p.search(folded) for p in professions)


def replaceable(intent: Optional[dict], replaces: List[str], unsure_below: float) -> bool:
    """Whether the classifier's intent may give way to the lookup: one of `replaces`, or unsure.

    >>> replaceable({"name": "find_nearby", "confidence": 0.9}, ["find_nearby"], 0.45)
    True
    >>> replaceable({"name": "sexual_violence", "confidence": 0.8}, ["find_nearby"], 0.45)
    False
    >>> replaceable({"name": "sexual_violence", "confidence": 0.3}, ["find_nearby"], 0.45)
    True
    >>> replaceable({"name": "danger", "confidence": 0.3}, ["find_nearby"], 0.45)   # never: danger comes first
    False
    """
    intent = intent or {}
    if intent.get("name") == DANGER_INTENT:
        return False
    return intent.get("name") in replaces or float(intent.get("confidence") or 0.0) < unsure_below


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TrainingRequest(GraphComponent):
    """Gives a question about trainings for professionals the staff lookup's intent."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"replaces": ["find_nearby", INTENT_NAME], "unsure_below": 0.45}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.replaces = list(config["replaces"])
        self.unsure_below = float(config["unsure_below"])

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "TrainingRequest":
        return cls({**cls.get_default_config(), **config})

    def process_one(self, message: Message) -> None:
        if not asks_for_training(message.get(TEXT)) or \
                not replaceable(message.get(INTENT), self.replaces, self.unsure_below):
            return
        set_message_intent(message, INTENT_NAME)

    def process(self, messages: List[Message]) -> List[Message]:
        return each_safely("TrainingRequest", messages, self.process_one)
