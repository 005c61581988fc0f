"""The bot's responses: rendered from the directory, every number sourced."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.render import RenderError, render
from directory import languages
from tests.conftest import ROOT

# Belgian phone formats: 0X XXX XX XX, 0800 XX XXX, short numbers (112, 116 000) and 17xx.
# Four-digit numbers from 1000 to 1299 are Brussels postcodes, and "120 hours" a duration, not phones.
PHONE_LIKE = re.compile(r"(?<![\d/])(?:0\d{1,3}(?: \d{2,3}){2,3}|1\d{2}(?: \d{3})?|17\d{2})(?![\d/])"
                        r"(?!\s*(?:heures|hours|uur|horas|saat\w*|godzin|de ore|ساعة)(?!\w))")  # "120 hours" is a time


@pytest.fixture(scope="module")
def responses(directory):
    return render(directory)


def test_every_number_said_is_in_the_directory(responses, directory):
    known = directory.display_phones()
    for name, variants in responses.items():
        for variant in variants:
            for number in PHONE_LIKE.findall(variant["text"]):
                assert number in known, f"{name}: {number} is not a directory number"


def test_every_number_on_the_chat_page_is_in_the_directory(directory):
    from bot.page import page_texts

    known = directory.display_phones()
    for lang, texts in page_texts(directory).items():
        for key, text in texts.items():
            for number in PHONE_LIKE.findall(text):
                assert number in known, f"page_texts {lang}.{key}: {number}"


def test_every_response_has_every_language_and_a_default(responses):
    for name, variants in responses.items():
        langs = [next((c["value"] for c in v.get("condition", [])), None) for v in variants]
        assert sorted(lang for lang in langs if lang) == sorted(languages.codes()) and langs[-1] is None, name
        for variant in variants[:-1]:
            mark = variant["custom"]["relais"]
            assert set(variant["custom"]) == {"relais"} and mark["lang"] == variant["condition"][0]["value"], name
            for kind, _key, value, *_ in mark.get("facts", []):  # what bot/live_facts.py refreshes
                assert kind != "name" and value and (value in variant["text"] or "buttons" in variant), name
        assert set(variants[-1].get("custom", {}).get("relais", {"facts": []})) == {"facts"}, name


def test_danger_answers_give_112_first(responses):
    for variant in responses["utter_danger"]:
        text = variant["text"]
        assert text.index("112") < text.index("101")
        assert len(text) < 300


def test_generated_domain_file_is_current(responses):
    generated = yaml.safe_load((ROOT / "bot" / "domain" / "responses.yml").read_text())["responses"]
    assert generated == responses


def test_unknown_service_or_missing_number_fails_rendering(tmp_path, directory):
    templates = tmp_path / "t"
    templates.mkdir()
    (templates / "a.yml").write_text('responses:\n  utter_x:\n    - text: "call {{phone:no_such_service}}"\n')
    with pytest.raises(RenderError, match="unknown service"):
        render(directory, templates)
    (templates / "a.yml").write_text('responses:\n  utter_x:\n    - text: "call {{phone:eva_midi}}"\n')
    with pytest.raises(RenderError, match="no confirmed phone"):
        render(directory, templates)


# Issue 12, item 3: a length budget per answer, in words, in every language. A first answer to a
# disclosure fits a phone screen and asks back; the detail comes on request (`_more`).
FIRST_ANSWERS = {"utter_violence_forms": 60, "utter_safety_basics": 60, "utter_leave_home_tonight": 60,
                 "utter_sexual_violence": 90}  # after rape, the CPVS time windows must come at once
BUDGETS = {**FIRST_ANSWERS, "utter_danger": 45, "utter_helpline": 80, "utter_children": 90,
           "utter_fgm_forced_marriage": 80, "utter_lgbtqi_violence": 60, "utter_perpetrator": 60,
           "utter_relative_witness": 60, "utter_greet": 60,
           # what a young person or someone after sexual violence asks next
           "utter_helpline_young": 70, "utter_helpline_call_young": 110, "utter_cpvs_call": 100,
           # a pharmacist at the counter reads a list, not a page
           "utter_pharmacist_route": 150, "utter_pharmacist_sexual_violence": 150, "utter_pharmacist_minor": 130,
           "utter_pharmacist_complaint": 120,
           # issue 16's situations: what to do, whom to tell, and the sourced caveats (one and a half screens)
           "utter_online_violence": 115, "utter_harassment_public": 105, "utter_discrimination_hate": 140,
           "utter_victim_rights": 150}
LONGEST = 180  # any other answer: the details, the pharmacist route, the context of the Brussels plan
# The budgets are counted on the French, Dutch and English answers; a translation may take this many times
# as many words for the same sentence (Polish, Portuguese and Spanish run 8 to 25 % longer in words).
TRANSLATION_SLACK = 1.15
WRITTEN_IN = {"fr", "nl", "en"}


def test_every_answer_keeps_its_length_budget(responses):
    for name, variants in responses.items():
        for variant in variants:
            lang = next((c["value"] for c in variant.get("condition", [])), "en")
            budget = BUDGETS.get(name, LONGEST) * (1 if lang in WRITTEN_IN else TRANSLATION_SLACK)
            words = len(variant["text"].split())
            assert words <= budget, f"{name} [{lang}]: {words} words"


def test_a_first_answer_to_a_disclosure_asks_whether_the_person_is_safe(responses):
    for name in FIRST_ANSWERS:
        assert f"{name}_more" in responses, name
        for variant in responses[name]:
            assert variant["text"].rstrip().endswith(("?", "؟")), name  # the Arabic question mark too
            assert [b["payload"] for b in variant["buttons"]] == ["/tell_me_more", "/danger"], name


def test_when_unsure_the_bot_offers_the_situations_with_danger_first(responses):
    for variant in responses["utter_not_sure"]:
        payloads = [b["payload"] for b in variant["buttons"]]
        assert payloads[0] == "/danger" and "/sexual_violence" in payloads and "112" in variant["text"]


def test_a_missing_translation_fails_the_build_and_a_translation_file_adds_its_language(tmp_path):
    from bot.render import load_templates

    templates = tmp_path / "t"
    (templates / "translations").mkdir(parents=True)
    for lang in set(languages.codes()) - {"fr", "nl", "en"}:  # every language but Dutch has its translation
        (templates / "translations" / f"{lang}.yml").write_text('responses:\n  utter_x:\n    - text: "x"\n')
    fr_only = ('responses:\n  utter_x:\n    - condition: [{type: slot, name: language, value: fr}]\n'
               '      text: "Bonjour"\n    - text: "Hello"\n')
    (templates / "a.yml").write_text(fr_only)
    with pytest.raises(RenderError, match="no variant in nl"):
        load_templates(templates)
    (templates / "translations" / "nl.yml").write_text('responses:\n  utter_x:\n    - text: "Hallo"\n')
    variants = load_templates(templates)["utter_x"]
    assert {"text": "Hallo", "condition": [{"type": "slot", "name": "language", "value": "nl"}]} in variants
    (templates / "translations" / "nl.yml").write_text('responses:\n  utter_x:\n    - text: "Hallo"\n'
                                                       '  utter_y:\n    - text: "Hallo"\n')
    with pytest.raises(RenderError, match="no topic file defines"):
        load_templates(templates)
