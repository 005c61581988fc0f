"""The back office (issue 15) over real HTTP: a real web server, its own copy of the directory and a curation store.

Who may do what (every route refuses without a session, CSRF, roles), how sign-in resists (lock-out, rate
limit, no session fixation), and that an edit is checked, kept in the append-only history, live at once
in the directory's answers, revertible, and kept by a rebuild from the seed.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.web.admin import ROUTES as ADMIN_ROUTES
from bot.web.insights import ROUTES as INSIGHTS_ROUTES
from directory import languages
from directory.build import SEED, build
from directory.curation import Curation, CurationError, Invalid, check_phone, rebuild_lock
from tests.conftest import PASSWORD, ROOT, Browser, fetch, get_json, web_alone


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """A web server on a copy of the directory, with an editor and a coordinator; yields (url, folder)."""
    folder = tmp_path_factory.mktemp("office")
    shutil.copy(ROOT / "directory" / "relais.db", folder / "relais.db")
    store = Curation(folder / "curation.db")
    store.create_user("eddie", PASSWORD, "editor")
    store.create_user("cora", PASSWORD, "coordinator")
    store.close()
    with web_alone(RELAIS_DB=str(folder / "relais.db"), RELAIS_CURATION_DB=str(folder / "curation.db"),
                   RELAIS_ADMIN_COOKIE_SECURE="no", RELAIS_RATE_SIGNIN="off", log_path=folder / "web.log") as url:
        yield url, folder


def confidence_of(url: str, name: str) -> str:
    status, body = get_json(f"{url}/api/directory/search?q={urllib.parse.quote(name)}&type=service")
    assert status == 200
    return body["results"][0]["confidence"]


def phone_of(url: str, name: str) -> str:
    status, body = get_json(f"{url}/api/directory/search?q={urllib.parse.quote(name)}&type=service")
    assert status == 200
    return body["results"][0]["phone"]


@pytest.mark.parametrize("method, path", [(m, p.replace("{id}", "evc_0800"))
                                          for m, p, _ in ADMIN_ROUTES + INSIGHTS_ROUTES if p != "/admin/sign-in"])
def test_every_admin_route_refuses_without_a_session(office, method, path):
    url, _ = office
    for cookie in ("", "relais_admin=forged-or-expired-key"):
        status, head, body = fetch(url + path, method, b"csrf=x" if method == "POST" else None,
                                   {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        if method == "GET":
            assert status == 303 and head["Location"] == "/admin/sign-in", path
        else:
            assert status == 403, path
        assert b"evc_0800" not in body and b"0800" not in body


def test_signing_in_starts_a_new_session_and_signing_out_ends_it(office):
    url, _ = office
    browser = Browser(url)
    browser.cookie = "planted-by-an-attacker"
    assert browser.sign_in("eddie", "wrong password here") == 401 and browser.cookie == "planted-by-an-attacker"
    assert browser.sign_in("eddie") == 303
    first = browser.cookie
    assert first and first != "planted-by-an-attacker"
    assert browser.request("/admin")[0] == 200
    assert browser.sign_in("eddie") == 303 and browser.cookie != first  # signing in again: a new key
    stale = Browser(url)
    stale.cookie = first
    assert stale.request("/admin")[0] == 303  # the old key is dead
    assert browser.post("/admin/sign-out")[0] == 303
    again = Browser(url)
    again.cookie = browser.cookie or first
    assert again.request("/admin")[0] == 303


def test_sign_out_everywhere_ends_every_session_of_the_account(office):
    url, _ = office
    phone, laptop = Browser(url), Browser(url)
    assert phone.sign_in("cora") == 303 and laptop.sign_in("cora") == 303
    assert laptop.request("/admin")[0] == 200
    assert phone.post("/admin/sign-out-everywhere")[0] == 303
    assert laptop.request("/admin")[0] == 303


def test_an_account_locks_after_five_failures_even_for_the_right_password(office):
    url, folder = office
    store = Curation(folder / "curation.db")
    store.create_user("locky", PASSWORD, "editor")
    browser = Browser(url)
    for _ in range(5):
        assert browser.sign_in("locky", "not the password at all") == 401
    assert browser.sign_in("locky") == 401
    _, _, page = browser.request("/admin/sign-in")
    store.set_password("locky", "another long pass phrase")  # a coordinator's reset unlocks it
    store.close()
    assert browser.sign_in("locky", "another long pass phrase") == 303


def test_sign_in_is_rate_limited_per_client(tmp_path):
    store = Curation(tmp_path / "curation.db")
    store.close()
    with web_alone(RELAIS_CURATION_DB=str(tmp_path / "curation.db"), RELAIS_RATE_SIGNIN="3/3",
                   RELAIS_ADMIN_COOKIE_SECURE="no") as url:
        statuses = [Browser(url).sign_in("nobody") for _ in range(5)]
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429]


def test_a_form_without_the_sessions_token_is_refused(office):
    url, _ = office
    browser, other = Browser(url), Browser(url)
    assert browser.sign_in("eddie") == 303 and other.sign_in("cora") == 303
    before = phone_of(url, "Awel")
    for token in ("", "guess", other.csrf()):
        status, _, _ = browser.request("/admin/edit", {"csrf": token, "kind": "service", "record": "awel_102",
                                                       "field": "phone", "value": "02 534 37 43",
                                                       "source_url": "https://www.awel.be/", "note": "csrf"})
        assert status == 403
    assert phone_of(url, "Awel") == before


@pytest.mark.parametrize("headers", [{"Origin": "https://attacker.example"},
                                     {"Origin": "null"}, {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
                                     {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}])
def test_no_other_site_can_sign_a_browser_in_or_post_a_form(office, headers):
    """Login CSRF: another site that fetched the sign-in form's token (the same for everyone in an hour)
    cannot post it from a visitor's browser; nor can it post any other form."""
    url, _ = office
    _, _, page = fetch(url + "/admin/sign-in")
    token = re.search(r'name="token" value="([^"]+)"', page.decode()).group(1)
    body = urllib.parse.urlencode({"token": token, "username": "eddie", "password": PASSWORD}).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, head, _ = fetch(url + "/admin/sign-in", "POST", body, {**form, **headers})
    assert status == 403 and "relais_admin" not in (head.get("Set-Cookie") or "")
    browser = Browser(url)
    assert browser.sign_in("eddie") == 303
    cookie = {"Cookie": f"relais_admin={browser.cookie}"}
    body = urllib.parse.urlencode({"csrf": browser.csrf(), "kind": "service", "record": "awel_102", "field": "phone",
                                   "value": "02 534 37 43", "source_url": "https://www.awel.be/", "note": "x"}).encode()
    assert fetch(url + "/admin/edit", "POST", body, {**form, **cookie, **headers})[0] == 403
    same = {"Origin": url, "Sec-Fetch-Site": "same-origin"}
    status, _, _ = fetch(url + "/admin/sign-in", "POST", urllib.parse.urlencode(
        {"token": token, "username": "eddie", "password": PASSWORD}).encode(), {**form, **same})
    assert status == 303


