"""The tokenizer that leaves out an opening greeting (nlu/components/opening.py)."""

from __future__ import annotations

import pytest
import yaml
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from directory import languages
from nlu.components.opening import OPENINGS, OpeningTokenizer


@pytest.fixture(scope="module")
def tokenizer() -> OpeningTokenizer:
    return OpeningTokenizer(OpeningTokenizer.get_default_config())


def tokens(tokenizer: OpeningTokenizer, text: str) -> list[tuple[str, int]]:
    return [(t.text, t.start) for t in tokenizer.tokenize(Message(data={TEXT: text}), TEXT)]


@pytest.mark.parametrize("text, first", [
    ("hallo, ik word thuis uitgescholden", ("ik", 7)),
    ("Bonjour madame, mon mari me contrôle", ("mon", 16)),
    ("good evening i was raped", ("i", 13)),
    ("Hi, im 14 and my dad hits me", ("im", 4)),
])
def test_a_greeting_before_a_request_is_left_out_and_offsets_are_kept(tokenizer, text, first):
    assert tokens(tokenizer, text)[0] == first


@pytest.mark.parametrize("text", ["bonjour", "hello there", "Goedenavond!", "hi relais", "Bonjour !", "bonsoir à vous"])
def test_a_greeting_alone_stays_whole(tokenizer, text):
    assert tokens(tokenizer, text)[0][1] == 0


def test_a_message_without_greeting_is_untouched(tokenizer):
    words = [t for t, _ in tokens(tokenizer, "dag en nacht belt hij mij")]
    assert words == ["dag", "en", "nacht", "belt", "hij", "mij"]


def test_every_language_of_the_registry_has_openings():
    assert set(yaml.safe_load(OPENINGS.read_text(encoding="utf-8"))["openings"]) == set(languages.codes())
