"""The read-only Open Referral HSDS 3.0 API (issue 15): what it returns validates against the official schemas."""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
import uuid

import pytest
from jsonschema import Draft202012Validator, RefResolver

from directory.hsds import hsds_id
from tests.conftest import ROOT, get_json, web_alone

SCHEMAS = ROOT / "tests" / "fixtures" / "hsds"
BASE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
STORE = {BASE + path.name: json.loads(path.read_text(encoding="utf-8")) for path in (SCHEMAS / "schema").glob("*.json")}


def schema(name: str) -> Draft202012Validator:
    """The validator of one HSDS schema: `service`, `taxonomy`, ... (their `$ref`s resolved from the fixtures),
    or a compiled list schema (`compiled/service_list`)."""
    if name.startswith("compiled/"):
        return Draft202012Validator(json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8")))
    return Draft202012Validator(STORE[BASE + name + ".json"], resolver=RefResolver(BASE + name + ".json", {}, STORE),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def page_schema() -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMAS / "openapi.json").read_text(encoding="utf-8"))
                                ["components"]["schemas"]["Page"])


def errors(validator: Draft202012Validator, item) -> list:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(item)]


@pytest.fixture(scope="module")
def web_url():
    with web_alone() as url:
        yield url


def test_every_page_of_services_validates_and_together_they_hold_every_service_once(web_url):
    status, root = get_json(f"{web_url}/hsds/")
    assert status == 200 and root["version"] == "3.0"
    listed, page, summary = [], 1, schema("compiled/service_list")
    while True:
        status, body = get_json(f"{web_url}/hsds/services?per_page=10&page={page}")
        assert status == 200 and not errors(page_schema(), body)
        for item in body["contents"]:
            assert not errors(summary, item), item
        listed += [item["id"] for item in body["contents"]]
        assert body["page_number"] == page and body["size"] == len(body["contents"])
        if body["last_page"]:
            break
        page += 1
    assert len(listed) == len(set(listed)) == body["total_items"] > 30


def test_a_whole_service_validates_with_its_phone_hours_and_languages(web_url):
    status, body = get_json(f"{web_url}/hsds/services?search=" + urllib.parse.quote("112"))
    assert status == 200 and body["total_items"] >= 1
    status, full = get_json(f"{web_url}/hsds/services/{body['contents'][0]['id']}?lang=en")
    assert status == 200 and not errors(schema("service"), full)
    assert full["name"] == "European emergency number 112" and full["phones"][0]["number"] == "112"
    assert {"fr", "nl"} <= {language["code"] for language in full["languages"]}
    assert len(full["schedules"]) == 7 and full["schedules"][0]["byday"] == "MO"


def test_no_service_shows_a_note_a_source_or_a_cost_and_unconfirmed_facts_say_so(web_url):
    conn = sqlite3.connect(ROOT / "directory" / "relais.db")
    internal = {value for row in conn.execute("SELECT notes, source_urls, cost, phone_note FROM services")
                for value in row if value and len(value) > 12}  # not a one-word flag ("unconfirmed")
    confidence = dict(conn.execute("SELECT name_fr, confidence FROM services WHERE name_fr != ''"))
    status, body = get_json(f"{web_url}/hsds/services?per_page=100")
    assert status == 200 and any("alert" in s for s in body["contents"])
    for item in body["contents"]:
        status, full = get_json(f"{web_url}/hsds/services/{item['id'].upper()}")
        text = json.dumps(full, ensure_ascii=False)
        assert status == 200 and not [value for value in internal if value in text], item["name"]
        if confidence.get(full["name"], "confirmed") != "confirmed":
            assert "alert" in full and full["schedules"] == []
            assert all(phone.get("description") == "not confirmed by its source" for phone in full["phones"])
    intact = [s for s in body["contents"] if s["name"].startswith("INTACT")]
    assert intact and intact[0]["status"] == "temporarily closed"


def test_search_ignores_accents_and_modified_after_includes_that_day(web_url):
    status, body = get_json(f"{web_url}/hsds/services?search=ecoute%20enfants")
    assert status == 200 and [s["name"] for s in body["contents"]] == ["Écoute-Enfants"]
    day = body["contents"][0]["last_modified"][:10]
    status, body = get_json(f"{web_url}/hsds/services?search=ecoute%20enfants&modified_after={day}")
    assert status == 200 and body["total_items"] == 1


@pytest.mark.parametrize("query", ["page=0", "per_page=101", "per_page=x", "lang=xx", "modified_after=yesterday",
                                   "modified_after=2026-11-22garbage", "search=" + "a" * 201, "page=%C2%B2",
                                   "page=" + "9" * 5000, "page=1&page=2"])
