"""End to end: the real stack started by the launcher, spoken to over HTTP.

Each test holds a conversation as the chat page does (POST /api/chat) or as
the README's curl lines do (Rasa's REST channel), and checks what a user
would read: the language of the answer and the numbers it gives first.
"""

from __future__ import annotations

import uuid

import pytest

from actions.texts import t as response_text
from directory import languages
from tests.conftest import get_json, post_json, texts


def session() -> str:
    return uuid.uuid4().hex


def first_number(text: str, numbers: list[str]) -> str:
    return min((n for n in numbers if n in text), key=text.index)


@pytest.mark.parametrize(
    "greeting, lang, marker",
    [("bonjour", "fr", "Bonjour, je suis Relais"), ("hallo", "nl", "Hallo, ik ben Relais"),
     ("hello", "en", "Hello, I am Relais")],
)
def test_rasa_channel_answers_in_the_language_of_the_greeting(stack, greeting, lang, marker):
    status, reply = post_json(stack.rasa_channel, {"sender": session(), "message": greeting}, headers=stack.rasa_auth)
    assert status == 200
    assert marker in reply[0]["text"]
    # every language of the registry, each in its own name (issue 13)
    assert [b["title"] for b in reply[0]["buttons"]] == [languages.get(c).own_name for c in languages.codes()]


CONVERSATIONS = {
    "fr": [
        ("bonjour", "fr", "Bonjour"),
        ("j'ai besoin de parler à quelqu'un", "fr", "0800 30 030"),
        ("il est devant la porte avec un couteau", "fr", "112"),
        ("merci", "fr", "Je vous en prie"),
    ],
    "nl": [
        ("hallo", "nl", "Hallo"),
        ("ik wil met iemand praten", "nl", "1712"),
        ("hij staat voor de deur met een mes", "nl", "112"),
        ("bedankt", "nl", "Graag gedaan"),
    ],
    "en": [
        # "hello" alone is French as much as English in Brussels: the answer is the plain (English) greeting
        # and the conversation has no language yet (None) until a message says which
        ("hello", None, "Hello"),
        ("I need to talk to someone", "en", "0800 30 030"),
        ("he is at the door with a knife", "en", "112"),
        ("thanks", "en", "You are welcome"),
    ],
}


@pytest.mark.parametrize("lang", ["fr", "nl", "en"])
def test_a_first_useful_conversation_through_the_chat_endpoint(stack, lang):
    sid = session()
    for message, expected_lang, expected_text in CONVERSATIONS[lang]:
        reply = stack.chat(sid, message)
        assert reply["lang"] == expected_lang, (message, reply)
        assert expected_text in texts(reply), (message, reply)


@pytest.mark.parametrize(
    "message",
    ["il est devant la porte avec un couteau", "au secours il va me tuer", "jsuis en dangé il a 1 couto",
     "AIDEZ MOI VITE",
     "hij gaat me vermoorden", "ik ben in gevaar", "help me now", "he's gonna kill me", "im in danger",
     # the lexicon matches, the classifier is sure of another intent: once answered "I did not understand"
     "il est devant la porte avec un couteau, je ne sais plus quoi faire je ne sais plus quoi faire",
     "hij staat aan de deur met een mes, ik wil met iemand praten"],
)
def test_danger_gets_112_first_then_101(stack, message):
    sid = session()
    stack.chat(sid, "hello")
    stack.chat(sid, "what can you do?")
    text = texts(stack.chat(sid, message))
    assert first_number(text, ["112", "101", "0800 30 030", "1712"]) == "112"
    assert "101" in text


def test_helpline_depends_on_language(stack):
    fr, nl, en = (texts(stack.chat(session(), m)) for m in
                  ("je veux parler à quelqu'un", "ik wil met iemand praten", "I need to talk to someone"))
    assert first_number(fr, ["0800 30 030", "1712"]) == "0800 30 030"
    assert first_number(nl, ["0800 30 030", "1712"]) == "1712"
    assert "0800 30 030" in en and "1712" in en
    assert "9:00 to 19:00" in en and "9 h à 19 h" in fr and "werkdagen" in nl