def test_an_edit_is_checked_recorded_and_live_at_once_and_a_coordinator_reverts_it(office):
    url, folder = office
    editor, coordinator = Browser(url), Browser(url)
    assert editor.sign_in("eddie") == 303 and coordinator.sign_in("cora") == 303
    before = phone_of(url, "Télé-Accueil")
    edit = {"kind": "service", "record": "tele_accueil_107", "field": "phone"}
    for value, source, note, message in [
        ("0800 ABC", "https://tele-accueil.be/", "new number", "is not a Belgian phone number"),
        ("02 538 49 49", "", "new number", "web address"),
        ("02 538 49 49", "https://tele-accueil.be/", "", "Say why"),
    ]:
        status, page = editor.post("/admin/edit", **edit, value=value, source_url=source, note=note)
        assert status == 400 and message in page.replace("&#39;", "'")
    assert phone_of(url, "Télé-Accueil") == before
    status, _ = editor.post("/admin/edit", **edit, value="02 538 49 49", source_url="https://tele-accueil.be/",
                            note="the source now gives this number")
    assert status == 303 and phone_of(url, "Télé-Accueil") == "02 538 49 49"
    status, hsds = get_json(f"{url}/hsds/services?search=" + urllib.parse.quote("Télé-Accueil"))
    status, full = get_json(f"{url}/hsds/services/{hsds['contents'][0]['id']}")
    assert full["phones"][0]["number"] == "02 538 49 49"
    _, _, history = coordinator.request("/admin/history")
    assert "tele_accueil_107 phone" in history and before in history and "the source now gives" in history
    change = re.search(r'name="change" value="(\d+)"', history).group(1)
    assert editor.post("/admin/revert", change=change, note="mistake")[0] == 403
    assert coordinator.post("/admin/revert", change=change, note="the old number still works")[0] == 303
    assert phone_of(url, "Télé-Accueil") == before
    conn = sqlite3.connect(folder / "curation.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE changes SET new = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM changes")
    conn.rollback()
    rows = conn.execute("SELECT username, old, new, reverts FROM changes WHERE record = 'tele_accueil_107'").fetchall()
    conn.close()
    assert rows == [("eddie", before, "02 538 49 49", None), ("cora", "02 538 49 49", before, int(change))]


