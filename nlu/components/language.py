"""Rasa NLU component that tags each message with a `language` entity.

The `language` slot (domain: `from_entity`, `influence_conversation: false`)
picks the FR/NL/EN variant of every response. This component decides that
entity, in this order:

1. an explicit request in the message ("in English please", "Nederlands aub");
2. the language chosen in the web page, sent as message metadata
   (`{"language": "fr"}`);
3. the offline detector (`nlu.components.langid`), when it is confident.

When none applies, no entity is set and the slot keeps its previous value.
It runs inside the Rasa server, so language selection needs no action server.
The detector learns from the NLU examples, whose intents carry
`metadata: {language: xx}`, plus the common words in `common_words.yml`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, METADATA_INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from directory import textnorm
from nlu.components import langid
from nlu.components.langid import LanguageModel, supported
from nlu.components.safely import each_safely
from nlu.components.shared import set_message_entity

ENTITY = "language"
MODEL_FILE = "langid.json"


def _training_samples(training_data: TrainingData) -> List[tuple]:
    samples = []
    for example in training_data.intent_examples:
        metadata = example.get("metadata") or {}
        intent_meta = metadata.get(METADATA_INTENT) or {}
        lang = supported(intent_meta.get("language")) if isinstance(intent_meta, dict) else None
        if lang:
            samples.append((example.get(TEXT), lang))
    samples.extend(langid.common_word_samples())
    return samples


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    """Sets the `language` entity from request, page choice or detection."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_confidence": 0.85}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrain when the word list or the detector's code changes, not only the data."""
        digest = hashlib.sha256()
        for path in (langid.COMMON_WORDS, Path(langid.__file__), Path(textnorm.__file__)):
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LanguageModel] = None,
    ) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._model = model or LanguageModel(min_confidence=config["min_confidence"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self._model = LanguageModel.fit(_training_samples(training_data), self._config["min_confidence"])
        with self._storage.write_to(self._resource) as path:
            rasa.shared.utils.io.dump_obj_as_json_to_file(path / MODEL_FILE, self._model.to_dict())
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LanguageDetector":
        try:
            with model_storage.read_from(resource) as path:
                data = rasa.shared.utils.io.read_json_file(path / MODEL_FILE)
            return cls(config, model_storage, resource, LanguageModel.from_dict(data))
        except (ValueError, FileNotFoundError):
            return cls(config, model_storage, resource)

    def language_of(self, message: Message) -> Optional[tuple]:
        """(language, confidence) for a message, or None to keep the previous one.

        Place names ("Schaarbeek", "Gare du Midi") say nothing of the user's
        language: the spans of `place` entities are left out of the guess.
        """
        text = message.get(TEXT) or ""
        for entity in sorted((e for e in message.get(ENTITIES, []) if e.get("entity") == "place"),
                             key=lambda e: -e["start"]):
            text = text[:entity["start"]] + " " + text[entity["end"]:]
        guess = self._model.guess(text)
        if guess and guess.reason == "request":
            return guess.language, 1.0
        metadata = message.get("metadata") or {}
        chosen = supported(metadata.get("language")) if isinstance(metadata, dict) else None
        if chosen:
            return chosen, 1.0
        if guess:
            return guess.language, guess.confidence
        return None

    def process_one(self, message: Message) -> None:
        found = self.language_of(message)
        if not found:
            return
        language, confidence = found
        set_message_entity(message, ENTITY, language, confidence, self.__class__.__name__)

    def process(self, messages: List[Message]) -> List[Message]:
        return each_safely("LanguageDetector", messages, self.process_one)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
