"""The directory as Open Referral HSDS 3.0 objects (issue 15, the read-only `/hsds/` API).

HSDS identifies records by UUID; Relais' records have short text ids, so
each gets a UUID derived from its kind and Relais' id (the same on every
build). A service carries what the directory records of it and its source:
its names, what it does, its phone, its hours, the languages its source
confirms (ISO 639-1 codes), its taxonomy terms (as HSDS attributes) and the
date of its last check. A fact the directory does not hold as confirmed, or
one overdue for a new check (directory/freshness.py), is not hidden: the service's
`alert` says so, as the bot does. Hours are given only for a service its
source confirms; the phone of one it does not is marked so. No cost text,
note or source is returned.

Relais does not record which organisation runs which service: each service
is published as run by an organisation of its own name. Locations are the
services' public addresses; a location the directory holds at municipality
precision is published as its municipality only (no street, the
municipality's centre as its point). Shelters have no location at all (their
places are never stored), only their service area. Pharmacies are not
services and are not published here.

Only pure functions over a read-only SQLite connection; bot/web/hsds_routes.py
serves them.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterable, Optional

from directory import languages
from directory.freshness import DUE_MONTHS, is_overdue
from directory.hours import DAYS
from directory.places import postcode_candidates
from directory.textnorm import fold

VERSION = "3.0"
NAMESPACE = uuid.UUID("5b2f0c8e-2d7a-4c55-9a39-1f3b7f0e6a21")  # Relais' own: fixed, never reused elsewhere
MAX_PER_PAGE = 100
TAXONOMIES = {  # Relais' taxonomy.yml: its three kinds of term, each an HSDS taxonomy
    "category": ("Relais categories", "What kind of help a service gives (Relais' own categories)."),
    "audience": ("Relais audiences", "Whom a service is for (Relais' own audiences)."),
    "topic": ("Relais topics", "Which situations a service deals with (Relais' own topics)."),
}
TERM_COLUMNS = {"category": "categories", "audience": "audiences", "topic": "topics"}


class NotFound(LookupError):
    """No record of this kind has this HSDS id."""


@dataclass(frozen=True)
class Filters:
    """The spec's list parameters, as one value (None: no filter)."""

    search: Optional[str] = None
    modified_after: Optional[str] = None
    taxonomy_term_id: Optional[str] = None
    taxonomy_id: Optional[str] = None
    organization_id: Optional[str] = None


def hsds_id(kind: str, key: str) -> str:
    """The UUID of Relais' record `key` of `kind` (service, phone, schedule, language, ...)."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def _uuid(value: str) -> Optional[str]:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _alert(row: sqlite3.Row, today: date) -> Optional[str]:
    """What a reader must know before relying on the service's facts, or None when they are confirmed and recent."""
    if row["confidence"] == "unconfirmed":
        return (f"Not confirmed by its source at the last check ({row['checked'][:10]}): its phone may be wrong "
                "and its hours are left out; check with the service.")
    if row["confidence"] == "partly":
        return (f"Only partly confirmed by its source at the last check ({row['checked'][:10]}): its hours are "
                "left out; check with the service before relying on it.")
    if is_overdue("service", row["checked"], today):
        return (f"Last checked {row['checked'][:10]}, more than {DUE_MONTHS['service']} months ago: check before "
                "relying on it.")
    return None


def _time(minutes: int) -> str:
    return "23:59" if minutes >= 1440 else f"{minutes // 60:02d}:{minutes % 60:02d}"


