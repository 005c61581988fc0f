"""What the Relais NLU components share: per-language pattern lists read
from YAML, entities that describe the whole message (its language, the
writer's age group), and an intent given with certainty over the classifier's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

import yaml
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from directory.textnorm import fold_letters


def compiled_patterns(path: Path, key: str) -> tuple:
    """The regular expressions listed under `key` in `path`, all languages together ({key: {lang: [...]}}).

    They are matched on folded text, so their letters are folded the same way
    (an "ü" or a "ة" in a pattern would otherwise never match).
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))[key]
    return tuple(re.compile(fold_letters(p)) for entries in data.values() for p in entries)


# The intent classifier's own ranking, kept apart from INTENT_RANKING_KEY, which later components may rewrite
# (ExactExample, TrainingRequest): the danger component reads what the classifier itself thought.
CLASSIFIER_RANKING = "relais_classifier_ranking"


def set_message_entity(message: Message, entity: str, value: str, confidence: float, extractor: str) -> None:
    """Give the message one `entity` spanning its whole text, in place of any earlier one of that name."""
    entities: List[dict] = [e for e in message.get(ENTITIES, []) if e.get("entity") != entity]
    entities.append({"entity": entity, "value": value, "start": 0, "end": len(message.get(TEXT) or ""),
                     "confidence_entity": round(confidence, 3), "extractor": extractor})
    message.set(ENTITIES, entities, add_to_output=True)


def set_message_intent(message: Message, intent: str) -> None:
    """Give the message `intent` with confidence 1.0, first in the ranking before the classifier's others."""
    chosen = {"name": intent, "confidence": 1.0}
    others = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != intent]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen, *others], add_to_output=True)
