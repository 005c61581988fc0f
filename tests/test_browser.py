"""The chat page and the staff page in a real browser: Debian's Chromium driven
by Playwright (no browser download), against the real stack.

Screenshots of both pages at 375 px and 1280 px go to docs/screenshots/,
which the README shows.
"""

from __future__ import annotations

import csv
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT, web_alone

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "docs" / "screenshots"
ARTIFACTS = ROOT / "test-artifacts"  # git ignores it
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps"]
XSS = '<img src=x onerror="document.title=\'pwned\'">'


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs the Debian package chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-BE")
    pg = context.new_page()
    pg.requests = []
    pg.errors = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


def bot_messages(pg) -> list[str]:
    return pg.locator(".msg.bot").all_inner_texts()


def send(pg, text: str) -> str:
    count = pg.locator(".msg.bot, .msg.notice").count()
    pg.fill("#message", text)
    pg.keyboard.press("Enter")
    pg.locator(".msg.bot, .msg.notice").nth(count).wait_for(timeout=20000)
    return pg.locator(".msg.bot, .msg.notice").nth(count).inner_text()


@pytest.mark.parametrize("lang, talk, ask, place, header", [
    ("fr", "je veux parler à quelqu'un", "où est la pharmacie la plus proche ?", "Schaerbeek", "Près de Schaerbeek"),
    ("nl", "ik wil met iemand praten", "waar is de dichtstbijzijnde apotheek?", "Schaarbeek", "Dicht bij Schaerbeek"),
    ("en", "I need to talk to someone", "where is the nearest pharmacy?", "Schaerbeek", "Near Schaerbeek"),
])
def test_a_full_chat_in_each_language(stack, page, lang, talk, ask, place, header):
    page.goto(f"{stack.web}/")
    page.locator(".msg.bot").first.wait_for()
    page.select_option("#lang", lang)
    assert page.get_attribute("html", "lang") == lang
    helpline = send(page, talk)
    assert ("1712" if lang == "nl" else "0800 30 030") in helpline
    phone_link = page.locator(".msg.bot a[href^='tel:']").first
    assert phone_link.get_attribute("href").startswith("tel:")
    send(page, ask)
    result = send(page, place)
    assert result.startswith(header) and "1. " in result
    # the language buttons the bot offers switch the conversation
    page.locator(".choices button", has_text="English").first.click()
    page.locator(".msg.bot", has_text="continue in English").wait_for()
    assert page.get_attribute("html", "lang") == "en"
    assert not page.errors


# Issue 13: each new language from the page's menu: danger first, someone to talk to, the pharmacies of a
# postcode, one situation; Arabic lays the page out right to left with the numbers still left to right.
NEW_LANGUAGES = [
    ("ar", "يضربني الآن ساعدوني", "أريد أن أتحدث مع شخص", "صيدلية قرب 1030", "تعرضت للاغتصاب"),
    ("tr", "şu an beni dövüyor yardım edin", "biriyle konuşmak istiyorum", "1030 yakınında eczane", "tecavüze uğradım"),
    ("es", "me está pegando ahora ayuda", "quiero hablar con alguien", "farmacia cerca de 1030", "me violaron"),
    ("pt", "ele está a bater-me agora socorro", "quero falar com alguém", "farmácia perto de 1030", "fui violada"),
    ("pl", "on mnie teraz bije pomocy", "chcę z kimś porozmawiać", "apteka blisko 1030", "zostałam zgwałcona"),
    ("ro", "mă bate acum ajutor", "vreau să vorbesc cu cineva", "farmacie lângă 1030", "am fost violată"),
]


@pytest.mark.parametrize("lang, danger, talk, nearby, situation", NEW_LANGUAGES)
def test_a_new_language_from_the_menu_to_danger_talk_nearby_and_the_cpvs(stack, browser, lang, danger, talk, nearby,
                                                                          situation):
    from directory import languages

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-BE")
    page = context.new_page()
    page.goto(f"{stack.web}/")
    page.locator(".msg.bot").first.wait_for()
    page.select_option("#lang", lang)
    assert page.get_attribute("html", "lang") == lang
    assert page.get_attribute("html", "dir") == languages.get(lang).direction
    first = send(page, danger)
    assert first.index("112") < first.index("101"), first
    assert "0800 30 030" in send(page, talk)
    pharmacies = send(page, nearby)
    assert "1. " in pharmacies and "Schaerbeek" in pharmacies, pharmacies
    assert "02 535 45 42" in send(page, situation)  # the CPVS after sexual violence
    call = page.locator(".msg.bot a.call").first
    assert call.evaluate("a => getComputedStyle(a).direction") == "ltr"  # "02 535 45 42" in its own order
    assert page.locator("#quick-exit").is_visible()
    if lang == "ar":
        page.screenshot(path=str(SHOTS / "chat-ar-390.png"))
    context.close()