def page_of(items: list, page: int, per_page: int, shape: Callable) -> dict:
    """One page of `items` in HSDS' paginated shape (`total_items`, `page_number`, ... `contents`)."""
    total_pages = max(1, -(-len(items) // per_page))
    chosen = items[(page - 1) * per_page: page * per_page]
    return {"total_items": len(items), "total_pages": total_pages, "page_number": page, "size": len(chosen),
            "first_page": page == 1, "last_page": page >= total_pages, "empty": not items,
            "contents": [shape(item) for item in chosen]}


# Taxonomies and their terms

def _term_rows(conn: sqlite3.Connection) -> list:
    labels = ", ".join(f"label_{code}" for code in languages.codes())
    return conn.execute(f"SELECT kind, code, {labels} FROM taxonomy ORDER BY kind, code").fetchall()


def taxonomy(kind: str) -> dict:
    """The HSDS taxonomy of one kind of Relais' terms."""
    name, description = TAXONOMIES[kind]
    return {"id": hsds_id("taxonomy", kind), "name": name, "description": description}


def term(row: sqlite3.Row, lang: str) -> dict:
    """A taxonomy term, named in `lang`."""
    label = languages.pick({code: row[f"label_{code}"] for code in languages.codes()}, lang) or row["code"]
    name = TAXONOMIES[row["kind"]][0]
    return {"id": hsds_id("taxonomy_term", f"{row['kind']}:{row['code']}"), "code": row["code"], "name": label,
            "description": f"{label} ({row['kind']} '{row['code']}' of {name})", "taxonomy": name,
            "taxonomy_id": hsds_id("taxonomy", row["kind"]), "language": lang}


def taxonomies_page(search: Optional[str] = None, page: int = 1, per_page: int = 50) -> dict:
    kinds = [k for k in TAXONOMIES if not search or fold(search) in fold(" ".join(TAXONOMIES[k]))]
    return page_of(kinds, page, per_page, taxonomy)


def taxonomy_by_id(uid: str) -> dict:
    for kind in TAXONOMIES:
        if hsds_id("taxonomy", kind) == _uuid(uid):
            return taxonomy(kind)
    raise NotFound(uid)


def terms_page(conn: sqlite3.Connection, lang: Optional[str] = None, page: int = 1, per_page: int = 50,
               search: Optional[str] = None, taxonomy_id: Optional[str] = None) -> dict:
    """A page of taxonomy terms, those whose labels (in any language) or code contain `search`."""
    lang = lang or languages.default()
    rows = _term_rows(conn)
    if taxonomy_id:
        rows = [r for r in rows if hsds_id("taxonomy", r["kind"]) == _uuid(taxonomy_id)]
    if search:
        needle = fold(search)
        rows = [r for r in rows if needle in fold(" ".join([r["code"], *(r[f"label_{c}"] for c in languages.codes())]))]
    return page_of(rows, page, per_page, lambda r: term(r, lang))


def term_by_id(conn: sqlite3.Connection, uid: str, lang: Optional[str] = None) -> dict:
    for row in _term_rows(conn):
        if hsds_id("taxonomy_term", f"{row['kind']}:{row['code']}") == _uuid(uid):
            return term(row, lang or languages.default())
    raise NotFound(uid)


# Services and their organisations

def _rows(conn: sqlite3.Connection) -> list:
    """Every service with the columns this API may show (never its address, notes, sources or cost),
    its texts, its source-confirmed languages and the date of its latest check."""
    names = ", ".join(f"s.name_{code}" for code in languages.codes())
    return conn.execute(f"""
        SELECT s.id, {names}, s.short_name, s.phone, s.phone_note, s.scope, s.confidence, s.checked,
               s.categories, s.audiences, s.topics,
               l.languages AS spoken, l.confidence AS spoken_confidence,
               max(s.checked, coalesce(l.checked, ''),
                   coalesce((SELECT max(t.checked) FROM service_texts t WHERE t.service_id = s.id), '')) AS latest
        FROM services s LEFT JOIN service_languages l ON l.service_id = s.id ORDER BY s.id""").fetchall()


def _terms_of(row: sqlite3.Row) -> Iterable[tuple[str, str]]:
    """(kind, code) of every taxonomy term of a service."""
    for kind, column in TERM_COLUMNS.items():
        for code in json.loads(row[column]):
            yield kind, code


def _texts(conn: sqlite3.Connection, service_id: str, field: str) -> dict:
    return {r["lang"]: r["text"] for r in conn.execute(
        "SELECT lang, text FROM service_texts WHERE service_id = ? AND field = ?", (service_id, field))}


def _name(row: sqlite3.Row, lang: str) -> str:
    names = {code: row[f"name_{code}"] for code in languages.codes()}
    return languages.pick(names, lang) or row["short_name"] or row["id"]


def _selected(rows: list, filters: Filters) -> list:
    """The service rows that pass every filter."""
    if filters.modified_after:
        rows = [r for r in rows if r["latest"][:10] >= filters.modified_after[:10]]
    if filters.search:
        needle = fold(filters.search)
        rows = [r for r in rows if needle in fold(" ".join(
            r[f"name_{code}"] or "" for code in languages.codes()) + " " + r["short_name"])]
    if filters.taxonomy_term_id:
        wanted = _uuid(filters.taxonomy_term_id)
        rows = [r for r in rows if any(hsds_id("taxonomy_term", f"{k}:{c}") == wanted for k, c in _terms_of(r))]
    if filters.taxonomy_id:
        wanted = _uuid(filters.taxonomy_id)
        rows = [r for r in rows if any(hsds_id("taxonomy", k) == wanted for k, _ in _terms_of(r))]
    if filters.organization_id:
        rows = [r for r in rows if hsds_id("organization", r["id"]) == _uuid(filters.organization_id)]
    return rows


def service_summary(row: sqlite3.Row, lang: str, today: date) -> dict:
    """The one-to-one fields of a service (an item of `/services`)."""
    name = _name(row, lang)
    suspended = "suspended" in row["phone_note"].casefold()  # the seed's only mark of a paused service
    summary = {"id": hsds_id("service", row["id"]), "organization_id": hsds_id("organization", row["id"]),
               "name": name, "status": "temporarily closed" if suspended else "active",
               "assured_date": row["checked"][:10], "last_modified": f"{row['latest'][:10]}T00:00:00Z"}
    if row["short_name"] and row["short_name"] != name:
        summary["alternate_name"] = row["short_name"]
    alert = _alert(row, today)
    if alert:
        summary["alert"] = alert
    return summary


def service(conn: sqlite3.Connection, row: sqlite3.Row, lang: str, today: date) -> dict:
    """A whole service (`/services/{id}`): its one-to-one fields, phone, area, hours when its source
    confirms them, the languages its source confirms, its taxonomy terms and its locations."""
    sid, uid = row["id"], hsds_id("service", row["id"])
    full = service_summary(row, lang, today)
    description = languages.pick(_texts(conn, sid, "what"), lang)
    if description:
        full["description"] = description
    caveat = {} if row["confidence"] == "confirmed" else {"description": "not confirmed by its source"}
    full["phones"] = [{"id": hsds_id("phone", sid), "service_id": uid, "number": row["phone"], **caveat}] \
        if row["phone"] else []
    full["service_areas"] = [{"id": hsds_id("service_area", sid), "service_id": uid, "name": row["scope"]}] \
        if row["scope"] else []
    full["schedules"] = [
        {"id": hsds_id("schedule", f"{sid}:{i}"), "service_id": uid, "freq": "WEEKLY",
         "byday": DAYS[s["weekday"]].upper(), "opens_at": _time(s["opens"]), "closes_at": _time(s["closes"]),
         "description": "Europe/Brussels time"}
        for i, s in enumerate(conn.execute(
            "SELECT weekday, opens, closes FROM schedules WHERE service_id = ? ORDER BY weekday, opens", (sid,)))
    ] if row["confidence"] == "confirmed" else []
    partly = {} if row["spoken_confidence"] == "confirmed" else {"note": "partly confirmed by the source"}
    full["languages"] = [{"id": hsds_id("language", f"{sid}:{code}"), "service_id": uid, "code": code, **partly}
                         for code in json.loads(row["spoken"])] if row["spoken"] else []
    terms = {(r["kind"], r["code"]): r for r in _term_rows(conn)}
    full["attributes"] = [
        {"id": hsds_id("attribute", f"{sid}:{kind}:{code}"), "link_id": uid, "link_type": kind,
         "link_entity": "service", "taxonomy_term_id": hsds_id("taxonomy_term", f"{kind}:{code}"),
         "taxonomy_term": term(terms[kind, code], lang)}
        for kind, code in _terms_of(row) if (kind, code) in terms]
    full["service_at_locations"] = [service_at_location(loc, row, lang) for loc in _location_rows(conn, sid)]
    return full


def services_page(conn: sqlite3.Connection, lang: Optional[str] = None, page: int = 1, per_page: int = 50,
                  filters: Filters = Filters(), today: Optional[date] = None) -> dict:
    """A page of the services that pass `filters`: names containing `search` (letters folded), last
    checked on or after `modified_after`, with a taxonomy term, a term of a taxonomy, or an organisation."""
    today, lang = today or date.today(), lang or languages.default()
    return page_of(_selected(_rows(conn), filters), page, per_page, lambda r: service_summary(r, lang, today))


def _row_by(conn: sqlite3.Connection, kind: str, uid: str) -> sqlite3.Row:
    wanted = _uuid(uid)
    for row in _rows(conn):
        if hsds_id(kind, row["id"]) == wanted:
            return row
    raise NotFound(uid)


def service_by_id(conn: sqlite3.Connection, uid: str, lang: Optional[str] = None,
                  today: Optional[date] = None) -> dict:
    """The whole service whose HSDS id is `uid` (any case); `NotFound` otherwise."""
    return service(conn, _row_by(conn, "service", uid), lang or languages.default(), today or date.today())


def organization(conn: sqlite3.Connection, row: sqlite3.Row, lang: str) -> dict:
    """The organisation of one service (Relais records no other): its name and what the service does."""
    name = _name(row, lang)
    what = languages.pick(_texts(conn, row["id"], "what"), lang)
    return {"id": hsds_id("organization", row["id"]), "name": name,
            "description": what or f"The organisation that runs {name}."}


def organizations_page(conn: sqlite3.Connection, lang: Optional[str] = None, page: int = 1, per_page: int = 50,
                       search: Optional[str] = None) -> dict:
    lang = lang or languages.default()
    rows = _selected(_rows(conn), Filters(search=search))
    return page_of(rows, page, per_page, lambda r: organization(conn, r, lang))


def organization_by_id(conn: sqlite3.Connection, uid: str, lang: Optional[str] = None,
                       today: Optional[date] = None) -> dict:
    """The organisation with its services (one-to-one fields) and their locations."""
    row = _row_by(conn, "organization", uid)
    lang = lang or languages.default()
    found = organization(conn, row, lang)
    found["services"] = [service_summary(row, lang, today or date.today())]
    found["locations"] = [location(loc) for loc in _location_rows(conn, row["id"])]
    return found


# Locations

def _location_rows(conn: sqlite3.Connection, service_id: Optional[str] = None) -> list:
    """The services' locations with their municipality's names, postcode and centre (never a pharmacy)."""
    where = "AND l.service_id = ?" if service_id else ""
    return conn.execute(f"""
        SELECT l.id, l.service_id, l.name, l.address, l.lat, l.lon, l.precision, l.municipality,
               m.name_nl AS municipality_nl, m.postcodes, m.lat AS m_lat, m.lon AS m_lon
        FROM locations l LEFT JOIN municipalities m ON m.name_fr = l.municipality
        WHERE l.kind = 'service' {where} ORDER BY l.service_id, l.id""",
                        (service_id,) if service_id else ()).fetchall()


def location(row: sqlite3.Row) -> dict:
    """A service's location: its address and point at street precision, or only its municipality."""
    lid = hsds_id("location", f"{row['service_id']}:{row['id']}")
    municipality = row["municipality"] or "Brussels"
    precise = row["precision"] != "municipality"
    known = json.loads(row["postcodes"]) if row["postcodes"] else []
    written = postcode_candidates(row["address"] or "")
    postcode = next((w for w in written if w in known), written[0] if written else (known[0] if known else ""))
    found = {"id": lid, "location_type": "physical", "organization_id": hsds_id("organization", row["service_id"]),
             "name": row["name"]}
    if precise:
        found.update(latitude=row["lat"], longitude=row["lon"],
                     description="Point: the street's position, not the building's.")
    else:
        found["description"] = f"Known at municipality precision only: {municipality}."
        if row["m_lat"] is not None:
            found.update(latitude=row["m_lat"], longitude=row["m_lon"])
    found["addresses"] = [{
        "id": hsds_id("address", lid), "location_id": lid, "address_1": row["address"] if precise else "",
        "city": municipality, "region": "Brussels-Capital Region", "state_province": "Brussels-Capital Region",
        "postal_code": postcode if precise else "", "country": "BE", "address_type": "physical"}]
    return found


def service_at_location(row: sqlite3.Row, service_row: sqlite3.Row, lang: str) -> dict:
    return {"id": hsds_id("service_at_location", f"{row['service_id']}:{row['id']}"),
            "service_id": hsds_id("service", row["service_id"]),
            "location_id": hsds_id("location", f"{row['service_id']}:{row['id']}"),
            "description": f"{_name(service_row, lang)}, {row['municipality'] or 'Brussels'}",
            "location": location(row)}


def service_at_locations_page(conn: sqlite3.Connection, lang: Optional[str] = None, page: int = 1,
                              per_page: int = 50, filters: Filters = Filters()) -> dict:
    """A page of services at their locations, for the services that pass `filters`."""
    lang = lang or languages.default()
    services = {r["id"]: r for r in _selected(_rows(conn), filters)}
    rows = [r for r in _location_rows(conn) if r["service_id"] in services]
    return page_of(rows, page, per_page, lambda r: service_at_location(r, services[r["service_id"]], lang))


def service_at_location_by_id(conn: sqlite3.Connection, uid: str, lang: Optional[str] = None) -> dict:
    services = {r["id"]: r for r in _rows(conn)}
    for row in _location_rows(conn):
        if hsds_id("service_at_location", f"{row['service_id']}:{row['id']}") == _uuid(uid):
            return service_at_location(row, services[row["service_id"]], lang or languages.default())
    raise NotFound(uid)