def test_a_location_moves_with_its_address_and_a_shelter_never_gets_one(office):
    """An edited address is placed as the build places one (its street in the municipality it names), live
    at once in the nearest-first search; an address the map cannot place, or any address for a shelter, is
    refused and nothing changes."""
    url, _ = office
    editor, coordinator = Browser(url), Browser(url)
    assert editor.sign_in("eddie") == 303 and coordinator.sign_in("cora") == 303

    def sos_viol_near(place: str) -> dict:
        status, body = get_json(f"{url}/api/directory/search?q=SOS%20Viol&type=service&place={place}")
        assert status == 200
        return body["results"][0]

    before = sos_viol_near("1050")
    edit = {"kind": "service", "record": "sos_viol", "field": "address", "source_url": "https://example.org/"}
    status, page = editor.post("/admin/edit", **edit, value="Nowhere Lane 5, Atlantis", note="moved")
    assert status == 400 and "cannot place this address" in page
    status, _ = editor.post("/admin/edit", **edit, value="Chaussée de Wavre 100, 1050 Ixelles", note="moved")
    assert status == 303
    moved = sos_viol_near("1050")
    assert moved["municipality"] == "Ixelles" and moved["distance_m"] < before["distance_m"] < 10 ** 6
    status, page = editor.post("/admin/edit", kind="service", record="cpvcf", field="address",
                               value="Rue Haute 1, 1000 Bruxelles", source_url="https://example.org/", note="x")
    assert status == 400 and "shelter" in page
    assert 'name="field" value="address"' in editor.request("/admin/service/sos_viol")[2]
    assert 'name="field" value="address"' not in editor.request("/admin/service/cpvcf")[2]
    _, _, history = coordinator.request("/admin/history")
    change = re.search(r'name="change" value="(\d+)"', history).group(1)  # the latest: the move
    assert coordinator.post("/admin/revert", change=change, note="back to the source's address")[0] == 303
    assert sos_viol_near("1050")["distance_m"] == before["distance_m"]


def test_a_pharmacy_found_by_its_street_can_be_marked_closed_and_leaves_the_search(office):
    url, _ = office
    editor = Browser(url)
    assert editor.sign_in("eddie") == 303
    _, _, found = editor.request("/admin/records?pharmacy=" + urllib.parse.quote("lenniksebaan 906"))
    assert '/admin/pharmacy/afmps_210102"' in found and "ACTIVE" in found

    def listed() -> bool:
        status, body = get_json(f"{url}/api/directory/search?type=pharmacy&q=Lenniksebaan&limit=100")
        return any(r["id"] == "afmps_210102" for r in body["results"])

    assert listed()
    edit = {"kind": "pharmacy", "record": "afmps_210102", "field": "status", "source_url": "https://example.org/"}
    status, page = editor.post("/admin/edit", **edit, value="gone", note="closed")
    assert status == 400 and "ACTIVE, TEMPORARILY_SUSPENDED, CLOSED" in page
    assert editor.post("/admin/edit", **edit, value="closed", note="closed for good, says the sign")[0] == 303
    assert not listed()
    _, _, record = editor.request("/admin/pharmacy/afmps_210102")
    assert "CLOSED" in record and "closed for good" in record
    assert editor.post("/admin/edit", **edit, value="ACTIVE", note="reopened (test)")[0] == 303 and listed()