ARABIC_EXCHANGES = ["أريد أن أتحدث مع شخص", "هل المكالمة مجانية؟", "zawji kaydrabni kol nhar", "صيدلية قرب 1030",
                    "المزيد", "شكرا", "تعرضت للاغتصاب البارح", "واش خاصني نمشي للبوليس؟", "ana f Molenbeek",
                    "bghit nkhrej mn dar lyoum", "فين نبات الليلة؟", "بنتي عندها 14 عام وكيضربها باها",
                    "wach kayn chi jam3iya katsa3ed", "كيف نحمي راسي", "ممكن تشرح أكثر", "ok", "Schaerbeek",
                    "يضربني الآن ساعدوني"]


def test_arabic_on_a_phone_the_language_button_then_twenty_exchanges_right_to_left(stack, browser):
    """Issue 13: the greeting's Arabic button says which lines speak Arabic and how to get an interpreter; then
    twenty exchanges at 390 px: the page stays right to left, nothing overflows sideways, the exit stays on
    screen, the numbers stay left to right, and the menu is named in Arabic for a screen reader."""
    from actions.texts import t

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ar-MA")
    page = context.new_page()
    errors: list = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{stack.web}/")
    page.locator(".msg.bot").first.wait_for()
    count = page.locator(".msg.bot").count()
    page.locator(".choices button", has_text="العربية").first.click()
    page.locator(".msg.bot").nth(count + 1).wait_for(timeout=20000)
    lines = page.locator(".msg.bot").nth(count + 1).inner_text()
    assert t("utter_lines_none_yours", "ar") in lines and "0800 30 030" in lines and "02 535 45 42" in lines
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("#lang", "aria-label") == "اللغة"
    for text in ARABIC_EXCHANGES:
        assert send(page, text).strip()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box = page.locator("#quick-exit").bounding_box()
        assert box and 0 <= box["x"] and box["x"] + box["width"] <= 390 and 0 <= box["y"] < 844
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.locator(".msg.bot a.call").first.evaluate("a => getComputedStyle(a).direction") == "ltr"
    last = page.locator(".msg.bot").last.inner_text()
    assert last.index("112") < last.index("101")  # the last message was danger: 112 first
    page.screenshot(path=str(SHOTS / "chat-ar-20-390.png"))
    assert not errors
    context.close()


def test_quick_exit_button_replaces_the_page_and_back_does_not_return(stack, page):
    page.goto(f"{stack.web}/")
    page.locator(".msg.bot").first.wait_for()
    send(page, "bonjour")
    page.click("#quick-exit")
    page.wait_for_timeout(1000)
    assert not page.url.startswith(stack.web)
    page.go_back()
    page.wait_for_timeout(500)
    assert not page.url.startswith(stack.web)


def test_quick_exit_by_keyboard_is_shift_alone_three_times(stack, page):
    page.goto(f"{stack.web}/")
    page.locator(".msg.bot").first.wait_for()
    page.keyboard.press("Shift")
    assert "2" in page.inner_text("#status")  # a screen reader hears how many presses are left
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.wait_for_timeout(1000)
    assert not page.url.startswith(stack.web)


def _capitals_with_shift(pg, word: str) -> None:
    pg.keyboard.down("Shift")
    for letter in word:
        pg.keyboard.press(letter)
    pg.keyboard.up("Shift")