def test_language_switch_by_request_by_button_and_by_page(stack):
    sid = session()
    assert stack.chat(sid, "bonjour")["lang"] == "fr"
    reply = stack.chat(sid, "in English please")
    assert reply["lang"] == "en" and "continue in English" in texts(reply)
    reply = stack.chat(sid, '/choose_language{"language":"nl"}')
    assert reply["lang"] == "nl" and "Nederlands" in texts(reply)
    # The page's choice wins over detection: an English word, a French answer.
    reply = stack.chat(session(), "hello", lang="fr")
    assert reply["lang"] == "fr" and "Bonjour" in texts(reply)


@pytest.mark.parametrize("lang", ["ar", "tr", "es", "pt", "pl", "ro"])
def test_choosing_a_new_language_says_which_line_speaks_it_and_how_to_get_an_interpreter(stack, lang, directory):
    """Issue 13, item 2, as a user meets it: the greeting's language button, then the honest answer."""
    sid = session()
    stack.chat(sid, "bonjour")
    reply = stack.chat(sid, f'/choose_language{{"language":"{lang}"}}')
    said = texts(reply)
    assert reply["lang"] == lang
    assert response_text("utter_lines_none_yours", lang) in said  # no line is said to speak it
    assert "0800 30 030" in said and "1712" in said
    assert directory.context("interpreting_complaint", lang) in said and "02 535 45 42" in said


def test_french_speakers_are_not_told_about_interpreters(stack):
    reply = stack.chat(session(), '/choose_language{"language":"fr"}')
    assert "interprète" not in texts(reply)


def test_ambiguous_message_keeps_the_previous_language(stack):
    sid = session()
    stack.chat(sid, "hallo")
    reply = stack.chat(sid, "ok")
    assert reply["lang"] == "nl"


def test_out_of_scope_is_polite_and_says_what_the_bot_does(stack):
    reply = stack.chat(session(), "quel temps fera-t-il demain à Bruxelles ?")
    assert reply["lang"] == "fr"
    text = texts(reply)
    assert "je ne peux pas aider" in text and "112" in text


BAD_BODIES = [
    (b"", 400, "empty_body"),
    (b"   \n ", 400, "empty_body"),
    (b"\xff\xfe\x00garbage", 400, "invalid_encoding"),
    (b"not json at all", 400, "invalid_json"),
    (b"[1, 2, 3]", 400, "invalid_json"),
    (b'{"session": "abcdefgh", "message": ""}', 400, "empty_message"),
    (b'{"session": "abcdefgh", "message": "   \\t "}', 400, "empty_message"),
    (b'{"session": "abcdefgh", "message": 12}', 400, "invalid_message"),
    (b'{"session": "x", "message": "hello"}', 400, "invalid_session"),
    (b'{"session": "abcdefgh\\n", "message": "hello"}', 400, "invalid_session"),
    (b"[" * 5000 + b"]" * 5000, 400, "invalid_json"),
    (b'{"session": "abcdefgh", "message": "hi", "lang": "de"}', 400, "invalid_lang"),
    (b'{"session": "abcdefgh", "message": "hi", "location": {"lat": "a"}}', 400, "invalid_location"),
    (b"a" * 100_000, 413, "body_too_large"),
]


@pytest.mark.parametrize("raw, status, code", BAD_BODIES, ids=[c for _, _, c in BAD_BODIES])
def test_bad_input_gets_a_clear_json_error_and_the_stack_keeps_answering(stack, raw, status, code):
    got_status, reply = post_json(f"{stack.web}/api/chat", None, raw=raw)
    assert got_status == status, reply
    assert reply["error"]["code"] == code and reply["error"]["message"]
    assert "Bonjour" in texts(stack.chat(session(), "bonjour"))


def test_long_message_within_limits_is_answered(stack):
    reply = stack.chat(session(), "je suis perdue " * 120)
    assert reply["messages"]


