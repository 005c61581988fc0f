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
    # threats of fire, confinement with the keys taken, a car driven to kill, a hushed "he is here"
    "il menace de tout bruler", "il a pris les cles je ne peux pas sortir", "on va tous mourir", "il a un marteau",
    "il est a cote je peux plus parler", "hij dreigt alles in de fik te steken",
    "ze hebben de sleutels, ik kan er niet uit weg",
    "we gaan allemaal dood", "hij is thuis ik kan nie bellen", "hij gaat me vannacht afmaken", "he will burn us",
    "he hid the keys so i cant get out", "we are all gonna die", "scared for my life", "hes home cant talk",
    "he has a baseball bat", "hij is ons dochter aan het slaan", "zijn ze mijn broer aan het schoppen",
    "he is beating my son", "she s hurting the baby",
]
SAFE = [
    "bonjour", "qu'est-ce que la violence psychologique ?", "aide-moi à trouver une pharmacie",
    "mes enfants sont à l'école", "je veux parler à quelqu'un", "les violences conjugales c'est quoi",
    "hallo", "ik wil met iemand praten", "help me een apotheek te vinden", "mes amis",
    "ça coûte combien ?", "le danger des réseaux sociaux pour les ados", "je me sens en sécurité",
    "hello", "help", "help me find a pharmacy", "what counts as violence?", "I need to talk to someone",
    "where can I file a complaint", "my arm hurts from sport",
    "does 1712 call the police", "will they call the police if i ring", "il prend mes cles de voiture",
    "he keeps my car keys", "il a brule mes papiers", "hij verstopt mijn sleutels", "je vais mourir de rire",
    "ik ben aan het slapen", "he is hitting the gym",
]


# Stop 22: someone breaking in now (a Dutch fresh-set miss) and Arabic cries and fire (the Arabic diagnostic set).
DANGER += ["mijn ex probeert binnen te breken langs de achterdeur", "my ex is trying to break in through the back door",
           "il essaie d'entrer, il force la porte", "ja ja 3te9ni", "ch3el l3afya f dar w drari lda5el",
           "شعل العافية فالدار وحنا لداخل"]
SAFE += ["he is trying to get in touch with me", "il essaie d'entrer en contact avec moi",
         "he tried to break in last year", "الله يعطيك العافية", "ik wil de deur van de kast openbreken"]


@pytest.mark.parametrize("text", DANGER)
def test_danger_phrasings_match(text):
    assert matching_pattern(text), text


@pytest.mark.parametrize("text", SAFE)
def test_ordinary_messages_do_not_match(text):
    assert matching_pattern(text) is None, text


@pytest.mark.parametrize("text", ["", None, "   ", "\x00\x01", "😱" * 50, "a" * 5000])
def test_odd_input_does_not_crash(text):
    assert matching_pattern(text) is None