@pytest.mark.parametrize("typing", [
    lambda pg: pg.keyboard.press("Escape"),
    lambda pg: [_capitals_with_shift(pg, "CPVS") for _ in range(3)],
    lambda pg: [pg.keyboard.press("Shift+Tab") for _ in range(3)],
    lambda pg: [pg.keyboard.press(k) for k in ("Shift", "Shift", "a", "Shift")],
], ids=["escape", "CPVS typed three times", "shift-tab three times", "shift shift a shift"])
def test_typing_and_navigating_never_exit(stack, page, typing):
    page.goto(f"{stack.web}/")
    page.locator(".msg.bot").first.wait_for()
    page.focus("#message")
    typing(page)
    page.wait_for_timeout(500)
    assert page.url.startswith(stack.web)
    assert page.locator(".msg.bot").count() >= 1  # the conversation is still there


@pytest.mark.parametrize("size, scale", [((390, 844), 1), ((320, 640), 1), ((195, 422), 2), ((844, 390), 1)],
                         ids=["phone 390", "phone 320", "200 % zoom", "landscape"])
def test_the_exit_and_the_numbers_stay_on_screen_after_twenty_exchanges(stack, browser, size, scale):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale,
                                  is_mobile=True, has_touch=True, locale="fr-BE")
    pg = context.new_page()
    pg.goto(f"{stack.web}/")
    pg.locator(".msg.bot").first.wait_for()
    for i in range(20):
        send(pg, ("bonjour", "je veux parler à quelqu'un", "pharmacie à Schaerbeek", "merci")[i % 4])
    for selector in ("#quick-exit", ".emergency a[href='tel:112']", ".emergency a[href='tel:101']", "#message"):
        box = pg.locator(selector).bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= height and box["x"] + box["width"] <= width, \
            (selector, box)
        on_top = pg.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('a, button, textarea')?.id "
                             "|| document.elementFromPoint(x, y).closest('a')?.getAttribute('href')",
                             [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
        assert on_top in ("quick-exit", "tel:112", "tel:101", "message"), (selector, on_top)
    assert pg.evaluate("() => document.documentElement.scrollWidth") <= width
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"chat-20-exchanges-{width}x{height}.png"))
    pg.tap("#quick-exit")  # one tap
    pg.wait_for_timeout(1000)
    assert not pg.url.startswith(stack.web)
    context.close()


def test_a_screen_reader_hears_who_speaks_and_reaches_the_message_box_second(stack, page):
    page.goto(f"{stack.web}/")
    page.locator(".msg.bot").first.wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "quick-exit"  # the first stop
    for text in ("bonjour", "je veux parler à quelqu'un", "pharmacie à Schaerbeek", "merci"):
        send(page, text)
    turns = page.locator("#log .turn")
    assert turns.first.locator(".sr-only").inner_text().startswith("Relais")
    assert page.locator("#log .turn.me .sr-only").first.inner_text().startswith("Vous")
    page.focus("#quick-exit")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "message"
    for link in page.locator("a[href^='tel:']").all():
        box = link.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, (link.get_attribute("href"), box)
        assert link.get_attribute("aria-label").startswith("Appeler le ")


def test_nothing_is_stored_and_no_request_leaves_the_machine(stack, page):
    page.goto(f"{stack.web}/")
    page.locator(".msg.bot").first.wait_for()
    send(page, "pharmacie à Ixelles")
    assert page.evaluate("() => localStorage.length") == 0
    assert page.evaluate("() => sessionStorage.length") == 0
    assert page.evaluate("() => document.cookie") == ""
    assert page.context.cookies() == []
    assert page.requests and all(u.startswith(stack.web) for u in page.requests), page.requests
    page.reload()
    page.locator(".msg.bot").first.wait_for()
    assert "Ixelles" not in page.inner_text("#log")  # a reload starts afresh


def test_messages_are_text_never_html(stack, page):
    page.goto(f"{stack.web}/")
    page.locator(".msg.bot").first.wait_for()
    send(page, XSS)
    assert page.locator(".msg.me").last.inner_text() == XSS
    assert page.locator("#log img").count() == 0
    assert page.title() != "pwned"


def test_a_web_address_that_starts_with_a_phone_number_stays_one_web_link(stack, page):
    page.goto(f"{stack.web}/")
    page.locator(".msg.bot").first.wait_for()
    send(page, "j'ai 15 ans")
    send(page, "je voudrais parler à quelqu'un")
    last = page.locator(".msg.bot").last
    assert last.locator("a[href='https://103ecoute.be']").inner_text() == "103ecoute.be"
    assert last.locator("a[href='tel:103']").count() == 1  # the number itself, once