def test_health_reports_every_part(stack):
    status, health = get_json(f"{stack.web}/health")
    assert status == 200
    assert health["parts"] == {"web": "ok", "rasa": "ok", "actions": "ok", "directory": "ok"}


def test_pages_carry_security_headers(stack):
    import urllib.request

    with urllib.request.urlopen(f"{stack.web}/") as resp:
        headers = resp.headers
        page = resp.read().decode()
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "112" in page and "<script>" not in page


# Issue 4: conversations that help, through the real stack.

@pytest.mark.parametrize("lang, greeting, ask, place, header", [
    ("fr", "bonjour", "où est la pharmacie la plus proche ?", "Schaerbeek", "Près de Schaerbeek"),
    ("nl", "hallo", "waar is de dichtstbijzijnde apotheek?", "Schaarbeek", "Dicht bij Schaerbeek"),
    ("en", "hello", "where is the nearest pharmacy?", "Schaerbeek", "Near Schaerbeek"),
])
def test_from_hello_to_the_three_nearest_pharmacies(stack, lang, greeting, ask, place, header):
    sid = session()
    stack.chat(sid, greeting)
    asked = stack.chat(sid, ask)
    assert asked["lang"] == lang and "1030" in texts(asked)  # asks where, with examples
    reply = stack.chat(sid, place)
    assert reply["lang"] == lang
    text = texts(reply)
    assert text.startswith(header)
    assert len([line for line in text.splitlines() if line[:3] in ("1. ", "2. ", "3. ")]) == 3
    assert reply["messages"][0]["custom"]["type"] == "contact_points"
    more = stack.chat(sid, {"fr": "plus", "nl": "meer", "en": "more"}[lang])
    assert "4. " in texts(more)


def test_nearby_with_the_location_shared_by_the_page(stack):
    reply = stack.chat(session(), "pharmacie", lang="fr", location={"lat": 50.8466, "lon": 4.3528})
    assert texts(reply).startswith("Près de votre position")


@pytest.mark.parametrize("message, lang, windows", [
    ("j'ai été violée hier soir", "fr", "72 heures"),
    ("ik ben gisteren verkracht", "nl", "72 uur"),
    ("I was raped last night", "en", "72 hours"),
])
def test_cpvs_time_windows_after_sexual_violence(stack, message, lang, windows):
    reply = stack.chat(session(), message)
    text = texts(reply)
    assert reply["lang"] == lang
    assert "02 535 45 42" in text and windows in text and "7" in text and "02 349 44 22" in text


def test_pharmacist_gets_the_route_then_services_near_the_pharmacy(stack):
    sid = session()
    route = texts(stack.chat(sid, "je suis pharmacien, une cliente m'a dit que son mari la frappe"))
    assert route.index("112") < route.index("0800 30 030")
    # issue 12, item 6: addressed to the pharmacist, with the complaint as the client's choice,
    # the medical certificate and professional secrecy; no evidence advice meant for sexual violence
    assert "choix de la personne" in route and "certificat" in route and "secret professionnel" in route
    assert "laver" not in route
    services = texts(stack.chat(sid, "1050"))
    assert "Services d'aide les plus proches" in services
    assert "Un pharmacien peut aussi vous écouter" not in services


@pytest.mark.parametrize("lang, disclosure, sexual, minor, no_complaint", [
    ("fr", "je suis pharmacienne, une cliente a des bleus et dit que c'est son mari",
     "contraception d'urgence", "103", "choix de la personne"),
    ("nl", "ik ben apotheker, een klant heeft blauwe plekken en zegt dat het haar man is",
     "noodpil", "102", "keuze van de persoon"),
    ("en", "i'm a pharmacist and a client with bruises says her husband hits her",
     "Emergency contraception", "103", "the person's choice"),
])
def test_a_pharmacist_gets_each_route_addressed_to_the_pharmacist(stack, lang, disclosure, sexual, minor,
                                                                  no_complaint):
    sid = session()
    route = stack.chat(sid, disclosure)
    assert [b["payload"] for b in route["messages"][-1]["buttons"]] == ["/sexual_violence", "/children",
                                                                         "/file_complaint"]
    after_rape = texts(stack.chat(sid, "/sexual_violence"))
    assert sexual in after_rape and "02 535 45 42" in after_rape and "72" in after_rape
    assert "Are you safe" not in after_rape and "êtes-vous en sécurité" not in after_rape.lower()
    assert minor in texts(stack.chat(sid, "/children"))
    assert no_complaint in texts(stack.chat(sid, "/file_complaint"))


