"""The danger lexicon catches "danger now" in many phrasings, and only that."""

from __future__ import annotations

import pytest

from nlu.components.danger import matching_pattern

DANGER = [
    "il est devant la porte avec un couteau", "Il a un COUTEAU", "au secours", "AU SECOURRRS",
    "aidez-moi !!!", "aide moi svp", "il va me tuer", "il va m tuer", "jsuis en danger", "je suis en danger",
    "il me frappe", "il m'étrangle", "il defonce la porte", "jai peur pour ma vie", "je saigne",
    "il m'a enfermée", "appelez la police", "jsuis en dangé il a 1 couto", "chui en dangé", "osecour",
    "il va me tué",
    "ik ben in gevaar", "help me", "hij heeft een mes", "hij gaat me vermoorden", "hij slaat me",
    "bang voor mijn leven", "ik ben in gevar", "hij heeft een mesje", "bel de politie", "ik bloed",
    "ze hebben me opgesloten",
    "I'm in danger", "im in danger", "help me please", "he has a knife", "he's going to kill me",
    "hes gonna kill me", "he is hitting me", "they are beating us", "call the police", "I'm bleeding",
    "he is kicking the door", "im in dnager", "he haz a knif", "afraid for my life", "he locked me in",
]
SAFE = [
    "bonjour", "qu'est-ce que la violence psychologique ?", "aide-moi à trouver une pharmacie",
    "mes enfants sont à l'école", "je veux parler à quelqu'un", "les violences conjugales c'est quoi",
    "hallo", "ik wil met iemand praten", "help me een apotheek te vinden", "mes amis",
    "ça coûte combien ?", "le danger des réseaux sociaux pour les ados", "je me sens en sécurité",
    "hello", "help", "help me find a pharmacy", "what counts as violence?", "I need to talk to someone",
    "where can I file a complaint", "my arm hurts from sport",
]


@pytest.mark.parametrize("text", DANGER)
def test_danger_phrasings_match(text):
    assert matching_pattern(text), text


@pytest.mark.parametrize("text", SAFE)
def test_ordinary_messages_do_not_match(text):
    assert matching_pattern(text) is None, text


@pytest.mark.parametrize("text", ["", None, "   ", "\x00\x01", "😱" * 50, "a" * 5000])
def test_odd_input_does_not_crash(text):
    assert matching_pattern(text) is None