def test_keyboard_only_chat(stack, page):
    page.goto(f"{stack.web}/")
    page.locator(".msg.bot").first.wait_for()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "message":
            break
    assert page.evaluate("() => document.activeElement.id") == "message"
    page.keyboard.type("je veux parler à quelqu'un")
    count = page.locator(".msg.bot").count()
    page.keyboard.press("Enter")
    page.locator(".msg.bot").nth(count).wait_for()
    assert "0800 30 030" in page.locator(".msg.bot").nth(count).inner_text()


def test_the_page_still_shows_the_numbers_when_the_bot_is_unreachable(browser):
    """The web server alone, Rasa down: the page shows 112/101 and the helplines."""
    with web_alone() as url:
        context = browser.new_context(locale="fr-BE")
        pg = context.new_page()
        pg.goto(url)
        notice = pg.locator(".msg.notice").nth(1)
        notice.wait_for(timeout=10000)
        text = pg.inner_text("#log")
        assert "112" in text and "101" in text and "0800 30 030" in text
        context.close()


def test_past_the_rate_limit_the_page_says_wait_and_gives_112(browser):
    """One message a minute allowed: the next one is refused with 429, and the page says so with 112/101."""
    with web_alone(RELAIS_RATE_CHAT="1/1") as url:
        context = browser.new_context(locale="en-GB")
        pg = context.new_page()
        pg.goto(url)
        pg.locator(".msg.notice").first.wait_for(timeout=10000)  # the greeting used the one allowed message
        pg.fill("#message", "hello")
        pg.keyboard.press("Enter")
        notice = pg.locator(".msg.notice", has_text="Too many messages")
        notice.wait_for(timeout=10000)
        assert "112" in notice.inner_text() and "101" in notice.inner_text()
        context.close()


@pytest.mark.parametrize("failure", ["400 json", "500 html", "aborted"])
def test_any_failed_message_shows_the_emergency_numbers(browser, failure):
    """Whatever goes wrong with a message (refused, server error, network cut), the page gives 112/101."""
    with web_alone() as url:
        context = browser.new_context(locale="fr-BE")
        pg = context.new_page()
        pg.goto(url)
        pg.locator(".msg.notice").first.wait_for(timeout=10000)

        def fail(route):
            if failure == "aborted":
                route.abort("connectionreset")
            elif failure == "500 html":
                route.fulfill(status=500, content_type="text/html", body="<h1>Bad gateway</h1>")
            else:
                route.fulfill(status=400, content_type="application/json",
                              body='{"error": {"code": "invalid_json", "message": "x"}}')

        pg.route("**/api/chat", fail)
        count = pg.locator(".msg.notice").count()
        pg.fill("#message", "il me frappe")
        pg.keyboard.press("Enter")
        notice = pg.locator(".msg.notice").nth(count)
        notice.wait_for(timeout=10000)
        assert "112" in notice.inner_text() and "101" in notice.inner_text() and "0800 30 030" in notice.inner_text()
        context.close()


def test_staff_page_finds_gams_and_the_eva_cell_of_schaerbeek_by_keyboard(stack, page):
    page.goto(f"{stack.web}/staff")
    page.locator("#q:focus").wait_for()  # the search box takes the focus by itself
    page.keyboard.type("GAMS")
    page.locator("#results tbody tr", has_text="GAMS Belgique").first.wait_for()
    assert "02 219 43 40" in page.inner_text("#results tbody tr >> nth=0")
    page.fill("#q", "")
    page.keyboard.type("EVA Schaerbeek")
    page.locator("#results tbody tr", has_text="Bruxelles-Nord").first.wait_for()
    assert "0471 94 38 72" in page.inner_text("#results tbody tr >> nth=0")
    assert all(u.startswith(stack.web) for u in page.requests)