def test_a_new_afmps_list_keeps_a_pharmacys_edit_and_a_changed_status_goes_to_the_queue(tmp_path):
    """Item 6 for the official pharmacy list: a re-import replays the curated status; when the list now says
    something new about it, the edit stays and the difference waits for a coordinator."""
    built = build(tmp_path / "relais.db")
    store = Curation(tmp_path / "curation.db", built)
    store.change("eddie", "pharmacy", "afmps_210102", "status", "CLOSED", "https://example.org/", "closed")
    rows = list(csv.DictReader((SEED / "pharmacies.csv").read_text(encoding="utf-8").splitlines()))
    newer = tmp_path / "pharmacies.csv"

    def write(status: str) -> None:
        for row in rows:
            if row["id"] == "afmps_210102":
                row["status"] = status
        with newer.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    write("ACTIVE")  # the list as it was: the edit is replayed, no conflict
    build(built, pharmacies=newer, curation_db=tmp_path / "curation.db")
    assert store.current("pharmacy", "afmps_210102", "status") == "CLOSED" and store.conflicts() == []
    write("TEMPORARILY_SUSPENDED")  # the list now says something else
    build(built, pharmacies=newer, curation_db=tmp_path / "curation.db")
    assert store.current("pharmacy", "afmps_210102", "status") == "CLOSED"
    [conflict] = store.conflicts()
    assert (conflict["record"], conflict["curated"], conflict["imported"]) == ("afmps_210102", "CLOSED",
                                                                      "TEMPORARILY_SUSPENDED")
    store.close()


def test_hours_are_parsed_into_slots_and_confirming_moves_the_check_date(office):
    url, folder = office
    editor = Browser(url)
    assert editor.sign_in("eddie") == 303
    status, page = editor.post("/admin/edit", kind="service", record="garance", field="hours",
                               value="mo-fr 9-17", source_url="https://www.garance.be/", note="hours")
    assert status == 400 and "HH:MM" in page
    status, _ = editor.post("/admin/edit", kind="service", record="garance", field="hours",
                            value="mo-th 09:00-17:00; fr 09:00-12:30", source_url="https://www.garance.be/",
                            note="hours on the contact page")
    assert status == 303
    live = sqlite3.connect(folder / "relais.db")
    assert live.execute("SELECT weekday, opens, closes FROM schedules WHERE service_id = 'garance' "
                        "ORDER BY weekday").fetchall() == [(0, 540, 1020), (1, 540, 1020), (2, 540, 1020),
                                                           (3, 540, 1020), (4, 540, 750)]

    def sos_viol_hours() -> dict:
        status, found = get_json(f"{url}/api/directory/search?q=SOS%20Viol&type=service")
        return found["results"][0]["hours"]

    before = sos_viol_hours()
    assert set(before) == set(languages.codes())
    assert editor.post("/admin/edit", kind="service", record="sos_viol", field="hours",
                       value="mo-th 09:00-17:00; fr 09:00-12:30", source_url="https://www.sosviol.be/",
                       note="hours on the contact page")[0] == 303
    hours = sos_viol_hours()  # what the bot says, in every language, written from the new hours
    assert hours["fr"] == "lundi–jeudi 9 h–17 h; vendredi 9 h–12 h 30"
    assert hours["nl"] == "maandag–donderdag 9:00–17:00; vrijdag 9:00–12:30"
    assert hours["ar"] == "من الاثنين إلى الخميس، من 9:00 إلى 17:00؛ الجمعة، من 9:00 إلى 12:30"
    coordinator = Browser(url)
    assert coordinator.sign_in("cora") == 303
    _, _, history = coordinator.request("/admin/history")
    assert history.count("written from the hours of change") == len(languages.codes())
    change = re.search(r'sos_viol hours.*?name="change" value="(\d+)"', history, re.S).group(1)
    assert coordinator.post("/admin/revert", change=change, note="wrong page")[0] == 303
    assert sos_viol_hours() == before  # the texts as they were, remarks included
    assert confidence_of(url, "GAMS") == "confirmed"
    live.execute("UPDATE services SET checked = '2024-01-15' WHERE id = 'gams'")
    live.commit()
    _, _, queue = editor.request("/admin")
    assert "/admin/service/gams" in queue and "overdue" in queue
    assert confidence_of(url, "GAMS") == "unconfirmed"  # overdue: the bot and the APIs say it is not confirmed
    status, _ = editor.post("/admin/confirm", kind="service", record="gams", source_url="https://gams.be/")
    assert status == 303
    checked = live.execute("SELECT checked FROM services WHERE id = 'gams'").fetchone()[0]
    assert checked > "2026-01-01" and confidence_of(url, "GAMS") == "confirmed"
    assert "/admin/service/gams" not in editor.request("/admin")[2]


