"""A question about trainings for professionals is a staff lookup, in each language (nlu/components/training.py);
a sports practice or a pharmacist's own question is not."""

from __future__ import annotations

import pytest

from nlu.components.training import asks_for_training


@pytest.mark.parametrize("message", [
    "formation pour les pharmaciens", "je suis pharmacienne, je cherche une formation",
    "y a-t-il des formations pour les infirmières ?", "ik ben apotheker en zoek een opleiding",
    "vorming voor leerkrachten over partnergeweld", "training for pharmacists", "any courses for social workers?",
    "هل يوجد تدريب للصيادلة", "eczacılar için eğitim var mı", "formación para farmacéuticos",
    "formação para farmacêuticos", "szkolenie dla farmaceutów", "curs pentru farmaciști",
])
def test_a_training_for_a_profession_is_asked(message):
    assert asks_for_training(message)


@pytest.mark.parametrize("message", [
    "at training my coach touched me", "mon entraîneur me touche après l'entraînement",
    "une cliente de la pharmacie pleure, que faire ?", "of course the nurse helped me",
    "formation violences conjugales",  # no profession: the classifier's own lookup
    "pharmacie de garde 1030",
])
def test_other_messages_are_left_to_the_classifier(message):
    assert not asks_for_training(message)


def message_with(text: str, intent: str, confidence: float):
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence})
    return message


@pytest.mark.parametrize("text, intent, confidence, expected", [
    ("formation pour les pharmaciens", "find_nearby", 0.9, "lookup_service"),
    ("formations violences conjugales pour pharmaciens", "pharmacist_disclosure", 0.3, "lookup_service"),
    ("je suis infirmière en formation et mon maître de stage me touche", "sexual_violence", 0.8, "sexual_violence"),
    ("my doctor raped me during a training session", "sexual_violence", 0.9, "sexual_violence"),
    ("je vais à la pharmacie après le cours", "find_nearby", 0.9, "find_nearby"),
    ("Merg la farmacie după curs și soțul meu mă bate", "violence_forms", 0.7, "violence_forms"),
])
def test_a_disclosure_that_mentions_a_training_keeps_the_classifiers_intent(text, intent, confidence, expected):
    from nlu.components.training import TrainingRequest

    component = TrainingRequest({"replaces": ["find_nearby", "lookup_service"], "unsure_below": 0.45})
    message = message_with(text, intent, confidence)
    component.process([message])
    assert message.get("intent")["name"] == expected