def test_staff_page_shows_a_hostile_directory_name_as_text(browser, tmp_path):
    from directory.build import SEED, build

    seed = tmp_path / "seed"
    shutil.copytree(SEED, seed)
    rows = list(csv.DictReader((seed / "services.csv").open(encoding="utf-8")))
    next(r for r in rows if r["id"] == "gams")["name_fr"] = "GAMS " + XSS
    with (seed / "services.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    db = build(tmp_path / "x.db", seed)
    with web_alone(RELAIS_DB=str(db)) as url:
        context = browser.new_context()
        pg = context.new_page()
        pg.goto(f"{url}/staff")
        pg.locator("#q:focus").wait_for()
        pg.keyboard.type("GAMS")
        pg.locator("#results tbody tr", has_text="onerror").first.wait_for()
        assert XSS in pg.inner_text("#results tbody")
        assert pg.locator("#results img").count() == 0 and pg.title() != "pwned"
        context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_screenshots_of_both_pages(stack, browser, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-BE")
    pg = context.new_page()
    pg.goto(f"{stack.web}/")
    pg.locator(".msg.bot").first.wait_for()
    send(pg, "où est la pharmacie la plus proche ?")
    send(pg, "Schaerbeek")
    pg.screenshot(path=str(SHOTS / f"chat-{width}.png"), full_page=True)
    pg.goto(f"{stack.web}/staff")
    pg.locator("#q:focus").wait_for()
    pg.keyboard.type("EVA")
    pg.locator("#results tbody tr").first.wait_for()
    pg.screenshot(path=str(SHOTS / f"staff-{width}.png"), full_page=True)
    context.close()
    assert (SHOTS / f"chat-{width}.png").stat().st_size > 10_000


def test_use_my_location_sends_coordinates_with_one_message(stack, browser):
    context = browser.new_context(locale="fr-BE", permissions=["geolocation"],
                                  geolocation={"latitude": 50.8466, "longitude": 4.3528})
    pg = context.new_page()
    bodies = []
    pg.on("request", lambda r: bodies.append(r.post_data or "") if r.url.endswith("/api/chat") else None)
    pg.goto(f"{stack.web}/")
    pg.locator(".msg.bot").first.wait_for()
    pg.click("#locate")
    pg.locator("#locate[aria-pressed=true]").wait_for()
    assert "Près de votre position" in send(pg, "pharmacie")
    send(pg, "merci")
    assert '"location"' in bodies[-2] and '"location"' not in bodies[-1]  # one message only
    context.close()


def test_page_weight_and_narrow_screens(stack, browser):
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="fr-BE")
    pg = context.new_page()
    sizes = []
    pg.on("response", lambda r: sizes.append(len(r.body())) if r.request.method == "GET" else None)
    pg.goto(f"{stack.web}/")
    pg.locator(".msg.bot").first.wait_for()
    assert sum(sizes) < 60_000, sizes
    send(pg, "pharmacie à Schaerbeek")
    # 320 CSS pixels is also a 640 px window at 200 % zoom: nothing may overflow sideways
    assert pg.evaluate("() => document.documentElement.scrollWidth") <= 320
    pg.goto(f"{stack.web}/staff")
    assert pg.evaluate("() => document.documentElement.scrollWidth") <= 320
    context.close()


@pytest.mark.parametrize("message", ["il me crie dessus tout le temps, c'est normal ?",
                                     "j'ai été violée hier soir", "je dois partir de chez moi ce soir"])
def test_the_first_answer_to_a_disclosure_fits_one_phone_screen_and_asks_back(stack, browser, message):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="fr-BE")
    pg = context.new_page()
    pg.goto(f"{stack.web}/")
    pg.locator(".msg.bot").first.wait_for()
    answer = send(pg, message)
    assert answer.rstrip().endswith("?")
    visible = pg.locator("#scroll").bounding_box()
    bubble = pg.locator(".msg.bot").last.bounding_box()
    buttons = pg.locator(".choices").last.bounding_box()
    assert bubble["y"] >= visible["y"] and buttons["y"] + buttons["height"] <= visible["y"] + visible["height"]
    context.close()


def test_the_staff_page_scrolls_to_its_last_result_on_a_phone(stack, browser):
    context = browser.new_context(viewport={"width": 375, "height": 640}, locale="fr-BE")
    pg = context.new_page()
    pg.goto(f"{stack.web}/staff")
    pg.locator("#q:focus").wait_for()
    pg.keyboard.type("EVA")
    pg.locator("#results tbody tr").nth(4).wait_for()
    last = pg.locator("#results tbody tr").last
    last.scroll_into_view_if_needed()
    box = last.bounding_box()
    assert pg.evaluate("() => window.scrollY") > 0 and box["y"] < 640
    assert pg.locator("h1.brand").is_visible()
    context.close()


