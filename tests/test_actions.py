"""Custom actions, run like the action server runs them: a rasa-sdk Tracker,
a CollectingDispatcher, the real directory database."""

from __future__ import annotations

import asyncio
import re

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import db, texts
from actions.lines import ActionLineLanguages
from actions.lookup import ActionLookup
from actions.nearby import ActionFindNearby, ActionMoreResults
from directory import languages
from tests.conftest import DB, ROOT


@pytest.fixture(autouse=True)
def real_directory(monkeypatch):
    monkeypatch.setenv("RELAIS_DB", str(DB))
    monkeypatch.setenv("RELAIS_GEOCODER_URL", "off")
    db.geocoder.cache_clear()
    db._handle = None
    yield
    db._handle = None
    db.geocoder.cache_clear()


def search_for(text: str) -> list[dict]:
    """The `search_for` entities the NLU gives this text (nlu/search_for.yml: lookup words, then synonyms)."""
    import yaml

    data = yaml.safe_load((ROOT / "nlu" / "search_for.yml").read_text(encoding="utf-8"))["nlu"]
    lookup = next(b for b in data if b.get("lookup") == "search_for")["examples"].split("- ")[1:]
    synonyms = {w.strip(): b["synonym"] for b in data if "synonym" in b for w in b["examples"].split("- ")[1:]}
    said = re.findall(r"\w+", text.lower())
    return [{"entity": "search_for", "value": synonyms.get(w.strip(), w.strip())} for w in lookup if w.strip() in said]


def tracker(text: str, intent: str, lang: str = "fr", entities=(), slots=None, metadata=None, events=()) -> Tracker:
    return Tracker(
        sender_id="test", slots={"language": lang, **(slots or {})},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 1.0},
                        "entities": [*entities, *search_for(text)], "metadata": metadata or {}},
        events=list(events), paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen")


