"""Build the directory database (SQLite, via sqlite-utils) from the seed files.

The build writes a new file beside the target and renames it into place, so a
running bot never reads a half-built database. It refuses to store a street
address for a shelter (`ConfidentialLocationError`). A service's address is
placed on the map through the gazetteer, at street precision: the seed has
no geocoded house numbers, and the build needs no network.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sqlite3
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import sqlite_utils
import yaml

from directory import geo, languages, schema
from directory.hours import slots_from_entry
from directory.places import KIND_RANK, Gazetteer, Place, postcode_candidates, street_of
from directory.textnorm import fold

SEED = Path(__file__).with_name("seed")
DEFAULT_DB = Path(__file__).with_name("relais.db")
SHELTER_CATEGORIES = ("shelter", "refuge")


class ConfidentialLocationError(ValueError):
    """Raised when an import tries to store a shelter's street address."""


def seed_digest(seed: Path = SEED) -> str:
    """A digest of every seed file, the language registry and the schema (the columns), recorded in `meta`."""
    digest = hashlib.sha256()
    for path in [*sorted(seed.glob("*")), languages.REGISTRY, Path(schema.__file__)]:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def read_taxonomy(seed: Path = SEED) -> dict:
    """The seed's taxonomy.yml: categories, audiences, topics with their labels, search keywords."""
    return _yaml(seed / "taxonomy.yml")


def taxonomy_labels(taxonomy: dict, kind: str, codes: Iterable[str]) -> str:
    """Labels in every language, plus search keywords, of taxonomy codes (for the search index)."""
    table = taxonomy[{"category": "categories", "audience": "audiences", "topic": "topics"}[kind]]
    keywords = taxonomy.get("keywords", {})
    codes = list(codes)
    langs = languages.codes()
    return " ".join([*(table[c][lang] for c in codes if c in table for lang in langs if lang in table[c]),
                     *(keywords.get(c, "") for c in codes)])


def training_search_body(taxonomy: dict, organiser: str, audiences: Iterable[str], topics: Iterable[str],
                         formats: Iterable[str]) -> str:
    """What the search index holds of a training beside its title: organiser, audiences, topics, format."""
    return " ".join([organiser, taxonomy_labels(taxonomy, "audience", audiences),
                     taxonomy_labels(taxonomy, "topic", topics), *formats, "formation opleiding training"])


# An address that says it is not public ("adresse secrète", "geheim adres"): the place is a shelter's.
SECRET_ADDRESS = re.compile(r"\b(?:secret|secrete|geheim|confidentiel(?:le)?|confidential|vertrouwelijk)\b")


def is_shelter(row: Mapping[str, Any], categories: Iterable[str] = ()) -> bool:
    """Whether a service is a shelter, whose street address is never stored: by its categories, or by an
    address that says it is secret. The one rule of the build, the importers and the back office.

    >>> is_shelter({"category_source": "refuge"}), is_shelter({"address": "Rue X 12 (adresse secrète)"})
    (True, True)
    >>> is_shelter({"address": "Secrétariat, Rue Royale 55, 1000 Bruxelles"})
    False
    """
    text = " ".join([row.get("category") or "", row.get("category_source") or "", *categories])
    secret = SECRET_ADDRESS.search(fold(row.get("address") or ""))
    return any(word in text for word in SHELTER_CATEGORIES) or secret is not None


def check_confidential(services: list[dict], classification: Optional[dict] = None) -> None:
    """Shelters are stored at municipality precision at most: no street address."""
    classification = classification or {}
    for row in services:
        categories = classification.get(row["id"], {}).get("categories", [])
        if is_shelter(row, categories) and row.get("address"):
            raise ConfidentialLocationError(
                f"service {row['id']!r} is a shelter: its street address must not be stored"
            )


def read_texts(seed: Path) -> list[dict]:
    data = _yaml(seed / "texts.yml")
    checked = str(data["checked"])
    return [
        {"service_id": sid, "field": field, "lang": lang, "text": " ".join(str(text).split()), "checked": checked}
        for sid, fields in data["services"].items()
        for field, by_lang in fields.items()
        for lang, text in by_lang.items()
    ]