def test_staff_page_filters_alone_explains_an_empty_list_and_shows_sources(stack, page):
    page.goto(f"{stack.web}/staff")
    page.locator("#q:focus").wait_for()
    page.select_option("#type", "pharmacy")
    page.fill("#place", "1030")
    page.locator("#results tbody tr").first.wait_for()
    assert "1030" in page.locator("#results tbody tr").first.inner_text()
    assert page.locator("#csv").get_attribute("href").startswith("/api/directory/search.csv?")
    page.select_option("#type", "")
    page.fill("#place", "")
    page.fill("#q", "zzzqqq")
    page.locator("#status", has_text="Aucun résultat").wait_for()
    page.fill("#q", "GAMS")
    page.locator("#results tbody tr").first.wait_for()
    row = page.locator("#results tbody tr").first
    row.locator("summary").click()
    assert "Source" in row.inner_text() and "confirmed" in row.inner_text()
    assert row.locator("button.copy").count() == 1


def test_the_back_office_on_a_phone_sign_in_edit_a_number_and_see_it_in_the_history(browser, tmp_path):
    """An editor on a phone-size screen signs in, fixes a number with its source and a note, sees "Saved"
    and the change in the history; a wrong number is refused with a message saying why. No third-party
    request, no script error."""
    from directory.curation import Curation

    shutil.copy(ROOT / "directory" / "relais.db", tmp_path / "relais.db")
    store = Curation(tmp_path / "curation.db")
    store.create_user("eddie", "a long enough pass phrase", "editor")
    store.close()
    with web_alone(RELAIS_DB=str(tmp_path / "relais.db"), RELAIS_CURATION_DB=str(tmp_path / "curation.db")) as url:
        context = browser.new_context(viewport={"width": 375, "height": 740}, locale="fr-BE")
        pg = context.new_page()
        requests, errors = [], []
        pg.on("request", lambda r: requests.append(r.url))
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(url + "/admin/service/garance")
        assert pg.url.endswith("/admin/sign-in")
        pg.get_by_label("User name").fill("eddie")
        pg.get_by_label("Password").fill("a long enough pass phrase")
        pg.get_by_role("button", name="Sign in").click()
        assert pg.get_by_role("heading", name="Due for a check").is_visible()
        pg.goto(url + "/admin/service/garance")
        SHOTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(SHOTS / "admin-375.png"), full_page=False)
        form = pg.locator("form.field").filter(has=pg.locator("input[name=field][value=phone]"))
        form.get_by_label("phone number").fill("02 53")
        form.get_by_label("Source checked (web address)").fill("https://www.garance.be/contact")
        form.get_by_label("Why").fill("number on the contact page")
        form.get_by_role("button").click()
        assert "not a Belgian phone number" in pg.get_by_role("alert").inner_text()
        pg.go_back()
        form = pg.locator("form.field").filter(has=pg.locator("input[name=field][value=phone]"))
        form.get_by_label("phone number").fill("02 000 00 00")  # a test value, in a copy of the directory
        form.get_by_label("Source checked (web address)").fill("https://www.garance.be/contact")
        form.get_by_label("Why").fill("number on the contact page")
        form.get_by_role("button").click()
        assert pg.get_by_role("status").inner_text().startswith("Saved")
        pg.goto(url + "/admin/history")
        assert "02 000 00 00" in pg.locator("main").inner_text()
        assert pg.evaluate("document.documentElement.scrollWidth") <= 375
        context.close()
    assert not errors
    assert all(r.startswith(url) for r in requests), [r for r in requests if not r.startswith(url)]