def run(action, t: Tracker) -> tuple[list, list]:
    """The messages the action sends, each with the text the user reads (a response is filled as Rasa fills it:
    the variant of the conversation's language, the action's parameters), and its events."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    lang = t.get_slot("language")
    def as_read(m: dict) -> dict:
        if not m.get("response") or m.get("text"):
            return m
        return {**m, "text": texts.t(m["response"], lang, **{k: v for k, v in m.items() if k != "response"})}

    return [as_read(m) for m in dispatcher.messages], events


def place(value: str) -> dict:
    return {"entity": "place", "value": value, "start": 0, "end": len(value)}


def test_nearest_pharmacies_to_a_municipality():
    messages, events = run(ActionFindNearby(), tracker("pharmacie à Schaerbeek", "find_nearby",
                                                       entities=[place("schaerbeek")]))
    text = messages[0]["text"]
    assert text.startswith("Près de Schaerbeek")
    lines = [line for line in text.splitlines() if re.match(r"^\d\. ", line)]
    assert len(lines) == 3 and all("1030" in line for line in lines)
    distances = [int(re.search(r"— (\d+) m", line).group(1)) for line in lines]
    assert distances == sorted(distances)
    assert "ni numéro de téléphone ni horaires" in text
    assert messages[0]["custom"]["type"] == "contact_points" and len(messages[0]["custom"]["items"]) == 3
    slots = {e["name"]: e["value"] for e in events}
    assert slots["search_offset"] == 3 and slots["search_kind"] == "pharmacy"


def test_more_results_continues_the_list():
    _, events = run(ActionFindNearby(), tracker("apotheek in Schaarbeek", "find_nearby", "nl",
                                                entities=[place("schaarbeek")]))
    slots = {e["name"]: e["value"] for e in events}
    messages, events = run(ActionMoreResults(), tracker("meer", "more_results", "nl", slots=slots))
    assert "4. " in messages[0]["text"] and "Dichtstbijzijnde apotheken" in messages[0]["text"]
    assert {e["name"]: e["value"] for e in events}["search_offset"] == 6


def test_asks_for_the_place_when_missing():
    messages, events = run(ActionFindNearby(), tracker("where is the nearest pharmacy", "find_nearby", "en"))
    assert messages[0]["response"] == "utter_ask_place"
    assert {"event": "slot", "timestamp": None, "name": "search_kind", "value": "pharmacy"} in events


def test_a_bare_place_answer_uses_the_whole_message():
    messages, _ = run(ActionFindNearby(), tracker("1050", "inform_place", "fr"))
    text = messages[0]["text"]
    assert "Près de 1050" in text
    assert "Cellule EVA – Zone Bruxelles-Capitale-Ixelles, tél. 02 279 75 39" in text
    assert "02 535 45 42" in text  # the CPVS comes with a default search


def test_shared_location_wins_over_text():
    messages, _ = run(ActionFindNearby(), tracker("pharmacy", "find_nearby", "en",
                                                  metadata={"location": {"lat": 50.8466, "lon": 4.3528}}))
    assert messages[0]["text"].startswith("Near your location")


def test_unknown_and_faraway_places_get_clear_answers():
    for text, response in [("qwxzv plonk", "utter_place_unknown"), ("1300", "utter_place_outside_brussels"),
                           ("48.85, 2.35", "utter_place_outside_belgium")]:
        messages, _ = run(ActionFindNearby(), tracker(text, "inform_place"))
        assert messages[0]["response"] == response, text


def test_a_pharmacist_gets_the_services_for_a_client_not_the_victims_hint():
    messages, events = run(ActionFindNearby(), tracker("1030", "inform_place", "en", slots={"role": "pharmacist"}))
    text = messages[0]["text"]
    assert "Nearest support services" in text and "pharmac" not in text.split("\n")[1].lower()
    assert "A pharmacist can also listen" not in text
    assert "0471 94 38 72" in text.splitlines()[1]  # the EVA cell of the pharmacy's zone (Brussels North), first
    assert ("search_kind", "services") in [(e["name"], e["value"]) for e in events]


def test_a_young_person_gets_the_youth_lines_first():
    slots = {"age_group": "minor", "situation": "domestic"}
    messages, _ = run(ActionFindNearby(), tracker("near 1070", "find_nearby", "en", [place("1070")], slots=slots))
    lines = messages[0]["text"].splitlines()
    assert lines[1].startswith("For young people") and "103" in lines[1]
    assert lines[2].startswith("For young people") and "102" in lines[2]
    adult = run(ActionFindNearby(), tracker("near 1070", "find_nearby", "en", [place("1070")],
                                            slots={"age_group": "adult", "situation": "domestic"}))[0]
    assert "For young people" not in adult[0]["text"]


def test_after_a_danger_message_a_search_puts_112_and_101_first():
    for lang in ("fr", "nl", "en"):
        messages, _ = run(ActionFindNearby(), tracker("1060", "inform_place", lang, slots={"urgency": "now"}))
        first = messages[0]["text"].splitlines()[0]
        assert "112" in first and "101" in first, lang
    calm = run(ActionFindNearby(), tracker("1060", "inform_place", "en", slots={"urgency": "safe"}))[0]
    assert "112" not in calm[0]["text"].splitlines()[0]


def test_broken_directory_falls_back_to_the_helplines(monkeypatch, tmp_path):
    bad = tmp_path / "broken.db"
    bad.write_bytes(b"not a database" * 50)
    monkeypatch.setenv("RELAIS_DB", str(bad))
    db._handle = None
    for action, t in [(ActionFindNearby(), tracker("1030", "inform_place")),
                      (ActionLookup(), tracker("numéro GAMS", "lookup_service")),
                      (ActionMoreResults(), tracker("plus", "more_results"))]:
        messages, _ = run(action, t)
        assert messages[0]["response"] == "utter_search_unavailable"


@pytest.mark.parametrize("text, lang, expected", [
    ("numéro GAMS", "fr", "02 219 43 40"),
    ("EVA Bruxelles-Nord", "fr", "0471 94 38 72"),
    ("telefoon SOS Viol", "nl", "0800 98 100"),
    ("trainings on FGM for social workers", "en", "GAMS Belgique and INTACT"),
])
def test_staff_lookup_in_one_message(text, lang, expected):
    messages, _ = run(ActionLookup(), tracker(text, "lookup_service", lang))
    assert expected in messages[0]["text"]


def test_lookup_gives_the_eva_cell_of_a_place():
    messages, _ = run(ActionLookup(), tracker("EVA Koekelberg", "lookup_service", "en",
                                              entities=[place("koekelberg")]))
    assert "Bruxelles-Ouest" in messages[0]["text"] and "not confirmed" in messages[0]["text"]


def test_lookup_marks_unconfirmed_facts():
    messages, _ = run(ActionLookup(), tracker("formation mariage forcé Brusafe", "lookup_service", "fr"))
    assert "non confirmé, vérifié le 2026-11-22" in messages[0]["text"]


def test_lookup_never_shows_a_shelter_address():
    messages, _ = run(ActionLookup(), tracker("refuge secret", "lookup_service", "en"))
    text = messages[0]["text"]
    assert "secret" not in text.lower() or "confidential address" in text


@pytest.mark.parametrize("text", ["", "'", '"); DROP TABLE services; --', "x" * 5000, "😀", "\x00"])
def test_hostile_input_does_not_crash(text):
    for action, intent in [(ActionLookup(), "lookup_service"), (ActionFindNearby(), "inform_place")]:
        messages, _ = run(action, tracker(text, intent))
        assert messages


PHONE_IN_OUTPUT = re.compile(r"(?:t[ée]l\.|phone|tel\.)\s+([0-9][0-9 ]*[0-9])"
                             r"|(?<![\d/])(0\d{1,3}(?: \d{2,3}){2,3})(?![\d/])")


def test_every_number_an_action_says_is_in_the_directory(directory):
    """Scan the output of every action over many inputs for phone numbers."""
    known = directory.display_phones()
    cases = [(ActionFindNearby(), tracker(text, "inform_place", lang))
             for text in ("1000", "1030", "1050", "1070", "1180", "1210", "Gare du Midi", "Jette", "Uccle")
             for lang in ("fr", "nl", "en")]
    cases += [(ActionFindNearby(), tracker("1060", "inform_place", lang, slots={"situation": situation}))
              for situation in ("domestic", "sexual_violence", "leaving_home", "children", "fgm_forced_marriage",
                                "lgbtqi", "perpetrator", "relative")
              for lang in ("fr", "nl", "en")]
    cases += [(ActionLookup(), tracker(text, "lookup_service", lang))
              for text in ("GAMS", "EVA", "CPVS", "SOS Viol", "Rainbowhouse", "formation", "1712", "Praxis",
                           "Child Focus", "hulplijn", "EVA Montgomery", "refuge", "police")
              for lang in ("fr", "nl", "en")]
    cases += [(ActionLineLanguages(), tracker("", "helpline_call", lang)) for lang in languages.codes()]
    for action, t in cases:
        messages, _ = run(action, t)
        for message in messages:
            for match in PHONE_IN_OUTPUT.finditer(message.get("text") or ""):
                number = (match.group(1) or match.group(2)).strip()
                assert number in known, f"{action.name()} said {number!r}, not a directory number"


@pytest.mark.parametrize("text, entity, expected", [
    ("pharmacie près de chaussée de Wavre 100", "chaussée de Wavre", "chaussée de Wavre 100"),
    ("apotheek in de Kerkstraat 12b", "Kerkstraat", "Kerkstraat 12b"),
    ("pharmacie près de gare du Midi 2", "gare du Midi", "gare du Midi"),  # a station has no house number
    ("pharmacie près de rue Haute 320 svp", "rue Haute", "rue Haute"),  # the number is not at the end
    ("pharmacie à 1030", "1030", "1030"),
])
def test_the_place_keeps_a_house_number_typed_after_a_street(text, entity, expected):
    from actions.nearby import place_text

    start = text.index(entity)
    entities = [{"entity": "place", "value": entity, "start": start, "end": start + len(entity)}]
    assert place_text(tracker(text, "find_nearby", entities=entities)) == expected


# Issue 12, item 4: help for a place is the help that fits the conversation, not pharmacies.

def _help_near(place_text: str, lang: str = "en", situation=None, entities=()) -> str:
    slots = {"situation": situation} if situation else {}
    intent = "find_nearby" if entities else "inform_place"
    messages, _ = run(ActionFindNearby(), tracker(place_text, intent, lang, slots=slots, entities=entities))
    return messages[0]["text"]


def test_help_for_a_place_is_never_a_list_of_pharmacies():
    text = _help_near("where can I find help in Anderlecht", entities=[place("anderlecht")])
    assert "Nearest pharmacies" not in text and "Pharmacie" not in text
    assert "0800 30 030" in text and "1712" in text  # the helplines
    assert any(line.startswith("A pharmacist can also listen") for line in text.splitlines())


def test_partner_violence_near_1060_is_not_answered_with_sexual_violence_services_only():
    text = _help_near("1060", "fr", situation="domestic")
    assert "02 535 45 42" not in text and "0800 98 100" not in text  # the CPVS and SOS Viol: sexual violence
    assert "0800 30 030" in text and "Cellule EVA" in text
    services = [line for line in text.splitlines() if re.match(r"^\d\. ", line)]
    assert services and not any("SOS Viol" in line or "CPVS" in line for line in services)


def test_after_sexual_violence_the_cpvs_comes_first():
    text = _help_near("1060", "nl", situation="sexual_violence")
    assert "02 535 45 42" in text.splitlines()[1]


def test_leaving_home_gives_the_shelter_intake_line_and_no_shelter_address():
    text = _help_near("1060", "fr", situation="leaving_home")
    assert "02 539 27 44" in text.splitlines()[1] and "adresse secrète" in text


def test_more_results_of_a_help_search_are_services_too():
    _, events = run(ActionFindNearby(), tracker("1000", "inform_place", "en", slots={"situation": "domestic"}))
    slots = {e["name"]: e["value"] for e in events}
    more = tracker("more", "more_results", "en", slots={**slots, "situation": "domestic"})
    messages, _ = run(ActionMoreResults(), more)
    assert "pharmac" not in messages[0]["text"].lower()


def test_every_situation_of_the_domain_is_described_and_names_real_services(directory):
    import yaml

    from actions.nearby import situations

    domain = yaml.safe_load((ROOT / "bot" / "domain" / "help.yml").read_text(encoding="utf-8"))
    values = {m["value"] for m in domain["slots"]["situation"]["mappings"]}
    described = situations()["situations"]
    replacements = {s["minor"] for s in described.values() if s.get("minor")}
    assert values | {"default"} | replacements == set(described)
    ids = [sid for s in described.values() for where in ("first", "last") for entry in s.get(where) or []
           for sid in entry.values()]
    ids += [*situations()["talk"].values(), *situations()["danger_now"].values()]
    assert all(directory.service(sid) is not None for sid in ids), ids


def test_a_pharmacy_answer_says_how_to_find_the_pharmacy_on_duty_at_night():
    for lang, words in (("fr", "pharmacie de garde"), ("nl", "apotheek van wacht"), ("en", "duty pharmacy")):
        messages, _ = run(ActionFindNearby(), tracker("pharmacy 1030", "find_nearby", lang, entities=[place("1030")]))
        assert words in messages[0]["text"], lang


def test_an_explicit_services_search_lists_eva_cells_too():
    messages, events = run(ActionFindNearby(), tracker("services près de 1050", "find_nearby", "fr",
                                                        entities=[place("1050")]))
    assert {e["name"]: e["value"] for e in events}["search_kind"] == "services"
    assert "1. Cellule EVA – Zone Bruxelles-Capitale-Ixelles" in messages[0]["text"]


def test_a_service_listed_nearby_is_not_said_twice():
    messages, _ = run(ActionFindNearby(), tracker("aide près de 1080", "find_nearby", entities=[place("1080")]))
    assert messages[0]["text"].count("02 535 45 42") == 1


def test_an_eva_cell_without_a_phone_gives_its_address_and_what_to_do_instead():
    text = run(ActionFindNearby(), tracker("1080", "inform_place"))[0][0]["text"]
    assert "rue du Géomètre 39" in text and "n'est pas confirmé" in text and "Tout commissariat" in text


# Issue 13, item 2: which help speaks the user's language, from the directory's sourced facts.

def _lines(lang: str) -> str:
    messages, events = run(ActionLineLanguages(), tracker("", "helpline_call", lang))
    assert events == []
    return "\n".join(m.get("text") or "" for m in messages)


@pytest.mark.parametrize("lang", ["fr", "nl"])
def test_nothing_is_added_about_languages_when_a_helpline_speaks_yours(lang):
    assert _lines(lang) == ""


@pytest.mark.parametrize("lang", ["ar", "tr", "es", "pt", "pl", "ro"])
def test_a_new_language_learns_that_no_line_claims_it_and_how_to_get_an_interpreter(lang, directory):
    said = _lines(lang)
    first, talk = said.splitlines()[:2]
    assert first == texts.t("utter_lines_none_yours", lang)
    assert "0800 30 030" in talk and "1712" in talk  # the lines for talking, with their languages
    for context_id in ("interpreting_complaint", "interpreting_cpvs", "interpreting_social"):
        assert directory.context(context_id, lang) in said
    assert "02 535 45 42" in said  # the CPVS, where an interpreter is reported possible
    assert said.splitlines()[-1] == texts.t("utter_nearby_danger_now", lang, e112="112", p101="101")  # 112 last too


def test_english_speakers_get_the_lines_that_answer_in_english_first_and_partly_confirmed_marked():
    first = _lines("en").splitlines()[0]
    assert first.startswith("These answer in your language: 112; 101; Rainbowhouse,")  # WhatsApp only: no number
    assert first.endswith("partly confirmed.")
    assert "0800 30 030" not in first  # never claimed in English


def test_services_that_speak_the_users_language_come_first_nearby(monkeypatch):
    """A service recorded as answering in the user's language is listed before nearer ones, and says so."""
    from directory.facts import Directory, SpokenLanguages

    real = Directory.spoken_languages
    def with_gams_in_polish(self):
        return [SpokenLanguages("gams", ("fr", "nl", "pl"), "confirmed", None, "test", "2026-11-30")
                if s.service_id == "gams" else s for s in real(self)]
    monkeypatch.setattr(Directory, "spoken_languages", with_gams_in_polish)
    far_from_gams, fgm = "1170", {"situation": "fgm_forced_marriage"}
    messages, _ = run(ActionFindNearby(), tracker(far_from_gams, "inform_place", "pl", slots=fgm))
    listed = [line for line in messages[0]["text"].splitlines() if re.match(r"\d\. ", line)]
    assert listed[0].startswith("1. GAMS") and texts.t("utter_nearby_speaks_yours", "pl") in listed[0]
    messages, _ = run(ActionFindNearby(), tracker(far_from_gams, "inform_place", "fr", slots=fgm))
    assert texts.t("utter_nearby_speaks_yours", "fr") not in messages[0]["text"]


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_a_nearby_service_with_an_unconfirmed_address_is_marked_in_the_users_language(lang):
    """The source's English remark ("address unconfirmed") is not read to users; the bot's own mark is."""
    messages, _ = run(ActionFindNearby(), tracker("1210", "inform_place", lang))
    said = messages[0]["text"]
    line = next(x for x in said.splitlines() if "La Voix des Femmes" in x)
    assert "(address unconfirmed)" not in said and texts.t("utter_lookup_unconfirmed", lang) in line