@pytest.mark.parametrize("message, expected", [
    ("numéro GAMS", "02 219 43 40"), ("EVA Bruxelles-Nord", "0471 94 38 72"), ("EVA Montgomery", "02 788 96 92"),
    ("EVA Koekelberg", "Bruxelles-Ouest"), ("cellule EVA 1030", "0471 94 38 72"),
])
def test_staff_find_a_number_or_an_eva_cell_in_one_message(stack, message, expected):
    assert expected in texts(stack.chat(session(), message))


def test_danger_mid_search_still_comes_first(stack):
    sid = session()
    stack.chat(sid, "où est la pharmacie la plus proche ?")
    text = texts(stack.chat(sid, "il arrive avec un couteau"))
    assert text.startswith("En danger maintenant : appelez le 112")


def test_leaving_tonight_gives_intake_lines_and_no_shelter_address(stack):
    text = texts(stack.chat(session(), "I need to leave home tonight"))
    assert "02 539 27 44" in text and "secret" in text


@pytest.mark.parametrize("message, lang, expected", [
    ("il ne me frappe pas mais il contrôle mon téléphone, c'est normal ?", "fr",
     ["psychologiques et économiques", "Convention d'Istanbul", "0800 30 030"]),
    ("is het normaal dat hij al mijn geld afneemt", "nl", ["economisch geweld", "Verdrag van Istanbul", "1712"]),
    ("what counts as abuse if he never hits me", "en", ["economic violence", "Istanbul Convention", "0800 30 030"]),
])
def test_what_counts_as_violence_and_is_this_normal(stack, message, lang, expected):
    sid = session()
    reply = stack.chat(sid, message)
    assert reply["lang"] == lang
    first = texts(reply)  # short: the helpline and a question, the legal text only on request
    assert expected[2] in first and first.rstrip().endswith("?") and expected[1] not in first, first
    assert [b["payload"] for b in reply["messages"][-1]["buttons"]] == ["/tell_me_more", "/danger"]
    more = texts(stack.chat(sid, "/tell_me_more"))
    assert all(e in more for e in expected), more


@pytest.mark.parametrize("greeting, message, lang", [
    ("hallo, ", "ik word thuis uitgescholden", "nl"),
    ("Bonjour madame, ", "mon mari me contrôle tout le temps", "fr"),
    ("hi there, ", "my boyfriend reads all my messages", "en"),
])
def test_a_greeting_before_a_disclosure_gets_the_answer_to_the_disclosure(stack, greeting, message, lang):
    greeted = stack.chat(session(), greeting + message)
    assert greeted["lang"] == lang and "Relais" not in texts(greeted), texts(greeted)
    assert texts(greeted) == texts(stack.chat(session(), message))


@pytest.mark.parametrize("message, lang, expected", [
    ("si j'appelle le 0800 30 030, ils préviennent la police ?", "fr", "appeler ne prévient pas la police"),
    ("moet ik mijn naam geven als ik 1712 bel", "nl", "U hoeft uw naam niet te geven"),
    ("what happens when I call the helpline, is it anonymous", "en", "You do not have to give your name"),
])
def test_what_happens_when_you_call_a_helpline(stack, message, lang, expected):
    reply = stack.chat(session(), message)
    assert reply["lang"] == lang and expected in texts(reply), texts(reply)


