"""A message that is word for word a training example gets its intent (nlu/components/exact.py)."""

from __future__ import annotations

import doctest

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.components import exact
from nlu.components.exact import ExactExample, unambiguous_examples


def parsed(component: ExactExample, text: str, intent: str = "nlu_fallback", confidence: float = 0.45) -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": confidence})
    message.set(INTENT_RANKING_KEY, [{"name": "more_results", "confidence": 0.46},
                                     {"name": "tell_me_more", "confidence": 0.42}])
    component.process([message])
    return message


def test_an_unsure_classifier_is_overruled_by_an_exact_example_folded_as_users_type():
    component = ExactExample({}, None, None, unambiguous_examples([("more", "more_results"),
                                                                   ("tell me more", "tell_me_more")]))
    for typed in ("more", "More!", "  MORE "):
        message = parsed(component, typed)
        assert message.get(INTENT) == {"name": "more_results", "confidence": 1.0}
        assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["more_results", "tell_me_more"]


def test_other_messages_and_texts_with_two_intents_are_left_to_the_classifier():
    component = ExactExample({}, None, None, unambiguous_examples([("more", "more_results"), ("ok", "affirm"),
                                                                   ("ok", "thanks")]))
    assert parsed(component, "more places near Flagey").get(INTENT)["name"] == "nlu_fallback"
    assert parsed(component, "ok").get(INTENT)["name"] == "nlu_fallback"


def test_the_examples_in_the_docstring_run():
    assert doctest.testmod(exact).failed == 0