def test_only_a_coordinator_manages_accounts_and_no_account_has_a_weak_password(office):
    url, _ = office
    editor, coordinator = Browser(url), Browser(url)
    assert editor.sign_in("eddie") == 303 and coordinator.sign_in("cora") == 303
    assert editor.request("/admin/accounts")[0] == 403
    status, page = coordinator.post("/admin/accounts", action="create", username="newbie", role="editor",
                                    password="short")
    assert status == 400 and "at least 12" in page
    assert coordinator.post("/admin/accounts", action="create", username="newbie", role="editor",
                            password=PASSWORD)[0] == 303
    assert Browser(url).sign_in("newbie") == 303


def test_every_phone_in_the_seed_passes_the_back_offices_check():
    with open(SEED / "services.csv", encoding="utf-8") as f:
        phones = [row["phone"] for row in csv.DictReader(f)]
    conn = sqlite3.connect(ROOT / "directory" / "relais.db")
    built = [row[0] for row in conn.execute("SELECT phone FROM services WHERE phone != ''")]
    assert len(built) > 20 and len(phones) >= len(built)
    for phone in built:
        assert check_phone(phone) == phone
    for bad in ("12", "02 53", "+33 1 23 45 67 89", "0800-ABC", "112; DROP TABLE"):
        with pytest.raises(Invalid):
            check_phone(bad)


def test_a_rebuild_keeps_the_edit_and_a_changed_seed_goes_to_the_conflict_queue(tmp_path):
    seed = tmp_path / "seed"
    shutil.copytree(SEED, seed)
    built = build(tmp_path / "relais.db", seed)
    store = Curation(tmp_path / "curation.db", built)
    original = store.current("service", "cpvcf", "phone")
    store.change("eddie", "service", "cpvcf", "phone", "02 123 45 67", "https://example.org/cpvcf", "new number")
    store.change("eddie", "service_text", "cpvcf/what/en", "text", "A centre that helps.", "https://example.org/",
                 "clearer")
    build(built, seed, curation_db=tmp_path / "curation.db")
    assert store.current("service", "cpvcf", "phone") == "02 123 45 67"
    assert store.current("service_text", "cpvcf/what/en", "text") == "A centre that helps."
    assert store.conflicts() == []
    rows = (seed / "services.csv").read_text(encoding="utf-8")
    (seed / "services.csv").write_text(rows.replace(original, "02 999 99 99", 1), encoding="utf-8")
    build(built, seed, curation_db=tmp_path / "curation.db")
    assert store.current("service", "cpvcf", "phone") == "02 123 45 67"  # the import did not clobber the edit
    [conflict] = store.conflicts()
    assert (conflict["record"], conflict["curated"], conflict["imported"]) == ("cpvcf", "02 123 45 67",
                                                                               "02 999 99 99")
    store.resolve("cora", conflict["id"], take_import=True, source_url="https://example.org/cpvcf", note="moved")
    assert store.current("service", "cpvcf", "phone") == "02 999 99 99" and store.conflicts() == []
    build(built, seed, curation_db=tmp_path / "curation.db")
    assert store.current("service", "cpvcf", "phone") == "02 999 99 99" and store.conflicts() == []
    store.close()


