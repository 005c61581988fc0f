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
