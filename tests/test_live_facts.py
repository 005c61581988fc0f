"""bot/live_facts.py: a fact edited in the back office replaces its old value in an answer, and nothing else."""

from __future__ import annotations

import pytest

from bot import live_facts


@pytest.fixture()
def now(monkeypatch):
    values: dict = {}
    monkeypatch.setattr(live_facts, "current", lambda directory, kind, key, lang: values.get((kind, key)))
    return values


def test_a_number_is_replaced_only_where_it_stands_alone(now):
    now[("phone", "ecoute")] = "02 000 00 00"
    now[("phone", "awel")] = "02 000 00 01"
    text = ("Call 103 (or 103ecoute.be, mail 103@x.be, 1103, 103.5), Awel 102. The app 112BE; see www.1712.be "
            "and 1712/103.")
    facts = [["phone", "ecoute", "103"], ["phone", "awel", "102"]]
    assert live_facts.refresh(text, facts, "en", object()) == (
        "Call 02 000 00 00 (or 103ecoute.be, mail 103@x.be, 1103, 103.5), Awel 02 000 00 01. The app 112BE; "
        "see www.1712.be and 1712/103.")


def test_an_unknown_empty_or_unchanged_fact_leaves_the_answer_as_built(now):
    now[("phone", "same")] = "0800 30 030"
    now[("what", "gone")] = ""
    text = "Talk: 0800 30 030, a line for everyone."
    facts = [["phone", "same", "0800 30 030"], ["what", "gone", "a line for everyone"], ["phone", "unknown", "0800"],
             "not a fact", ["phone", 1, None]]
    assert live_facts.refresh(text, facts, "en", object()) == text
    assert live_facts.refresh(text, None, "en", None) == text


def test_a_text_and_a_buttons_title_follow_the_directory(now):
    now[("what", "evc")] = "a new description"
    message = {"text": "Line: an old description.", "buttons": [{"title": "an old description", "payload": "/x"}]}
    live_facts.refresh_message(message, [["what", "evc", "an old description"]], "en", object())
    assert message == {"text": "Line: a new description.", "buttons": [{"title": "a new description",
                                                                         "payload": "/x"}]}


def test_a_fragment_capitalised_to_open_a_sentence_stays_capitalised_and_a_name_keeps_its_case(now):
    now[("context", "later")] = "you can also do it later"
    now[("what", "evc")] = "a line for everyone"
    text = "Choice. You can do it later. Line: Écoute Violences Conjugales, free."
    facts = [["context", "later", "You can do it later", 1], ["what", "evc", "Écoute Violences Conjugales"]]
    assert live_facts.refresh(text, facts, "en", object()) == (
        "Choice. You can also do it later. Line: a line for everyone, free.")