def test_an_edit_waits_for_a_rebuild_and_lands_in_the_new_file(tmp_path):
    """A rebuild holds the lock from its replay of the edits until its new file replaces the live one; an
    edit made meanwhile waits, then writes the new file (without the lock it would reach the old file, which
    the swap throws away)."""
    built = build(tmp_path / "relais.db")
    store = Curation(tmp_path / "curation.db", built)
    store.change("eddie", "service", "cpvcf", "phone_note", "before", "https://example.org/", "first")
    inode = built.stat().st_ino
    with ThreadPoolExecutor(2) as pool:
        with rebuild_lock(tmp_path / "curation.db"):  # as a rebuild in another process holds it
            rebuilt = pool.submit(build, built, curation_db=tmp_path / "curation.db")
            edited = pool.submit(store.change, "eddie", "service", "cpvcf", "phone_note", "during",
                                 "https://example.org/", "while the directory is rebuilt")
            time.sleep(2)
            assert not edited.done() and built.stat().st_ino == inode  # an edit takes ~10 ms, a build ~2 s
        rebuilt.result(60)
        edited.result(60)
    assert store.current("service", "cpvcf", "phone_note") == "during"
    build(built, curation_db=tmp_path / "curation.db")
    assert store.current("service", "cpvcf", "phone_note") == "during"
    store.close()


def test_an_edit_refused_after_a_long_rebuild_says_so(tmp_path):
    """Another thread (or process) waits for the lock, then says why; the thread holding it may take it again."""
    def take() -> None:
        with rebuild_lock(tmp_path / "curation.db", timeout=0.2):
            pass

    with rebuild_lock(tmp_path / "curation.db"):
        take()  # re-entrant in the thread that holds it
        with ThreadPoolExecutor(1) as pool, pytest.raises(CurationError, match="being rebuilt"):
            pool.submit(take).result(10)