LANGUAGE_CODE = re.compile(r"[a-z]{2}")
# The source's remark after an address ("Saint-Josse-ten-Noode (address unconfirmed)"): kept for staff in
# `address_note`, never shown to users as part of the address (it is English, and the bot marks unconfirmed
# facts in the user's language).
ADDRESS_NOTE = re.compile(r"\s*\(([^)]*(?:unconfirmed|not given|not public)[^)]*)\)\s*$")


def split_address(raw: str) -> tuple[str, str]:
    """(address, remark) of a seed address.

    >>> split_address("1210 Saint-Josse-ten-Noode (street no. not given in source)")
    ('1210 Saint-Josse-ten-Noode', 'street no. not given in source')
    >>> split_address("Rue Royale 55, 1000 Bruxelles")
    ('Rue Royale 55, 1000 Bruxelles', '')
    """
    match = ADDRESS_NOTE.search(raw)
    return (raw[:match.start()], match.group(1)) if match else (raw, "")


def _language_entry_problem(sid: str, entry: dict, service_ids: set[str], context_ids: set[str]) -> Optional[str]:
    if sid not in service_ids:
        return "not in services.csv"
    if not str(entry.get("source") or "").strip():
        return "no source"
    if entry.get("confidence") not in ("confirmed", "partly"):
        return "confidence must be confirmed or partly"
    spoken = entry.get("languages", [])
    if not isinstance(spoken, list) or not all(isinstance(c, str) and LANGUAGE_CODE.fullmatch(c) for c in spoken):
        return "languages must be ISO 639-1 codes"
    if entry.get("interpreting") not in (None, *context_ids):
        return "interpreting names no context.yml entry"
    return None


def read_service_languages(seed: Path, service_ids: set[str], context_ids: set[str]) -> list[dict]:
    """service_languages.yml as rows, checked: known services and context entries, ISO codes, a source each."""
    data = _yaml(seed / "service_languages.yml")
    checked = str(data["checked"])
    rows = []
    for position, (sid, entry) in enumerate(data["services"].items()):
        entry = entry if isinstance(entry, dict) else {}
        problem = _language_entry_problem(sid, entry, service_ids, context_ids)
        if problem:
            raise ValueError(f"service_languages.yml, {sid}: {problem}")
        rows.append({"service_id": sid, "position": position, "languages": json.dumps(entry.get("languages", [])),
                     "confidence": entry["confidence"], "source": entry["source"].strip(),
                     "interpreting": entry.get("interpreting"), "checked": str(entry.get("checked", checked))})
    return rows


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