@pytest.mark.parametrize("width, height", [(375, 740), (1280, 900)])
def test_the_insights_dashboard_draws_the_week_on_a_phone_and_a_desktop(browser, tmp_path, width, height):
    """A coordinator sees last week's plots and map, each with its figures; a suppressed figure reads so,
    never as a bar's length; nothing is fetched from another host, nothing wider than the screen."""
    from directory.curation import Curation
    from directory.insights import Counts, Turn, now

    shutil.copy(ROOT / "directory" / "relais.db", tmp_path / "relais.db")
    store = Curation(tmp_path / "curation.db")
    store.create_user("cora", "a long enough pass phrase", "coordinator")
    store.close()
    counts = Counts(tmp_path / "curation.db")
    mix = (("21004", "danger", "fr", 31), ("21015", "need_to_talk", "ar", 17), ("21009", "find_nearby", "nl", 12),
           ("21017", "online_violence", "en", 4))
    for area, situation, lang, times in mix:
        for _ in range(times):
            counts.add(Turn(situation=situation, language=lang, area=area), now() - timedelta(days=7))
    counts.close()
    with web_alone(RELAIS_DB=str(tmp_path / "relais.db"), RELAIS_CURATION_DB=str(tmp_path / "curation.db")) as url:
        context = browser.new_context(viewport={"width": width, "height": height})
        pg = context.new_page()
        requests, errors = [], []
        pg.on("request", lambda r: requests.append(r.url))
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(url + "/admin/insights")
        pg.get_by_label("User name").fill("cora")
        pg.get_by_label("Password").fill("a long enough pass phrase")
        pg.get_by_role("button", name="Sign in").click()
        pg.goto(url + "/admin/insights")
        assert pg.get_by_role("heading", name="What people ask Relais").is_visible()
        assert pg.locator("svg[aria-label^='Municipalities searched'] path").count() == 19
        situations = pg.locator("section.plot").filter(has=pg.get_by_role("heading", name="Situations, week"))
        situations.locator("summary").click()
        figures = situations.locator("details").inner_text()
        assert "danger\t31" in figures and "online violence\tsuppressed" in figures
        assert pg.evaluate("document.documentElement.scrollWidth") <= width
        SHOTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(SHOTS / f"insights-{width}.png"), full_page=True)
        context.close()
    assert not errors
    assert all(r.startswith(url) for r in requests), [r for r in requests if not r.startswith(url)]


def fill_training_form(pg, title: str, audience: str, contact: str) -> None:
    """The French training form, filled as an organiser would (one audience, online, on request)."""
    pg.get_by_label("Titre de la formation").fill(title)
    pg.get_by_label("Organisateur").fill("Asbl Exemple")
    pg.get_by_label(audience).check()
    pg.get_by_label("violences conjugales et intrafamiliales").check()
    pg.get_by_label("Français").check()
    pg.get_by_role("radio", name="en ligne").check()
    pg.get_by_label("Dates, ou « sur demande »").fill("sur demande")
    pg.get_by_label("Coût (ou « gratuit »)").fill("gratuit")
    pg.get_by_label("Contact professionnel (e-mail ou téléphone)").fill(contact)
    pg.get_by_label("Page web de la formation").fill("https://example.org/formation")


def test_the_training_form_on_a_phone_in_french_and_a_screen_readers_view(browser, tmp_path):
    """An organiser on a phone proposes a training: labelled fields, a clear message for a missing field
    (the field marked for assistive technology), thanks at the end; the honeypot is out of sight."""
    from directory.curation import Curation

    Curation(tmp_path / "curation.db").close()
    with web_alone(RELAIS_CURATION_DB=str(tmp_path / "curation.db")) as url:
        context = browser.new_context(viewport={"width": 375, "height": 740}, locale="fr-BE")
        pg = context.new_page()
        requests = []
        pg.on("request", lambda r: requests.append(r.url))
        pg.goto(url + "/trainings/propose?lang=fr")
        assert pg.get_by_role("heading", name="Proposer une formation").is_visible()
        box = pg.locator("input[name=website]").bounding_box()
        assert box is None or box["x"] + box["width"] <= 0  # off-screen, and hidden from assistive technology
        fill_training_form(pg, "Accueillir une victime", "professionnels", "pas un contact")
        pg.get_by_role("button", name="Envoyer la proposition").click()
        assert "Contact professionnel" in pg.get_by_role("alert").inner_text()
        assert pg.get_by_label("Contact professionnel (e-mail ou téléphone)").get_attribute("aria-invalid") == "true"
        assert pg.get_by_label("Titre de la formation").input_value() == "Accueillir une victime"
        SHOTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(SHOTS / "propose-375.png"), full_page=False)
        pg.get_by_label("Contact professionnel (e-mail ou téléphone)").fill("formations@example.org")
        pg.get_by_role("button", name="Envoyer la proposition").click()
        assert "Merci" in pg.get_by_role("status").inner_text()
        assert pg.evaluate("document.documentElement.scrollWidth") <= 375
        context.close()
    assert all(r.startswith(url) for r in requests)