def test_accounts_come_from_the_command_line_with_a_password_of_their_own(tmp_path):
    env = {"RELAIS_CURATION_DB": str(tmp_path / "curation.db"), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}

    def admin(*args: str, password: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "directory", "admin", *args], cwd=ROOT, env=env, text=True,
                              input=password + "\n", capture_output=True, timeout=60)

    assert admin("create-user", "ana", "--role", "coordinator", "--password-stdin", password="short").returncode == 1
    assert admin("create-user", "ana", "--role", "coordinator", "--password-stdin").returncode == 1  # empty
    done = admin("create-user", "ana", "--role", "coordinator", "--password-stdin", password=PASSWORD)
    assert done.returncode == 0, done.stderr
    assert "ana\tcoordinator" in admin("list").stdout
    stored = sqlite3.connect(Path(tmp_path) / "curation.db").execute("SELECT password_hash FROM accounts").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_export_seed_writes_the_curation_back_and_a_rebuild_then_needs_no_replay(tmp_path):
    from directory import proposals
    from directory.export import export_seed

    seed = tmp_path / "seed"
    shutil.copytree(SEED, seed)
    built = build(tmp_path / "relais.db", seed)
    store = Curation(tmp_path / "curation.db", built)
    store.change("eddie", "service", "garance", "phone", "02 000 00 01", "https://example.org/", "test value")
    store.change("eddie", "service", "garance", "hours", "mo-fr 09:00-17:00", "https://example.org/", "test")
    store.change("eddie", "service_text", "cpvcf/what/nl", "text", "Een testtekst.", "https://example.org/", "t")
    store.change("eddie", "training", "garance_pro", "url", "https://example.org/courses", "https://example.org/", "t")
    store.change("eddie", "training_text", "garance_pro/format/en", "text", "online; 3 March; free",
                 "https://example.org/", "dates")
    context_id = sqlite3.connect(built).execute("SELECT id FROM context WHERE lang = 'en' LIMIT 1").fetchone()[0]
    store.change("eddie", "context", f"{context_id}/en", "text", "A test context.", "https://example.org/", "t")
    fields = {"title": "Test training", "organiser": "Example", "audiences": ["professionals"],
              "topics": ["domestic"], "languages": ["en"], "format": "online", "dates": "on request",
              "cost": "free", "contact": "a@example.org", "url": "https://example.org/t"}
    training_id = proposals.approve(store, "cora", proposals.submit(store, fields, "en"))
    before = {path.name: path.read_text(encoding="utf-8") for path in seed.iterdir() if path.is_file()}
    written = export_seed(built, tmp_path / "curation.db", seed)
    assert written == ["context.yml", "schedules.yml", "services.csv", "texts.yml", "trainings.yml"]
    after = {path.name: path.read_text(encoding="utf-8") for path in seed.iterdir() if path.is_file()}
    changed_csv = [line for line in after["services.csv"].splitlines() if line not in before["services.csv"]]
    assert len(changed_csv) == 1 and changed_csv[0].startswith("garance,") and "02 000 00 01" in changed_csv[0]
    assert before["texts.yml"].count("\n#") == after["texts.yml"].count("\n#")  # comments kept
    rebuilt = build(tmp_path / "again.db", seed)  # from the exported seed alone, no curation store
    fresh = Curation(tmp_path / "none.db", rebuilt)
    assert fresh.current("service", "garance", "phone") == "02 000 00 01"
    assert fresh.current("service", "garance", "hours") == "mo-fr 09:00-17:00"
    assert fresh.current("service_text", "cpvcf/what/nl", "text") == "Een testtekst."
    assert fresh.current("training", "garance_pro", "url") == "https://example.org/courses"
    assert fresh.current("training_text", "garance_pro/format/en", "text") == "online; 3 March; free"
    assert fresh.current("context", f"{context_id}/en", "text") == "A test context."
    assert fresh.current("training", training_id, "confidence") == "partly"
    build(built, seed, curation_db=tmp_path / "curation.db")
    assert store.conflicts() == [] and export_seed(built, tmp_path / "curation.db", seed) == []
    store.close()
    fresh.close()


def test_parallel_guesses_do_not_get_past_the_lock_out(office):
    url, folder = office
    store = Curation(folder / "curation.db")
    store.create_user("racer", PASSWORD, "editor")
    store.close()
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: Browser(url).sign_in("racer", "wrong guess number x"), range(12)))
    assert set(statuses) == {401}
    assert Browser(url).sign_in("racer") == 401  # locked now, even with the right password
    conn = sqlite3.connect(folder / "curation.db")
    assert conn.execute("SELECT locked_until > 0 FROM accounts WHERE username = 'racer'").fetchone() == (1,)
    conn.close()


@pytest.mark.parametrize("token", ["é", "²", "²³.x", "9" * 40, "1.\u0000"])
def test_odd_tokens_and_bodies_are_refused_without_an_error(office, token):
    url, _ = office
    browser = Browser(url)
    assert browser.sign_in("eddie") == 303
    status, _, _ = browser.request("/admin/edit", {"csrf": token, "kind": "service"})
    assert status == 403
    status, _, page = Browser(url).request("/admin/sign-in", {"token": token, "username": "eddie",
                                                               "password": PASSWORD})
    assert status == 403
    status, _, _ = fetch(url + "/admin/sign-in", "POST", b"token=\xff\xfe&username=\xc3",
                         {"Content-Type": "application/x-www-form-urlencoded; charset=klingon"})
    assert status == 400
    for field, value in (("change", "9" * 30), ("change", "²"), ("conflict", "-1")):
        coordinator = Browser(url)
        assert coordinator.sign_in("cora") == 303
        path = "/admin/revert" if field == "change" else "/admin/conflicts"
        assert coordinator.post(path, **{field: value, "note": "x", "source_url": "https://example.org/"})[0] == 404