class Builder:
    """Fills one new database from one seed folder."""

    def __init__(self, db: sqlite_utils.Database, seed: Path, pharmacies: Optional[Path] = None):
        self.db = db
        self.seed = seed
        self.pharmacies_file = pharmacies or seed / "pharmacies.csv"
        self.taxonomy = read_taxonomy(seed)
        self.warnings: list[str] = []

    def labels(self, kind: str, codes: Iterable[str]) -> str:
        """Labels in every language, plus search keywords, of taxonomy codes."""
        return taxonomy_labels(self.taxonomy, kind, codes)

    def run(self) -> None:
        schema.create(self.db.conn)
        self.taxonomy_table()
        services = self.services()
        self.municipalities()
        self.places()
        self.locations(services)
        self.trainings()
        self.context()
        self.db.table("meta").insert_all(
            [{"key": "seed_digest", "value": seed_digest(self.seed)},
             {"key": "built_at", "value": datetime.now(timezone.utc).isoformat(timespec="seconds")},
             {"key": "pharmacies", "value": self.pharmacies_file.name}], pk="key")
        self.db.conn.commit()

    def taxonomy_table(self) -> None:
        langs = languages.codes()
        rows = [{"code": code, "kind": kind, **{f"label_{lang}": languages.pick(labels, lang) for lang in langs}}
                for kind, key in (("category", "categories"), ("audience", "audiences"), ("topic", "topics"))
                for code, labels in self.taxonomy[key].items()]
        self.db.table("taxonomy").insert_all(rows)

    def services(self) -> list[dict]:
        rows = _csv(self.seed / "services.csv")
        classification = self.taxonomy["classification"]
        check_confidential(rows, classification)
        missing = sorted({r["id"] for r in rows} - set(classification))
        if missing:
            raise ValueError(f"taxonomy.yml classifies no categories for: {missing}")
        spoken = read_service_languages(self.seed, {r["id"] for r in rows},
                                        set(_yaml(self.seed / "context.yml")["context"]))
        staff_languages = {r["service_id"]: r["languages"] for r in spoken}
        services = []
        for row in rows:
            cls = classification[row["id"]]
            address, address_note = split_address(row["address"])
            services.append({
                "id": row["id"], **{f"name_{lang}": row.get(f"name_{lang}") for lang in languages.codes()},
                "short_name": cls.get("short", ""),
                "category_source": row["category"], "categories": json.dumps(cls["categories"]),
                "audiences": json.dumps(cls.get("audiences", [])), "topics": json.dumps(cls.get("topics", [])),
                "languages": staff_languages.get(row["id"], "[]"), "phone": row["phone"],
                "phone_note": row["phone_note"], "chat_or_online": row["chat_or_online"],
                "hours_source": row["hours_source"], "cost": row["cost"],
                "address": address, "address_note": address_note,
                "scope": row["scope"], "police_zone": cls.get("police_zone"), "source_urls": row["source_urls"],
                "confidence": row["confidence"], "notes": row["notes"], "checked": row["checked"],
            })
        self.db.table("services").insert_all(services)
        self.db.table("service_languages").insert_all(spoken)
        self.db.table("service_categories").insert_all(
            {"service_id": s["id"], "category": c} for s in services for c in json.loads(s["categories"]))
        texts = read_texts(self.seed)
        unknown = sorted({t["service_id"] for t in texts} - {s["id"] for s in services})
        if unknown:
            raise ValueError(f"texts.yml names services that services.csv lacks: {unknown}")
        self.db.table("service_texts").insert_all(texts)
        schedules = _yaml(self.seed / "schedules.yml")["schedules"]
        unknown = sorted(set(schedules) - {s["id"] for s in services})
        if unknown:
            raise ValueError(f"schedules.yml names services that services.csv lacks: {unknown}")
        self.db.table("schedules").insert_all(
            {"service_id": sid, "weekday": d, "opens": o, "closes": c}
            for sid, entry in schedules.items() for d, o, c in slots_from_entry(entry))
        zones = {z["code"]: z for z in self.police_zones()}
        for service in services:
            self.index_service(service, texts, zones)
        return services

    def index_service(self, service: dict, texts: list[dict], zones: dict) -> None:
        own_texts = " ".join(t["text"] for t in texts if t["service_id"] == service["id"])
        zone = zones.get(service["police_zone"] or "")
        body = " ".join([
            own_texts, self.labels("category", json.loads(service["categories"])),
            self.labels("audience", json.loads(service["audiences"])),
            self.labels("topic", json.loads(service["topics"])),
            service["scope"], service["notes"], service["chat_or_online"], service["phone"], _digits(service["phone"]),
            " ".join([zone["name_fr"], zone["name_nl"], zone["municipalities"].replace(";", " "), "zone", zone["code"]])
            if zone else "",
        ])
        name = " ".join(dict.fromkeys(filter(None, (service[f"name_{lang}"] for lang in languages.codes()))))
        short = self.taxonomy["classification"][service["id"]].get("short", "")
        self.db.table("search_index").insert({"doc_type": "service", "doc_id": service["id"], "short": short,
                                        "name": name, "body": body})

    def police_zones(self) -> list[dict]:
        with (self.seed / "police_zones.csv").open(encoding="utf-8", newline="") as fh:
            zones = list(csv.DictReader(fh))
        self.db.table("police_zones").insert_all(zones)
        return zones

    def municipalities(self) -> None:
        collection = json.loads((self.seed / "municipalities.geojson").read_text(encoding="utf-8"))
        rows = []
        for feature in collection["features"]:
            p = feature["properties"]
            min_lat, min_lon, max_lat, max_lon = geo.geometry_bbox(feature["geometry"])
            rows.append({"nis": p["nis"], "name_fr": p["name_fr"], "name_nl": p["name_nl"],
                         "postcodes": json.dumps(p["postcodes"]), "police_zone": p["police_zone"],
                         "lat": p["centroid"][0], "lon": p["centroid"][1], "min_lat": min_lat, "min_lon": min_lon,
                         "max_lat": max_lat, "max_lon": max_lon, "geometry": json.dumps(feature["geometry"]),
                         "source": p["source"]})
        self.db.table("municipalities").insert_all(rows)

    def pharmacy_rows(self) -> list[dict]:
        return _csv(self.pharmacies_file)

    def places(self) -> None:
        gaz = Gazetteer(self.db.conn)
        municipalities = list(self.db.query("select * from municipalities"))
        places = [{"id": f"mun_{m['nis']}", "kind": "municipality", "name": f"{m['name_fr']} / {m['name_nl']}"
                   if m["name_fr"] != m["name_nl"] else m["name_fr"], "name_fr": m["name_fr"], "name_nl": m["name_nl"],
                   "name_en": "", "category": "boundary=municipality", "lat": m["lat"], "lon": m["lon"],
                   "municipality_nis": m["nis"], "source": m["source"]} for m in municipalities]
        places += self.postcode_places(municipalities)
        for row in _csv(self.seed / "gazetteer.csv"):
            lat, lon = float(row["lat"]), float(row["lon"])
            places.append({**row, "lat": lat, "lon": lon, "municipality_nis": gaz.municipality_at(lat, lon)})
        self.db.table("places").insert_all(places)

        names: dict = {}
        def add(key: str, place: dict, rank: int) -> None:
            if key and (key, place["id"]) not in names:
                names[(key, place["id"])] = rank

        for place in places:
            rank = KIND_RANK.get(place["kind"], 9)
            for field in ("name", "name_fr", "name_nl", "name_en"):
                value = place.get(field) or ""
                add(fold(value), place, rank)
                for part in value.replace(" - ", "/").split("/"):
                    add(fold(part), place, rank)
        aliases = _yaml(self.seed / "aliases.yml")
        for nis, keys in aliases["municipalities"].items():
            for key in keys:
                add(fold(key), {"id": f"mun_{nis}"}, KIND_RANK["municipality"])
        by_name = defaultdict(list)
        for place in places:
            by_name[(place["kind"], place["name"])].append(place)
        for entry in aliases["places"]:
            target = by_name.get((entry["target"]["kind"], entry["target"]["name"]))
            if not target:
                raise ValueError(f"aliases.yml: no {entry['target']['kind']} named {entry['target']['name']!r}")
            for key in entry["aliases"]:
                add(fold(key), target[0], KIND_RANK[target[0]["kind"]] - 1)
        self.db.table("place_names").insert_all({"key": k, "place_id": pid, "rank": r} for (k, pid), r in names.items())
        self.db.conn.executemany("insert into place_names_fts(key) values (?)",
                                 [(k,) for k in sorted({k for k, _ in names})])

    def postcode_places(self, municipalities: list[dict]) -> list[dict]:
        """A point per Brussels postcode: the mean of its pharmacies' official coordinates."""
        mun_by_name = {fold(m[f"name_{lang}"]): m for m in municipalities for lang in ("fr", "nl")}
        groups: dict = defaultdict(list)
        for row in _csv(self.seed / "pharmacies.csv"):
            groups[row["postcode"]].append(row)
        postcodes = []
        for m in municipalities:
            for code in json.loads(m["postcodes"]):
                pharmacies = groups.get(code, [])
                if pharmacies:
                    lat = sum(float(p["lat"]) for p in pharmacies) / len(pharmacies)
                    lon = sum(float(p["lon"]) for p in pharmacies) / len(pharmacies)
                    source = f"mean of {len(pharmacies)} official AFMPS pharmacy coordinates with this postcode"
                else:
                    lat, lon, source = m["lat"], m["lon"], "municipality centroid (no pharmacy with this postcode)"
                names = Counter(fold(p["municipality"]) for p in pharmacies)
                owner = mun_by_name.get(names.most_common(1)[0][0], m) if names else m
                postcodes.append({"postcode": code, "municipality_nis": owner["nis"], "lat": round(lat, 6),
                                  "lon": round(lon, 6), "source": source})
        self.db.table("postcodes").insert_all(postcodes)
        return [{"id": f"pc_{p['postcode']}", "kind": "postcode", "name": p["postcode"], "name_fr": p["postcode"],
                 "name_nl": p["postcode"], "name_en": "", "category": "postcode", "lat": p["lat"], "lon": p["lon"],
                 "municipality_nis": p["municipality_nis"], "source": p["source"]} for p in postcodes]

    def add_location(self, loc: dict, categories: list[str]) -> None:
        insert_location(self.db.conn, loc, categories)

    def locations(self, services: list[dict]) -> None:
        gaz = Gazetteer(self.db.conn)
        rows = self.pharmacy_rows()
        with self.db.conn:
            cur = self.db.conn.cursor()
            for i, p in enumerate(rows, start=1):
                lat, lon = float(p["lat"]), float(p["lon"])
                cur.execute(
                    "insert into locations values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (i, p["id"], "pharmacy", None, p["name"], p["address"], p["postcode"], p["municipality"],
                     lat, lon, "address", p["status"], p["source"], p["checked"], "confirmed"))
                cur.execute("insert into location_categories values (?, 'pharmacy')", (i,))
                cur.execute("insert into locations_rtree values (?,?,?,?,?)", (i, lat, lat, lon, lon))
                cur.execute("insert into search_index(doc_type, doc_id, short, name, body) values (?,?,?,?,?)",
                            ("pharmacy", p["id"], "", p["name"], f"{p['address']} {p['postcode']} {p['municipality']} "
                             "pharmacie apotheek pharmacy"))
        for service in services:
            categories = json.loads(service["categories"])
            if not service["address"] or is_shelter(service, categories):
                continue
            placed = place_address(gaz, service["address"])
            if placed is None:
                self.warnings.append(f"{service['id']}: no street or municipality in its address, not on the map")
                continue
            self.add_location(service_location(self.db.conn, service, *placed), categories)

    def context(self) -> None:
        data = _yaml(self.seed / "context.yml")
        self.db.table("context").insert_all(
            {"id": cid, "lang": lang, "text": " ".join(str(text).split()), "source": entry["source"],
             "confidence": entry["confidence"], "checked": str(entry.get("checked", data["checked"]))}
            for cid, entry in data["context"].items() for lang, text in entry["text"].items())

    def trainings(self) -> None:
        data = _yaml(self.seed / "trainings.yml")
        checked = str(data["checked"])
        langs = languages.codes()
        rows = []
        for t in data["trainings"]:
            rows.append({
                "id": t["id"], **{f"title_{lang}": languages.pick(t["title"], lang) for lang in langs},
                "organiser": t["organiser"],
                "organiser_id": t.get("organiser_id") or None, "audiences": json.dumps(t["audiences"]),
                "topics": json.dumps(t["topics"]), "languages": json.dumps(t["languages"]),
                **{f"format_{lang}": (t.get("format") or {}).get(lang, "") for lang in langs},
                "url": t.get("url", ""),
                "venue_lat": None, "venue_lon": None, "source": t["source"], "confidence": t["confidence"],
                "checked": str(t.get("checked", checked))})
            body = training_search_body(self.taxonomy, t["organiser"], t["audiences"], t["topics"],
                                        (t.get("format") or {}).values())
            self.db.table("search_index").insert({"doc_type": "training", "doc_id": t["id"], "short": "",
                                            "name": " ".join(t["title"].values()), "body": body})
        self.db.table("trainings").insert_all(rows)