@pytest.mark.parametrize("message, lang, expected", [
    ("comment me protéger de mon mari", "fr", "Quitter vite"),
    ("hoe bescherm ik mezelf tegen mijn ex", "nl", "Snel weg"),
    ("how do I protect myself, he checks my phone history", "en", "Quick exit"),
])
def test_safety_basics_start_with_112_and_explain_quick_exit(stack, message, lang, expected):
    sid = session()
    first = texts(stack.chat(sid, message))
    assert first.index("112") < first.index("02 539 27 44") and first.rstrip().endswith("?"), first
    more = texts(stack.chat(sid, {"fr": "oui", "nl": "ja", "en": "yes"}[lang]))  # "yes, I am safe": the detail
    assert more.index("112") < more.index("02 539 27 44") < more.index(expected), more


def test_complaint_says_any_station_and_what_to_bring_after_sexual_violence(stack):
    text = texts(stack.chat(session(), "how do I file a complaint"))
    assert "Any police station takes complaints, 24/7" in text and "paper bag" in text


# Issue 12, item 4: help for a place fits the conversation; pharmacies only when asked for.

@pytest.mark.parametrize("message, lang", [
    ("où trouver de l'aide à Anderlecht ?", "fr"), ("waar vind ik hulp in Anderlecht?", "nl"),
    ("where can I find help in Anderlecht", "en"),
])
def test_help_in_a_place_is_help_not_pharmacies(stack, message, lang):
    reply = stack.chat(session(), message)
    text = texts(reply)
    assert reply["lang"] == lang
    assert "0800 30 030" in text and "1712" in text
    assert not any(word in text for word in ("Pharmacies les plus proches", "Dichtstbijzijnde apotheken",
                                             "Nearest pharmacies"))


def test_a_place_after_a_shelter_question_brings_the_intake_line(stack):
    sid = session()
    stack.chat(sid, "je dois partir de chez moi ce soir, où dormir ?")
    text = texts(stack.chat(sid, "1060"))
    assert "02 539 27 44" in text and "Pharmacies les plus proches" not in text


def test_partner_violence_near_1060_is_not_only_sexual_violence_services(stack):
    sid = session()
    stack.chat(sid, "il contrôle mon téléphone et mon argent, c'est normal ?")
    text = texts(stack.chat(sid, "de l'aide près de 1060"))
    listed = [line for line in text.splitlines() if line[:3] in ("1. ", "2. ", "3. ")]
    assert listed and not all(("SOS Viol" in line or "CPVS" in line) for line in listed)
    assert "02 535 45 42" not in text and "Pharmacies les plus proches" not in text


# Issue 12, item 3: a short first answer that asks whether the person is safe now.

@pytest.mark.parametrize("message, lang, no", [
    ("il me crie dessus tout le temps, c'est normal ?", "fr", "non"),
    ("hij controleert mijn telefoon, is dat normaal?", "nl", "nee"),
    ("is it normal that he checks my phone", "en", "no"),
])
def test_not_safe_after_the_question_gets_the_danger_answer(stack, message, lang, no):
    sid = session()
    first = texts(stack.chat(sid, message))
    assert first.rstrip().endswith("?") and len(first.split()) <= 60, first
    danger = texts(stack.chat(sid, no))
    assert danger.startswith({"fr": "En danger maintenant", "nl": "Nu in gevaar", "en": "In danger now"}[lang]), danger


def test_tell_me_more_typed_after_sexual_violence_gives_the_detail(stack):
    sid = session()
    first = texts(stack.chat(sid, "I was raped last night"))
    assert "02 535 45 42" in first and "0800 98 100" not in first
    more = texts(stack.chat(sid, "tell me more"))
    assert "0800 98 100" in more  # SOS Viol, in the detail


# Issue 12, item 5: the conversation's context (age, what happened, urgency) carries across turns.