def test_a_check_date_moves_only_by_confirming_and_never_into_the_future(office):
    url, folder = office
    editor = Browser(url)
    assert editor.sign_in("eddie") == 303
    status, _ = editor.post("/admin/edit", kind="service", record="gams", field="checked", value="2099-01-01",
                            source_url="https://gams.be/", note="hide it from the queue")
    assert status == 404
    store = Curation(folder / "curation.db", folder / "relais.db")
    with pytest.raises(Invalid, match="future"):
        store.change("eddie", "service", "gams", "checked", "2099-01-01", "https://gams.be/", "no")
    store.close()


def test_after_a_rebuild_the_running_server_reads_the_new_file_and_edits_go_on(office):
    url, folder = office
    editor = Browser(url)
    assert editor.sign_in("eddie") == 303
    assert editor.post("/admin/edit", kind="service", record="maison_rue_verte", field="phone",
                       value="02 000 00 02", source_url="https://example.org/", note="test value")[0] == 303
    build(folder / "relais.db", SEED, curation_db=folder / "curation.db")  # renames a new file into place
    assert phone_of(url, "Maison Rue Verte") == "02 000 00 02"
    assert editor.post("/admin/edit", kind="service", record="maison_rue_verte", field="phone",
                       value="02 000 00 03", source_url="https://example.org/", note="test value")[0] == 303
    assert phone_of(url, "Maison Rue Verte") == "02 000 00 03"


def test_the_insights_dashboard_plots_suppressed_counts_and_its_downloads_match(office):
    """A coordinator sees the last complete week's plots; the CSV holds what is shown; the open data holds
    complete weeks; the running week is shown nowhere."""
    from datetime import timedelta

    from directory.insights import Counts, Turn, now, week_of

    url, folder = office
    counts = Counts(folder / "curation.db")
    before, last_week, this_week = now() - timedelta(days=14), now() - timedelta(days=7), now()
    for at in (before, last_week, this_week):
        for area, times in (("21004", 25), ("21015", 14), ("21017", 3)):  # Brussels, Schaerbeek, Watermael-Boitsfort
            for i in range(times):
                counts.add(Turn(situation="danger" if i % 2 else "find_nearby", language="fr", area=area), at)
    counts.close()
    browser = Browser(url)
    assert browser.sign_in("cora") == 303
    status, head, page = browser.request("/admin/insights")
    assert status == 200 and head["Cache-Control"] == "no-store"
    assert page.count("<svg") >= 7 and "Watermael-Boitsfort" in page and f"week {week_of(last_week)}" in page
    assert re.search(r"Watermael-Boitsfort[^<]*</td><td>suppressed</td>", page)
    assert re.search(r"Schaerbeek[^<]*</td><td>14</td>", page)
    status, head, text = browser.request(f"/admin/insights.csv?week={week_of(last_week)}")
    assert status == 200 and head["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(text.splitlines()))
    area = {r["category"]: r["count"] for r in rows if r["dimension"] == "area" and r["week"] == week_of(last_week)}
    assert area["21017"] == "suppressed" and area["21015"] == "14" and area["21004"] == "25"
    assert area["21001"] == "suppressed" and area["total"] == "42"  # a municipality nobody searched is listed too
    assert browser.request(f"/admin/insights?week={week_of(this_week)}")[0] == 404
    assert browser.request(f"/admin/insights.csv?week={week_of(this_week)}")[0] == 404
    status, _, data = browser.request("/admin/insights/open-data.json")
    assert status == 200
    published = json.loads(data)
    assert published["threshold"] == 10 and "suppressed" in published["suppression"]
    assert published["dimensions"]["area"]["weeks"] == [week_of(before), week_of(last_week)]
    cells = {r["category"]: r["count"] for r in published["dimensions"]["area"]["rows"]}
    assert cells["21017"] is None and cells["21015"] == 14
    status, _, text = browser.request("/admin/insights/open-data.csv")
    assert status == 200 and text.startswith("week,dimension,category,label,count") and week_of(this_week) not in text
    editor = Browser(url)
    assert editor.sign_in("eddie") == 303
    assert editor.request("/admin/insights")[0] == 200
    assert browser.request("/admin/insights?week=2026-49")[0] == 400
