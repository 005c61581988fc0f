"""The intent classifier (nlu/components/linear.py): unseen phrasings, calibrated confidences, odd input."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message

from directory.textnorm import fold
from nlu.components.linear import LinearIntentClassifier, fit_intents

EXAMPLES = {
    "find_nearby": ["pharmacie pres de chez moi", "une pharmacie a ixelles", "apotheek in de buurt",
                    "apotheek in schaerbeek", "pharmacy near me", "nearest pharmacy to anderlecht",
                    "police pres de la gare du midi", "politie in de buurt van elsene", "police station near me"],
    "online_violence": ["il publie mes photos sur insta", "faux profil facebook avec mes photos",
                        "hij zet naaktfoto's van mij online", "iemand maakt een nepaccount op instagram",
                        "he posts my pictures on instagram", "someone made a fake facebook account of me",
                        "on m insulte sur snapchat", "ze pesten mij op tiktok", "people insult me on tiktok"],
    "need_to_talk": ["je veux parler a quelqu un", "besoin de parler", "ik wil met iemand praten",
                     "ik moet mijn verhaal kwijt", "i need to talk to someone", "can i talk to a person",
                     "j ai besoin d ecoute", "kan ik met iemand bellen", "i just need someone to listen"],
}


@pytest.fixture(scope="module")
def classifier() -> LinearIntentClassifier:
    texts = [fold(t) for examples in EXAMPLES.values() for t in examples]
    intents = [intent for intent, examples in EXAMPLES.items() for _ in examples]
    fitted = fit_intents(texts, intents, c=1.0, folds=3)
    return LinearIntentClassifier({"C": 1.0, "folds": 3, "ranking_length": 2}, None, None, fitted)


def classify(classifier: LinearIntentClassifier, text: str) -> Message:
    message = Message(data={TEXT: text})
    classifier.process([message])
    return message


def test_an_unseen_phrasing_gets_its_intent_with_the_others_ranked_below(classifier):
    message = classify(classifier, "mijn ex zet foto's van mij op insta")
    ranking = message.get(INTENT_RANKING_KEY)
    assert message.get(INTENT)["name"] == "online_violence" and ranking[0] == message.get(INTENT)
    assert len(ranking) == 2 and ranking[0]["confidence"] >= ranking[1]["confidence"]
    assert classify(classifier, "pharmacie a etterbeek").get(INTENT)["name"] == "find_nearby"


def test_plain_numpy_scores_are_what_sklearn_gives(classifier):
    model = classifier.fitted["model"]
    texts = ["pharmacie", "he posts my pictures", "", "zzz", "ا", "3afak", "!!!"]
    expected = model.decision_function([fold(t) for t in texts])
    got = np.array([classifier.score(fold(t)) for t in texts])
    assert np.abs(got - expected).max() < 1e-5


def test_the_tokens_are_what_is_classified_so_an_opening_greeting_left_out_changes_nothing(classifier):
    from nlu.components.opening import OpeningTokenizer

    tokenizer = OpeningTokenizer(OpeningTokenizer.get_default_config())
    plain = Message(data={TEXT: "ik wil met iemand praten"})
    greeted = Message(data={TEXT: "hallo ik wil met iemand praten"})
    tokenizer.process([plain, greeted])
    assert [t.lemma for t in greeted.get(TEXT_TOKENS)] == [t.lemma for t in plain.get(TEXT_TOKENS)]
    classifier.process([plain, greeted])
    assert greeted.get(INTENT) == plain.get(INTENT) and plain.get(INTENT)["name"] == "need_to_talk"


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "😱" * 50, "???", "ж"])
def test_a_text_with_nothing_the_model_knows_gets_no_intent_so_the_fallback_answers(classifier, text):
    message = classify(classifier, text)
    assert message.get(INTENT) == {"name": None, "confidence": 0.0} and message.get(INTENT_RANKING_KEY) == []


def test_a_long_odd_text_does_not_crash(classifier):
    assert classify(classifier, "a" * 5000).get(INTENT)["confidence"] < 0.9


def test_an_untrained_classifier_sends_every_message_to_the_fallback():
    message = Message(data={TEXT: "hello"})
    LinearIntentClassifier({"C": 1.0, "folds": 3, "ranking_length": 2}, None, None).process([message])
    assert message.get(INTENT) == {"name": None, "confidence": 0.0}


def test_two_intents_are_refused_at_training():
    with pytest.raises(ValueError, match="at least three intents"):
        fit_intents(["oui", "ja", "yes", "non", "nee", "no"], ["affirm"] * 3 + ["deny"] * 3, c=1.0, folds=3)


def test_the_thresholds_the_fallback_shares_are_one_value_in_config():
    """TrainingRequest and DangerLexicon must give way exactly where the FallbackClassifier would answer."""
    import yaml

    from tests.conftest import ROOT

    pipeline = {c["name"].rsplit(".", 1)[-1]: c for c in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]}
    fallback = pipeline["FallbackClassifier"]
    assert pipeline["TrainingRequest"]["unsure_below"] == pipeline["DangerLexicon"]["unsure_below"] \
        == fallback["threshold"]
    assert pipeline["DangerLexicon"]["ambiguous_within"] == fallback["ambiguity_threshold"]


def test_the_ranking_the_danger_component_trusts_needs_a_word_the_model_knows(classifier):
    """A keyboard mash shares character n-grams with real words; only a known word makes the ranking evidence."""
    from nlu.components.shared import CLASSIFIER_RANKING

    word, mash = classify(classifier, "pharmacie"), classify(classifier, "qharmacyq")
    assert word.get(CLASSIFIER_RANKING) == word.get(INTENT_RANKING_KEY) != []
    assert mash.get(INTENT)["name"] is not None and mash.get(CLASSIFIER_RANKING) is None