@pytest.mark.parametrize("lang, age, talk, anonymous", [
    ("fr", "j'ai 15 ans et mon beau-père me frappe", "je voudrais parler à quelqu'un", "c'est anonyme ?"),
    ("nl", "ik ben 14 en mijn stiefvader slaat mij", "ik wil met iemand praten", "is het anoniem?"),
    ("en", "im 15 and my stepdad hits me", "i want to talk to someone", "is it anonymous?"),
])
def test_a_young_person_who_gave_their_age_gets_the_youth_lines_later_on(stack, lang, age, talk, anonymous):
    sid = session()
    stack.chat(sid, age)
    text = texts(stack.chat(sid, talk))
    assert "102" in text and "103" in text and "0800 30 030" not in text, text
    text = texts(stack.chat(sid, anonymous))
    assert "102" in text and "103" in text, text


@pytest.mark.parametrize("lang, disclosure, question, complaint", [
    ("fr", "j'ai été violée hier soir", "c'est gratuit ?", "plainte n'est pas obligatoire"),
    ("nl", "ik ben gisteren verkracht", "is dat gratis?", "klacht indienen is niet verplicht"),
    ("en", "i was raped last night", "is it free?", "complaint is optional"),
])
def test_is_it_free_after_sexual_violence_is_answered_about_the_cpvs(stack, lang, disclosure, question, complaint):
    sid = session()
    stack.chat(sid, disclosure)
    text = texts(stack.chat(sid, question))
    assert "02 535 45 42" in text and complaint in text.lower(), text


@pytest.mark.parametrize("message, lang, talk", [
    ("mijn man slaat mij", "nl", "1712"), ("mon mari me frappe", "fr", "0800 30 030"),
    ("my husband hits me", "en", "0800 30 030"),
])
def test_hitting_now_gets_112_first_and_a_helpline_for_later(stack, message, lang, talk):
    text = texts(stack.chat(session(), message))
    assert text.index("112") < text.index(talk), text


def test_after_a_danger_message_a_place_brings_112_first(stack):
    sid = session()
    stack.chat(sid, "il me frappe la")
    text = texts(stack.chat(sid, "je suis a Anderlecht"))
    assert text.splitlines()[0].startswith("En danger maintenant") and "101" in text.splitlines()[0], text


@pytest.mark.parametrize("message, lang, line", [
    ("j'ai 16 ans", "fr", "103"), ("je n'arrive pas à le dire à ma mère", "fr", "103"),
    ("ik ben 14 jaar", "nl", "102"), ("I can't tell my mom", "en", "103"),
])
def test_a_teenager_gets_the_youth_lines_and_the_cpvs_for_minors(stack, message, lang, line):
    reply = stack.chat(session(), message)
    text = texts(reply)
    assert reply["lang"] == lang and line in text and "02 535 45 42" in text, text


@pytest.mark.parametrize("message, lang, numbers", [
    # issue 16: each situation gets its own answer and the bodies that take it, in the user's language
    ("quelqu'un menace de publier mes photos intimes sur insta", "fr", ["0800 12 800", "116 000"]),
    ("iemand verspreidt naaktfoto's van mij op snapchat", "nl", ["0800 12 800", "116 000"]),
    # "...and touched me" gets the sexual-violence answer (the CPVS first), which fits a groping too
    ("a man keeps following me on the metro and whistling at me", "en", ["1707", "101"]),
    ("mon chef me fait des remarques sexistes tous les jours", "fr", ["0800 12 800"]),
    ("the landlord refused me the flat because of my headscarf", "en", ["0800 12 800", "0492 40 84 84"]),
    ("ik werd geweigerd voor een job omwille van mijn afkomst", "nl", ["0800 12 800"]),
    ("j'ai porté plainte il y a six mois, je n'ai aucune nouvelle, quels sont mes droits", "fr", ["02 508 74 48"]),
    ("what happens after i filed a complaint, can i get a free lawyer", "en", ["02 511 50 45"]),
])
def test_harassment_discrimination_and_rights_each_get_their_answer(stack, message, lang, numbers):
    reply = stack.chat(session(), message)
    assert reply["lang"] == lang, reply
    for number in numbers:
        assert number in texts(reply), (message, reply)
