"""Organisers propose trainings through the public form; nothing is public until a coordinator approves it
(issue 15). Real web server over HTTP, a copy of the directory, a real curation store."""

from __future__ import annotations

import re
import shutil
import sqlite3
import urllib.parse

import pytest

from bot.web.proposals import texts
from directory import proposals
from directory.build import SEED, build
from directory.curation import Curation
from tests.conftest import PASSWORD, ROOT, Browser, fetch, get_json, web_alone

GOOD = {"title": "Accueillir une victime de violences conjugales", "organiser": "Asbl Exemple",
        "audiences": ["professionals"], "topics": ["domestic"], "languages": ["fr", "nl"], "format": "hybrid",
        "dates": "sur demande", "cost": "gratuit", "contact": "formations@example.org",
        "url": "https://example.org/formation"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("propose")
    shutil.copy(ROOT / "directory" / "relais.db", folder / "relais.db")
    store = Curation(folder / "curation.db")
    store.create_user("cora", PASSWORD, "coordinator")
    store.create_user("eddie", PASSWORD, "editor")
    store.close()
    with web_alone(RELAIS_DB=str(folder / "relais.db"), RELAIS_CURATION_DB=str(folder / "curation.db"),
                   RELAIS_ADMIN_COOKIE_SECURE="no", RELAIS_RATE_SIGNIN="30/30") as url:
        yield url, folder


def send(url: str, fields: dict, lang: str = "fr", token: str | None = None) -> tuple[int, str]:
    status, _, page = fetch(f"{url}/trainings/propose?lang={lang}")
    assert status == 200
    token = token if token is not None else re.search(r'name="token" value="([^"]+)"', page.decode()).group(1)
    body = urllib.parse.urlencode({"token": token, **fields}, doseq=True).encode()
    status, _, page = fetch(f"{url}/trainings/propose?lang={lang}", "POST", body,
                            {"Content-Type": "application/x-www-form-urlencoded"})
    return status, page.decode()


def waiting(folder) -> list:
    store = Curation(folder / "curation.db")
    try:
        return [dict(row) for row in proposals.pending(store)]
    finally:
        store.close()


def test_the_form_speaks_french_dutch_and_english_and_every_text_exists_in_each():
    words = texts()
    assert set(words) >= {"fr", "nl", "en"}
    keys = set(words["fr"])
    for lang, table in words.items():
        assert set(table) == keys and all(str(v).strip() for v in table.values()), lang


@pytest.mark.parametrize("lang, title", [("fr", "Proposer une formation"), ("nl", "Een opleiding voorstellen"),
                                         ("en", "Propose a training")])
def test_the_form_page_in_each_language(site, lang, title):
    url, _ = site
    status, head, page = fetch(f"{url}/trainings/propose?lang={lang}")
    text = page.decode()
    assert status == 200 and f'<html lang="{lang}">' in text and title in text
    assert "form-action 'self'" in head["Content-Security-Policy"] and "script-src 'self'" in head[
        "Content-Security-Policy"]
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing from another host


def test_a_proposal_waits_for_moderation_and_is_nowhere_public(site):
    url, folder = site
    status, page = send(url, GOOD)
    assert status == 200 and "Merci" in page
    [row] = [r for r in waiting(folder) if r["title"] == GOOD["title"]]
    assert row["contact"] == "formations@example.org" and row["received"] == row["received"][:10]
    status, found = get_json(f"{url}/api/directory/search?q=" + urllib.parse.quote("Accueillir une victime"))
    assert status == 200 and not [r for r in found["results"] if r["id"].startswith("proposed_")]


def test_spam_and_mistakes_get_a_clear_answer_and_nothing_is_kept(site):
    url, folder = site
    before = len(waiting(folder))
    status, page = send(url, {**GOOD, "title": "Robot", "website": "http://spam.example"})
    assert status == 200 and "Merci" in page  # the honeypot: thanked, dropped
    status, page = send(url, {**GOOD, "contact": ""}, lang="en")
    assert status == 400 and "Please correct this field: Professional contact" in page
    assert 'value="Accueillir une victime de violences conjugales"' in page  # what was typed is kept
    status, page = send(url, {**GOOD, "url": "javascript:alert(1)"}, lang="nl")
    assert status == 400 and "Webpagina" in page
    status, page = send(url, {**GOOD, "audiences": ["everyone"]})
    assert status == 400
    status, page = send(url, {**GOOD, "title": "x" * 201})
    assert status == 400
    status, page = send(url, GOOD, token="1.forged")
    assert status == 403
    status, _, _ = fetch(f"{url}/trainings/propose", "POST", b"title=" + b"x" * 20000,
                         {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 413
    status, _, _ = fetch(f"{url}/trainings/propose", "POST", b"\xff\xfe\x00garbage",
                         {"Content-Type": "application/x-www-form-urlencoded"})
    assert status in (400, 403)
    assert len(waiting(folder)) == before


def test_the_form_is_rate_limited_per_client(tmp_path):
    Curation(tmp_path / "curation.db").close()
    with web_alone(RELAIS_CURATION_DB=str(tmp_path / "curation.db"), RELAIS_RATE_PROPOSE="2/2") as url:
        statuses = [send(url, GOOD)[0] for _ in range(4)]
    assert statuses[:2] == [200, 200] and statuses[2:] == [429, 429]


def test_a_coordinator_publishes_it_as_partly_confirmed_and_a_rebuild_keeps_it(site, tmp_path):
    url, folder = site
    send(url, {**GOOD, "title": "Formation à publier"})
    send(url, {**GOOD, "title": "Formation à refuser", "contact": "02 123 45 67"})
    queue = {r["title"]: r["id"] for r in waiting(folder)}
    editor, coordinator = Browser(url), Browser(url)
    assert editor.sign_in("eddie") == 303 and coordinator.sign_in("cora") == 303
    assert "Formation à publier" in editor.request("/admin/proposals")[2]
    assert editor.post("/admin/proposals/decide", proposal=str(queue["Formation à publier"]),
                       decision="approve")[0] == 403
    status, _ = coordinator.post("/admin/proposals/decide", proposal=str(queue["Formation à publier"]),
                                 decision="approve")
    assert status == 303
    assert coordinator.post("/admin/proposals/decide", proposal=str(queue["Formation à refuser"]),
                            decision="reject")[0] == 303
    status, found = get_json(f"{url}/api/directory/search?type=training&q=" + urllib.parse.quote("publier"))
    [training] = [r for r in found["results"] if r["id"] == f"proposed_{queue['Formation à publier']}"]
    assert training["confidence"] == "partly" and training["url"] == GOOD["url"]
    conn = sqlite3.connect(folder / "curation.db")
    refused = conn.execute("SELECT status, contact FROM proposals WHERE id = ?",
                           (queue["Formation à refuser"],)).fetchone()
    assert refused == ("rejected", "")
    assert "Formation à publier" not in {r["title"] for r in waiting(folder)}
    conn.close()
    seed = tmp_path / "seed"
    shutil.copytree(SEED, seed)
    rebuilt = build(tmp_path / "relais.db", seed, curation_db=folder / "curation.db")
    live = sqlite3.connect(rebuilt)
    assert live.execute("SELECT confidence FROM trainings WHERE id = ?",
                        (f"proposed_{queue['Formation à publier']}",)).fetchone() == ("partly",)
