"""The offline language detector on the short, messy messages people send."""

from __future__ import annotations

import pytest
import yaml

from nlu.components.langid import LanguageModel, requested_language, supported
from tests.conftest import ROOT


def training_samples():
    samples = []
    for lang in ("fr", "nl", "en"):
        for path in sorted((ROOT / "nlu" / lang).glob("*.yml")):
            for block in yaml.safe_load(path.read_text())["nlu"]:
                for line in block["examples"].splitlines():
                    if line.strip().startswith("- "):
                        samples.append((line.strip()[2:], lang))
    common = yaml.safe_load((ROOT / "nlu" / "components" / "common_words.yml").read_text())
    for lang, words in common.items():
        samples.extend((w, lang) for w in words.split())
    return samples


@pytest.fixture(scope="module")
def model():
    return LanguageModel.fit(training_samples())


@pytest.mark.parametrize(
    "text, lang",
    [
        ("bonjour", "fr"), ("jai besoin daide", "fr"), ("ou est la pharmacie la plus proche", "fr"),
        ("mon mari me frappe", "fr"), ("je sais pas quoi faire", "fr"),
        ("hallo", "nl"), ("ik weet het niet", "nl"), ("waar is de dichtstbijzijnde apotheek", "nl"),
        ("mijn man slaat mij", "nl"), ("bedankt", "nl"), ("ik heb hulp nodig", "nl"),
        ("i dont know what to do", "en"), ("where is the nearest pharmacy", "en"),
        ("my husband hits me", "en"), ("thanks", "en"), ("i need help", "en"),
    ],
)
def test_short_messages(model, text, lang):
    guess = model.guess(text)
    assert guess is not None and guess.language == lang, (text, model.probabilities(text))


@pytest.mark.parametrize("text", ["merci", "hello", "ja", "slt", "salut", "ok merci"])
def test_a_short_message_several_languages_share_keeps_the_conversation_language(model, text):
    """"merci" is French and Brussels Dutch, "ja" Dutch and Polish, "salut" French and Romanian: a message
    of one or two such words says nothing of the language, so the conversation keeps its own (None)."""
    assert model.guess(text) is None, (text, model.probabilities(text))


@pytest.mark.parametrize("text", ["ok", "112", "😢", "...", "", "   "])
def test_messages_without_language_keep_the_previous_one(model, text):
    assert model.guess(text) is None


@pytest.mark.parametrize(
    "text, lang",
    [("in English please", "en"), ("en anglais svp", "en"), ("in het Nederlands aub", "nl"), ("Nederlands", "nl"),
     ("en français", "fr"), ("francais svp", "fr"), ("spreekt u Frans?", "fr"), ("nl", "nl")],
)
def test_explicit_requests(text, lang):
    assert requested_language(text) == lang


@pytest.mark.parametrize("text", ["j'en ai marre", "mon mari est français et il me frappe tous les soirs depuis un an"])
def test_language_names_in_long_or_unrelated_messages_are_not_requests(text):
    assert requested_language(text) is None


def test_metadata_codes_are_normalised():
    assert supported("FR") == "fr" and supported("nl-BE") == "nl" and supported("de") is None
    assert supported(None) is None and supported(12) is None


def test_model_round_trips_through_json(model):
    again = LanguageModel.from_dict(model.to_dict())
    assert again.guess("goedemorgen").language == "nl"


def test_the_nlu_folders_agree_with_the_language_metadata():
    """The web server learns languages by folder (langid.nlu_file_samples), Rasa by metadata: they must agree."""
    import yaml

    from directory.languages import codes
    from nlu.components.langid import NLU_ROOT

    for lang in codes():
        for path in (NLU_ROOT / lang).glob("*.yml"):
            for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
                assert (block.get("metadata") or {}).get("language") == lang, (path.name, block.get("intent"))
