"""Rasa NLU component: a question about trainings for professionals is a staff lookup.

"formation pour les pharmaciens", "ik ben apotheker en zoek een opleiding",
"training for pharmacists": the classifier, which has few such examples,
took them for a search of pharmacies or was unsure, and more examples moved
the other intents' held-out figures (issue 15, stop 26: two tries, both
lowered a bar). A message with a training word and a profession word
(`training_requests.yml`, per language) gets the intent `lookup_service`
with confidence 1.0, whose action searches the directory's trainings. It
runs after the classifier and the exact-example match; the danger lexicon
and detector run after it and still override.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from directory.textnorm import fold
from nlu.components.safely import each_safely
from nlu.components.shared import compiled_patterns

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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TrainingRequest(GraphComponent):
    """Gives a question about trainings for professionals the staff lookup's intent."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "TrainingRequest":
        return cls()

    def process_one(self, message: Message) -> None:
        if not asks_for_training(message.get(TEXT)):
            return
        chosen = {"name": INTENT_NAME, "confidence": 1.0}
        others = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != INTENT_NAME]
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [chosen, *others], add_to_output=True)

    def process(self, messages: List[Message]) -> List[Message]:
        return each_safely("TrainingRequest", messages, self.process_one)