def test_a_bad_parameter_gets_a_json_400(web_url, query):
    status, body = get_json(f"{web_url}/hsds/services?{query}")
    assert status == 400 and body["error"]["code"] == "invalid_parameter"


def test_an_unknown_id_is_a_json_404_and_modified_after_filters(web_url):
    status, body = get_json(f"{web_url}/hsds/services/00000000-0000-0000-0000-000000000000")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = get_json(f"{web_url}/hsds/services?modified_after=2100-01-01")
    assert status == 200 and body["empty"] and body["total_items"] == 0


def every_item(web_url: str, path: str, per_page: int = 7) -> list:
    """Every item of a paginated listing, each page checked against the spec's page shape."""
    items, page = [], 1
    while True:
        status, body = get_json(f"{web_url}/hsds/{path}{'&' if '?' in path else '?'}per_page={per_page}&page={page}")
        assert status == 200 and not errors(page_schema(), body), body
        items += body["contents"]
        if body["last_page"]:
            assert len(items) == body["total_items"]
            return items
        page += 1


@pytest.mark.parametrize("path, listed, whole", [
    ("organizations", "compiled/organization_list", "organization"),
    ("service_at_locations", "compiled/service_at_location_list", "service_at_location"),
    ("taxonomies", "taxonomy", "taxonomy"),
    ("taxonomy_terms", "taxonomy_term", "taxonomy_term"),
])
def test_each_optional_listing_and_each_of_its_records_validate(web_url, path, listed, whole):
    items = every_item(web_url, path)
    assert items and len({item["id"] for item in items}) == len(items)
    for item in items:
        assert not errors(schema(listed), item), item
        status, full = get_json(f"{web_url}/hsds/{path}/{item['id']}?lang=nl")
        assert status == 200 and not errors(schema(whole), full), full
        assert full["id"] == item["id"]
    status, body = get_json(f"{web_url}/hsds/{path}/{uuid.uuid4()}")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_taxonomy_term_filters_give_the_services_the_directory_files_under_that_term(web_url):
    terms = every_item(web_url, "taxonomy_terms?search=" + urllib.parse.quote("enfants"))
    children = next(t for t in terms if t["code"] == "children" and t["taxonomy"] == "Relais categories")
    conn = sqlite3.connect(ROOT / "directory" / "relais.db")
    expected = conn.execute("SELECT count(*) FROM service_categories WHERE category = 'children'").fetchone()[0]
    found = every_item(web_url, f"services?taxonomy_term_id={children['id']}")
    assert len(found) == expected >= 3
    for item in found:
        status, full = get_json(f"{web_url}/hsds/services/{item['id']}")
        assert children["id"] in {a["taxonomy_term_id"] for a in full["attributes"]}
    categories = every_item(web_url, f"taxonomy_terms?taxonomy_id={children['taxonomy_id']}")
    assert {t["taxonomy"] for t in categories} == {"Relais categories"} and len(categories) >= 15
    status, none = get_json(f"{web_url}/hsds/services?taxonomy_term_id={uuid.uuid4()}")
    assert status == 200 and none["empty"]


def test_shelters_have_no_location_and_a_place_known_by_its_municipality_shows_no_street(web_url):
    conn = sqlite3.connect(ROOT / "directory" / "relais.db")
    shelters = [row[0] for row in conn.execute(
        "SELECT DISTINCT service_id FROM service_categories WHERE category = 'shelter'")]
    coarse = {row[0] for row in conn.execute(
        "SELECT name FROM locations WHERE kind = 'service' AND precision = 'municipality'")}
    assert shelters
    places = every_item(web_url, "service_at_locations", per_page=100)
    shelter_ids = {hsds_id("service", sid) for sid in shelters}
    assert places and not [p for p in places if p["service_id"] in shelter_ids]
    for place in places:
        location = place["location"]
        if location["name"] in coarse:
            assert location["addresses"][0]["address_1"] == "" and location["addresses"][0]["postal_code"] == ""
    status, listed = get_json(f"{web_url}/hsds/services?per_page=100")
    by_id = {s["id"]: s for s in listed["contents"]}
    for sid in shelter_ids:
        status, full = get_json(f"{web_url}/hsds/services/{sid}")
        assert status == 200 and full["service_at_locations"] == [] and full["service_areas"] and sid in by_id
    status, org = get_json(f"{web_url}/hsds/organizations/{by_id[next(iter(shelter_ids))]['organization_id']}")
    assert status == 200 and org["locations"] == []
