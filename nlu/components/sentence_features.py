"""Rasa NLU component: DIET learns from the sentence-level features of a message's text only.

With no transformer layer (config.yml), DIET classifies the intent from the
sentence-level features alone: its transformer is the identity and the
sentence vector is the last position, which holds the sentence features. The
token-level (sequence) features of the CountVectorsFeaturizers still cost a
dense kernel of vocabulary × 64 weights, twice more for Adam's slots, and the
time to train them, for nothing. With nine languages (40,000 words and
n-grams) that was ≈ 30 MB of the Rasa process and most of DIET's training
time. This component, between the featurizers and DIET, replaces the text's
sequence features by one empty position of width 1 (DIET refuses a text
without sequence features); no entity is extracted by DIET
(`entity_recognition: false`), the only thing that would read them.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components.safely import each_safely


def drop_sequence_features(message: Message) -> None:
    """Replaces the text's token-level features of `message` by one empty position; keeps every other feature."""
    kept = [f for f in message.features if not (f.attribute == TEXT and f.type == FEATURE_TYPE_SEQUENCE)]
    if len(kept) < len(message.features):
        kept.append(Features(scipy.sparse.coo_matrix((1, 1), dtype="float32"), FEATURE_TYPE_SEQUENCE, TEXT,
                             "SentenceFeaturesOnly"))
    message.features = kept


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceFeaturesOnly(GraphComponent):
    """Empties the text's sequence-level features so that DIET learns from sentence features only."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SentenceFeaturesOnly":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            drop_sequence_features(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        return each_safely("SentenceFeaturesOnly", messages, drop_sequence_features)