def test_the_detector_takes_an_unseen_danger_phrasing_for_danger_and_leaves_the_rest():
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message

    from nlu.components.danger import DangerLexicon, fit_detector
    from nlu.components.shared import CLASSIFIER_RANKING

    danger = ["il me poursuit dans l escalier", "il cogne ma tete contre le mur", "il me traine par les cheveux",
              "he drags me by the hair", "he slams my head on the wall", "hij sleurt mij aan mijn haar",
              "il m ecrase la gorge", "he squeezes my throat", "hij knijpt mijn keel dicht", "il me jette par terre"]
    other = ["bonjour", "merci beaucoup", "ou est la pharmacie", "how do i file a complaint", "thanks a lot",
             "is it anonymous", "hallo", "ik wil met iemand praten", "c est gratuit", "what can you do",
             "he checks my phone", "il garde mon argent", "hij kiest mijn kleren", "a shelter for tonight",
             "my friend has bruises", "je suis pharmacien", "the brussels plan", "ik ben 15", "more please", "1060"]
    detector = fit_detector(danger + other, [True] * len(danger) + [False] * len(other), max_false_alarms=0.05)
    component = DangerLexicon(DangerLexicon.get_default_config(), None, None, detector)

    def message(text: str) -> Message:
        guess = {"name": "violence_forms", "confidence": 0.99}
        return Message(data={TEXT: text, INTENT: guess, INTENT_RANKING_KEY: [guess]})

    unseen, ordinary = message("he drags me by my hair down the stairs"), message("merci et bonne soiree")
    component.process([unseen, ordinary])
    assert unseen.get(INTENT)["name"] == "danger" and unseen.get(INTENT_RANKING_KEY) == [unseen.get(INTENT)]
    assert ordinary.get(INTENT)["name"] == "violence_forms"
    # the detector's own arithmetic gives the probability sklearn gives, for seen, unseen and odd texts
    texts = danger + other + ["he drags me by my hair down the stairs", "", "zzz qqq", "!!!", "ا", "3afak"]
    expected = detector["model"].predict_proba(texts)[:, 1]
    assert max(abs(component.score(t) - p) for t, p in zip(texts, expected, strict=True)) < 1e-5  # float32 weights

    # the classifier's own ranking (CLASSIFIER_RANKING, which later components do not rewrite) decides rule 3
    def ranked(text: str, *ranking: tuple) -> Message:
        rows = [{"name": name, "confidence": confidence} for name, confidence in ranking]
        return Message(data={TEXT: text, INTENT: rows[0], INTENT_RANKING_KEY: rows, CLASSIFIER_RANKING: rows})

    unsure_first = ranked("ele esta aqui e nao me deixa sair", ("danger", 0.3), ("leave_home_tonight", 0.28))
    second_to_unsure = ranked("um homem esta me seguindo", ("harassment_public", 0.39), ("danger", 0.32))
    second_and_close = ranked("he is at the door again", ("harassment_public", 0.47), ("danger", 0.44))
    overridden = ranked("my teacher at the training course follows me home", ("danger", 0.4), ("lookup_service", 0.3))
    overridden.set(INTENT, {"name": "lookup_service", "confidence": 1.0})  # as TrainingRequest would
    second_to_sure = ranked("comment signaler a la stib", ("harassment_public", 0.8), ("danger", 0.1))
    knows_nothing = ranked("qxzv", ("greet", 0.108), ("danger", 0.107), ("affirm", 0.106))
    component.process([unsure_first, second_to_unsure, second_and_close, overridden, second_to_sure, knows_nothing])
    for leaning in (unsure_first, second_to_unsure, second_and_close, overridden):
        assert leaning.get(INTENT) == {"name": "danger", "confidence": 1.0}, leaning.get(TEXT)
    assert second_to_sure.get(INTENT)["name"] == "harassment_public"
    assert knows_nothing.get(INTENT)["name"] == "greet"


def test_no_language_s_patterns_fire_on_another_language_s_ordinary_examples():
    """The patterns of all languages run on every message, on folded text: a word of one language can fold into a
    danger word of another (the Turkish "gün", day, became the English "gun"). No training example that is not
    danger, in any language, may match another language's patterns."""
    import re
    from pathlib import Path

    import yaml

    from directory.textnorm import fold
    from nlu.components.danger import LEXICON

    annotation = re.compile(r"\[([^\]]*)\]\([^)]*\)")
    patterns = {lang: [re.compile(p) for p in entries]
                for lang, entries in yaml.safe_load(LEXICON.read_text(encoding="utf-8"))["danger_patterns"].items()}
    collisions = []
    for path in sorted(Path(LEXICON).parent.parent.glob("*/*.yml")):
        lang = path.parent.name
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" not in block or block["intent"] == "danger":
                continue
            for line in block["examples"].splitlines():
                text = fold(annotation.sub(r"\1", line.strip().removeprefix("- ")))
                collisions += [(lang, other, text) for other, entries in patterns.items()
                               if other != lang and any(p.search(text) for p in entries)]
    assert collisions == []
