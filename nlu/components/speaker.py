"""Rasa NLU component: the writer's stated age as an `age_group` entity.

"j'ai 16 ans", "ik ben 14", "im 15" set the entity `age_group` to `minor`
(under 18) or `adult`; the slot `age_group` (bot/domain/help.yml) keeps it
for the rest of the conversation, so a young person who later asks to talk
to someone or where to find help gets the youth lines and youth services
first. The phrasings are data (`speaker_ages.yml`); the number itself is
never stored, only the group.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from directory.textnorm import fold
from nlu.components.safely import each_safely
from nlu.components.shared import compiled_patterns, set_message_entity

AGES = Path(__file__).with_name("speaker_ages.yml")
ENTITY = "age_group"
ADULT_AT = 18
# Below 5 or above 110 a number after "I am" is not an age.
PLAUSIBLE = range(5, 111)


@lru_cache(maxsize=1)
def patterns() -> tuple:
    """The compiled age patterns of all languages."""
    return compiled_patterns(AGES, "age_patterns")


def age_group(text: Optional[str]) -> Optional[str]:
    """`minor` or `adult` when the text states the writer's age, else None.

    >>> age_group("J'ai 16 ans et je peux pas le dire a ma mere"), age_group("ik ben 14")
    ('minor', 'minor')
    >>> age_group("I'm 34"), age_group("my son is 8"), age_group("ik ben 5 minuten weg")
    ('adult', None, None)
    """
    folded = fold(text or "")
    for pattern in patterns():
        match = pattern.search(folded)
        age = int(match.group("age")) if match else None
        if age in PLAUSIBLE:
            return "minor" if age < ADULT_AT else "adult"
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class SpeakerAge(GraphComponent, EntityExtractorMixin):
    """Adds the `age_group` entity when a message states the writer's age."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SpeakerAge":
        patterns()  # fail at start-up, not on a user's message, if the list is broken
        return cls()

    def process_one(self, message: Message) -> None:
        group = age_group(message.get(TEXT))
        if group is not None:
            set_message_entity(message, ENTITY, group, 1.0, self.__class__.__name__)

    def process(self, messages: List[Message]) -> List[Message]:
        return each_safely("SpeakerAge", messages, self.process_one)