def municipality_in(gaz: Gazetteer, address: str) -> Optional[Place]:
    """The municipality an address names (postcode or name), for a point at municipality precision."""
    for word in postcode_candidates(address):
        if place := gaz.lookup(word, "postcode"):
            return gaz.place_by_id(f"mun_{place.municipality_nis}")
    tokens = fold(address).split()
    for size in (4, 3, 2, 1):
        for i in range(len(tokens) - size + 1):
            place = gaz.lookup(" ".join(tokens[i:i + size]), "municipality")
            if place:
                return place
    return None


def place_address(gaz: Gazetteer, address: str) -> Optional[tuple[Place, str]]:
    """Where `address` goes on the map: its street's point ("street" precision), in the municipality the
    address names when it names one (a long street crosses several), else that municipality's centre
    ("municipality"); None when it names neither. No house numbers: the build needs no network."""
    municipality = municipality_in(gaz, address)
    for key in street_of(address):
        streets = gaz.lookup_all(key, "street")
        if municipality is not None:
            streets = [s for s in streets if s.municipality_nis == municipality.municipality_nis]
        if streets:
            return streets[0], "street"
    return (municipality, "municipality") if municipality is not None else None


def service_location(conn: sqlite3.Connection, service: Mapping[str, Any], place: Place, precision: str) -> dict:
    """The `locations` row of a service placed at `place`."""
    mun = conn.execute("SELECT name_fr FROM municipalities WHERE nis = ?", (place.municipality_nis or "",)).fetchone()
    return {
        "ref": f"svc_{service['id']}", "kind": "service", "service_id": service["id"],
        "name": service["name_fr"] or service["name_nl"] or service["name_en"], "address": service["address"],
        "postcode": "", "municipality": mun[0] if mun else "", "lat": place.lat, "lon": place.lon,
        "precision": precision, "status": "ACTIVE", "source": f"address: {service['source_urls']}; "
        f"point: {precision} in the gazetteer ({place.source})", "checked": service["checked"],
        "confidence": service["confidence"]}