def test_issue_15_done_a_coordinator_corrects_hours_and_approves_a_training_a_pharmacist_then_finds(browser,
                                                                                                  tmp_path):
    """On the real stack (web server, Rasa, action server) and in Chromium: a coordinator signs in and corrects
    a helpline's hours with a note; the bot gives the new hours in its next answer; a revert puts the old hours
    back; an organiser proposes a training on a phone, the coordinator publishes it, and a pharmacist finds it
    on the staff page and by asking the bot. Nothing is fetched from another host."""
    from directory.curation import Curation
    from tests.conftest import start_stack, stop_stack

    shutil.copy(ROOT / "directory" / "relais.db", tmp_path / "relais.db")
    store = Curation(tmp_path / "curation.db")
    store.create_user("cora", "a long enough pass phrase", "coordinator")
    store.close()
    stack = start_stack({"RELAIS_DB": str(tmp_path / "relais.db"), "RELAIS_CURATION_DB": str(tmp_path / "curation.db")})
    requests = []
    try:
        url = stack.web
        office = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-BE")
        chat = browser.new_context(viewport={"width": 375, "height": 740}, locale="fr-BE")
        for context in (office, chat):
            context.on("request", lambda r: requests.append(r.url))
        coordinator, person = office.new_page(), chat.new_page()

        def ask(text: str) -> str:
            person.goto(url + "/")  # a new conversation each time
            person.locator(".msg.bot").first.wait_for()  # the greeting
            return send(person, text)

        reader = Curation(tmp_path / "curation.db", tmp_path / "relais.db")
        words = reader.current("service_text", "evc_0800/hours/fr", "text")  # the seed's, with its remarks
        reader.close()
        before = ask("je dois parler à quelqu'un")
        assert "0800 30 030" in before and words in before and "lundi–vendredi 9 h–18 h" not in before
        coordinator.goto(url + "/admin")
        coordinator.get_by_label("User name").fill("cora")
        coordinator.get_by_label("Password").fill("a long enough pass phrase")
        coordinator.get_by_role("button", name="Sign in").click()
        coordinator.goto(url + "/admin/service/evc_0800")
        form = coordinator.locator("form.field").filter(has=coordinator.locator("input[name=field][value=hours]"))
        form.get_by_label("opening hours").fill("mo-fr 09:00-18:00")
        form.get_by_label("Source checked (web address)").fill("https://example.org/hours")  # a copy's test value
        form.get_by_label("Why").fill("the line's page gives new hours")
        form.get_by_role("button").click()
        assert coordinator.get_by_role("status").inner_text().startswith("Saved")
        after = ask("je dois parler à quelqu'un")
        assert "0800 30 030" in after and "lundi–vendredi 9 h–18 h" in after

        coordinator.goto(url + "/admin/history")
        hours = coordinator.locator("ol.changes > li", has_text="service evc_0800 hours")
        hours.get_by_label("Why revert").fill("wrong page")
        hours.get_by_role("button").click()
        assert words in ask("je dois parler à quelqu'un")  # the hours and their words as they were

        organiser = chat.new_page()
        organiser.goto(url + "/trainings/propose?lang=fr")
        fill_training_form(organiser, "Écouter au comptoir de la pharmacie", "pharmaciens", "formations@example.org")
        organiser.get_by_role("button", name="Envoyer la proposition").click()
        assert "Merci" in organiser.get_by_role("status").inner_text()
        assert "Écouter au comptoir" not in ask("formation pour les pharmaciens")  # nothing public before
        coordinator.goto(url + "/admin/proposals")
        coordinator.get_by_role("button", name="Publish").first.click()
        staff = office.new_page()
        staff.goto(url + "/staff")
        staff.fill("#q", "formation pharmaciens")
        staff.locator("#results tbody tr", has_text="Écouter au comptoir").wait_for(timeout=10000)
        answer = ask("formation pour les pharmaciens")
        assert "Écouter au comptoir de la pharmacie" in answer and "https://example.org/formation" in answer
        office.close()
        chat.close()
    finally:
        stop_stack(stack)
    assert all(r.startswith(url) or r == "about:blank" for r in requests), \
        [r for r in requests if not r.startswith(url)]
