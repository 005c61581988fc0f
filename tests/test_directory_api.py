"""The directory's JSON API, over real HTTP, from the web server alone."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.conftest import get_json, web_alone


@pytest.fixture(scope="module")
def api():
    with web_alone() as url:
        yield f"{url}/api/directory"


def call(api: str, path: str, **params) -> tuple[int, dict]:
    query = urllib.parse.urlencode(params, doseq=True)
    return get_json(f"{api}/{path}?{query}")


def test_search_finds_gams_with_its_phone_confidence_and_check_date(api):
    status, body = call(api, "search", q="GAMS")
    assert status == 200
    gams = body["results"][0]
    assert gams["id"] == "gams" and gams["phone"] == "02 219 43 40"
    assert gams["confidence"] == "confirmed" and gams["checked"]


def test_search_with_a_place_adds_distances_and_sorts_by_them(api):
    status, body = call(api, "search", q="pharmacie", type="pharmacy", place="1030", limit=10)
    assert status == 200 and body["place"]["kind"] == "postcode"
    distances = [r["distance_m"] for r in body["results"]]
    assert distances == sorted(distances) and len(distances) == 10


def test_search_filters(api):
    _, body = call(api, "search", q="EVA", category="police_victim_reception")
    assert body["results"] and all("police_victim_reception" in r["categories"] for r in body["results"])
    _, body = call(api, "search", q="EVA Schaerbeek")
    assert body["results"][0]["id"] == "eva_nord"
    _, body = call(api, "search", q="formation", type="training", audience="professionals")
    assert body["results"] and all(r["type"] == "training" for r in body["results"])


def test_nearest_to_a_place_or_coordinates(api):
    status, body = call(api, "nearest", place="gare du Midi", category="pharmacy", k=3)
    assert status == 200 and body["count"] == 3 and body["place"]["kind"] == "station"
    status, body = call(api, "nearest", lat=50.85, lon=4.35, category=["medical", "association"], k=2)
    assert status == 200 and body["count"] == 2


def test_place_lookup(api):
    status, body = call(api, "place", q="Zuidstation")
    assert status == 200 and "Bruxelles-Midi" in body["place"]["name"]


@pytest.mark.parametrize("path, params, code", [
    ("search", {"q": "x", "type": "shelter"}, "invalid_parameter"),
    ("search", {"q": "x", "category": "nope"}, "invalid_parameter"),
    ("search", {"q": "x", "limit": "1000"}, "invalid_parameter"),
    ("search", {"q": "x", "limit": "ten"}, "invalid_parameter"),
    ("search", {"q": "x" * 500}, "invalid_parameter"),
    ("search", {"q": "x", "open_now": "maybe"}, "invalid_parameter"),
    ("search", {"q": "x", "place": "Atlantis"}, "place_unknown"),
    ("search", {"q": "x", "place": "1300"}, "place_outside_brussels"),
    ("nearest", {}, "missing_parameter"),
    ("nearest", {"lat": "50.8"}, "invalid_parameter"),
    ("nearest", {"lat": "48.85", "lon": "2.35"}, "invalid_parameter"),
    ("nearest", {"lat": "abc", "lon": "4"}, "invalid_parameter"),
    ("nearest", {"place": "1030", "k": "0"}, "invalid_parameter"),
    ("nearest", {"place": "1030", "category": "bogus"}, "invalid_parameter"),
    ("place", {}, "missing_parameter"),
    ("place", {"q": "48.85, 2.35"}, "place_outside_belgium"),
])
def test_bad_parameters_get_a_clear_400(api, path, params, code):
    status, body = call(api, path, **params)
    assert status == 400 and body["error"]["code"] == code and body["error"]["message"]


@pytest.mark.parametrize("q", ["'", '"); DROP TABLE services; --', "NEAR(", "*", "😀", "\x00"])
def test_hostile_search_text_is_harmless(api, q):
    status, body = call(api, "search", q=q)
    assert status == 200 and isinstance(body["results"], list)


def test_server_time_is_reported_and_small(api):
    import urllib.request

    with urllib.request.urlopen(f"{api}/search?q=GAMS") as resp:
        timing = resp.headers["Server-Timing"]
    assert timing.startswith("directory;dur=")
    assert float(timing.split("=")[1]) < 100


# Issue 12, item 8: what staff expect of a lookup.

def test_filters_alone_search_nearest_first(api):
    status, body = call(api, "search", type="pharmacy", place="1030")
    assert status == 200 and body["count"] > 0
    distances = [r["distance_m"] for r in body["results"]]
    assert distances == sorted(distances) and distances[0] < 1000


@pytest.mark.parametrize("kind", ["service", None])
def test_a_place_alone_lists_what_is_nearest_even_where_two_share_a_point(api, kind):
    """Services at the same point (one police station's two cells) once made this a 500."""
    status, body = call(api, "search", place="1050", **({"type": kind} if kind else {}))
    assert status == 200 and body["count"] > 0
    distances = [r["distance_m"] for r in body["results"]]
    assert distances == sorted(distances)


def test_a_category_name_is_the_category_so_apotheek_is_found_for_pharmacie(api):
    status, body = call(api, "search", q="pharmacie", limit="100")
    assert status == 200 and {r["type"] for r in body["results"]} == {"pharmacy"}
    assert any("apotheek" in r["names"]["fr"].lower() for r in body["results"])


def test_suspended_pharmacies_are_never_listed(api):
    _, body = call(api, "search", q="pharmacie royale")
    assert body["results"] and all(r["status"] == "ACTIVE" for r in body["results"])


def test_the_same_search_as_csv(api):
    import csv
    import io
    import urllib.request

    url = f"{api}/search.csv?" + urllib.parse.urlencode({"q": "GAMS"})
    with urllib.request.urlopen(url) as resp:
        assert resp.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in resp.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(resp.read().decode("utf-8"))))
    assert rows[0][:3] == ["type", "name", "phone"] and any(r[2] == "02 219 43 40" for r in rows[1:])


def test_csv_cells_are_never_spreadsheet_formulas():
    from bot.web.downloads import spreadsheet_safe

    assert spreadsheet_safe("=HYPERLINK(\"x\")").startswith("'") and spreadsheet_safe("GAMS") == "GAMS"
