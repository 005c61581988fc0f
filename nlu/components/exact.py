"""Rasa NLU component: a message that is exactly one of the training examples gets that example's intent.

The classifier generalises from n-grams, so a short message that is word for word a
training example can still come out unsure when its words are shared with
another intent and other languages: "more" (a more_results example) scored
0.46 against 0.42 for tell_me_more, and the FallbackClassifier then said "I
did not understand" to someone asking for more places. This component sits
after the classifier: when the folded message (directory.textnorm.fold:
case, accents, punctuation) equals the folded text of training examples that
all have one intent, that intent is given with confidence 1.0. Texts that
training examples give two intents are left to the classifier. The danger
lexicon and detector run after it and still override.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from directory.textnorm import fold
from nlu.components.safely import each_safely
from nlu.components.shared import set_message_intent

EXAMPLES_FILE = "exact_examples.json"


def unambiguous_examples(pairs: List[tuple]) -> Dict[str, str]:
    """{folded text: intent} for the texts that every training example gives the same intent.

    >>> unambiguous_examples([("More!", "more_results"), ("more", "more_results"), ("ok", "affirm"),
    ...                       ("OK", "thanks")])
    {'more': 'more_results'}
    """
    seen: Dict[str, set] = {}
    for text, intent in pairs:
        key = fold(text)
        if key:
            seen.setdefault(key, set()).add(intent)
    return {key: next(iter(intents)) for key, intents in seen.items() if len(intents) == 1}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ExactExample(GraphComponent):
    """Gives a message that is word for word a training example that example's intent."""

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 examples: Optional[Dict[str, str]] = None) -> None:
        self._storage, self._resource = model_storage, resource
        self.examples = examples or {}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "ExactExample":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self.examples = unambiguous_examples(
            [(e.get(TEXT), e.get(INTENT)) for e in training_data.intent_examples if e.get(TEXT)])
        with self._storage.write_to(self._resource) as path:
            rasa.shared.utils.io.dump_obj_as_json_to_file(path / EXAMPLES_FILE, self.examples)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "ExactExample":
        try:
            with model_storage.read_from(resource) as path:
                return cls(config, model_storage, resource, rasa.shared.utils.io.read_json_file(path / EXAMPLES_FILE))
        except (ValueError, FileNotFoundError):
            return cls(config, model_storage, resource)

    def process_one(self, message: Message) -> None:
        intent = self.examples.get(fold(message.get(TEXT) or ""))
        if intent is None:
            return
        set_message_intent(message, intent)

    def process(self, messages: List[Message]) -> List[Message]:
        return each_safely("ExactExample", messages, self.process_one)