def insert_location(conn: sqlite3.Connection, loc: Mapping[str, Any], categories: Iterable[str]) -> None:
    """Add a location, its categories and its point in the spatial index."""
    columns = list(loc)
    loc_id = conn.execute(f"INSERT INTO locations ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                          [loc[c] for c in columns]).lastrowid
    conn.executemany("INSERT INTO location_categories VALUES (?, ?)", [(loc_id, c) for c in categories])
    conn.execute("INSERT INTO locations_rtree VALUES (?, ?, ?, ?, ?)",
                 (loc_id, loc["lat"], loc["lat"], loc["lon"], loc["lon"]))


def relocate_service(conn: sqlite3.Connection, service_id: str) -> bool:
    """Put a service back on the map from the address its row now holds (after an edit, inside the
    caller's transaction), as the build does; a shelter or an empty address has no location. Returns
    whether the service has a location now."""
    old = conn.execute("SELECT id FROM locations WHERE ref = ?", (f"svc_{service_id}",)).fetchone()
    if old is not None:
        conn.execute("DELETE FROM location_categories WHERE location_id = ?", (old[0],))
        conn.execute("DELETE FROM locations_rtree WHERE id = ?", (old[0],))
        conn.execute("DELETE FROM locations WHERE id = ?", (old[0],))
    cursor = conn.execute("SELECT * FROM services WHERE id = ?", (service_id,))
    service = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
    categories = json.loads(service["categories"])
    if not service["address"] or is_shelter(service, categories):
        return False
    placed = place_address(Gazetteer(conn), service["address"])
    if placed is None:
        return False
    insert_location(conn, service_location(conn, service, *placed), categories)
    return True


def build(db_path: Path = DEFAULT_DB, seed: Path = SEED, pharmacies: Optional[Path] = None,
          curation_db: Optional[Path] = None) -> Path:
    """Build the database at `db_path` from `seed`, then replay the back office's edits kept in
    `curation_db` when it exists (directory/curation.py); returns the path."""
    db_path = Path(db_path)
    tmp = db_path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    db = sqlite_utils.Database(sqlite3.connect(tmp))
    try:
        builder = Builder(db, Path(seed), pharmacies)
        builder.run()
        for warning in builder.warnings:
            print(f"note: {warning}")
        if curation_db is not None and Path(curation_db).exists():
            from directory.curation import rebuild_lock

            with rebuild_lock(curation_db):  # no edit between the replay and the swap: it would be lost
                _replay_curation(db, Path(curation_db))
                db.close()
                os.replace(tmp, db_path)
            return db_path
    except BaseException:
        db.close()
        tmp.unlink(missing_ok=True)
        raise
    db.close()
    os.replace(tmp, db_path)
    return db_path


def _replay_curation(db: sqlite_utils.Database, curation_db: Path) -> None:
    """Put the back office's edits and approved proposals back into a freshly built directory."""
    from directory import proposals
    from directory.curation import Curation

    store = Curation(curation_db)
    try:
        with db.conn:
            added = proposals.replay(store, db.conn)
            if added:
                print(f"curation: {added} approved training proposal(s) put back")
            for done in store.replay(db.conn):
                print(f"curation: {done}")
    finally:
        store.close()


def db_state(db_path: Path = DEFAULT_DB, seed: Path = SEED) -> str:
    """"current", "missing", "unreadable" (not a directory database, or corrupt)
    or "out of date" (built from another seed)."""
    if not Path(db_path).exists():
        return "missing"
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            row = conn.execute("select value from meta where key = 'seed_digest'").fetchone()
            conn.execute("select count(*) from services").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return "unreadable"
    return "current" if row and row[0] == seed_digest(seed) else "out of date"


def is_current(db_path: Path = DEFAULT_DB, seed: Path = SEED) -> bool:
    """True when the database exists, opens and was built from the present seed."""
    return db_state(db_path, seed) == "current"
