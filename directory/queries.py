"""Directory queries: nearest contact points and full-text search.

Both take a read-only SQLite connection to a built directory and never raise
on bad input: wrong coordinates, unknown filters or FTS syntax in the text
give an empty result or a `QueryError` with a message fit for a user.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Iterable, Optional, Sequence, TypedDict

from directory import geo, languages
from directory.freshness import effective_confidence
from directory.hours import is_open
from directory.textnorm import fold, words

MAX_K = 50
MAX_RADIUS_M = 60_000
START_RADIUS_M = 400
MAX_SEARCH_TOKENS = 12
MAX_SEARCH_TEXT = 500


class QueryError(ValueError):
    """A query the directory cannot answer as asked (bad coordinates, filter...)."""


@dataclass
class Hit:
    """A contact point near a place."""

    ref: str
    kind: str  # pharmacy or service
    name: str
    address: str
    postcode: str
    municipality: str
    lat: float
    lon: float
    distance_m: int
    precision: str
    status: str
    service_id: Optional[str]
    categories: list
    phone: str = ""
    open_now: Optional[bool] = None
    confidence: str = ""
    checked: str = ""
    source: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


class SearchResult(TypedDict, total=False):
    """One result of `search`: a service, a pharmacy or a training (keys by `type`).

    Every result has type, id, names ({language: name}), categories,
    confidence and checked; services add phone, hours, what, open_now,
    address (never a shelter's), address_note (the source's remark on it), scope, municipality, postcode, lat, lon;
    pharmacies add address, postcode, municipality, status, lat, lon;
    trainings add organiser, audiences, topics, languages, format, url,
    source. With `near`, `distance_m` is the distance in metres.
    """

    type: str
    id: str
    names: dict[str, str]
    categories: list[str]
    confidence: str
    checked: str
    phone: str
    phone_note: str
    chat_or_online: str
    hours_source: str
    hours: dict[str, Optional[str]]
    what: dict[str, Optional[str]]
    open_now: Optional[bool]
    address: str
    address_note: str
    scope: str
    police_zone: Optional[str]
    municipality: Optional[str]
    postcode: Optional[str]
    status: str
    organiser: str
    organiser_id: Optional[str]
    audiences: list[str]
    topics: list[str]
    languages: list[str]
    format: dict[str, str]
    url: str
    source: str
    source_urls: str
    lat: Optional[float]
    lon: Optional[float]
    distance_m: int


@dataclass
class Filters:
    categories: Sequence[str] = ()
    languages: Sequence[str] = ()
    audience: Optional[str] = None
    open_now: bool = False
    include_suspended: bool = False
    when: Optional[datetime] = None
    topics: Sequence[str] = ()


def _service_facts(conn: sqlite3.Connection, service_ids: Iterable[str]) -> dict:
    ids = sorted({s for s in service_ids if s})
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    facts = {r[0]: {"phone": r[1], "languages": json.loads(r[2]), "audiences": json.loads(r[3]),
                    "confidence": r[4], "checked": r[5], "topics": json.loads(r[6]), "slots": None}
             for r in conn.execute(f"select id, phone, languages, audiences, confidence, checked, topics "
                                   f"from services where id in ({marks})", ids)}
    for sid, day, opens, closes in conn.execute(
            f"select service_id, weekday, opens, closes from schedules where service_id in ({marks})", ids):
        facts[sid]["slots"] = (facts[sid]["slots"] or []) + [(day, opens, closes)]
    return facts


def _passes(facts: Optional[dict], f: Filters) -> bool:
    """Languages and audiences filter only where the directory knows them; open now needs known hours."""
    if f.languages and facts and facts["languages"] and not set(f.languages) & set(facts["languages"]):
        return False
    if f.audience and facts and facts["audiences"] and f.audience not in facts["audiences"]:
        return False
    if f.topics and (facts is None or not set(f.topics) & set(facts["topics"])):
        return False
    if f.open_now and (facts is None or is_open(facts["slots"], f.when) is not True):
        return False
    return True


def validate_point(lat: object, lon: object) -> tuple[float, float]:
    if not geo.valid_point(lat, lon):
        raise QueryError("coordinates must be two finite numbers")
    point = float(lat), float(lon)  # type: ignore[arg-type]  # valid_point checked they are numbers
    if not geo.in_belgium(*point):
        raise QueryError("these coordinates are outside Belgium")
    return point


def taxonomy_codes(conn: sqlite3.Connection, kind: str = "category") -> set:
    """The codes of one taxonomy kind: category, audience or topic."""
    return {r[0] for r in conn.execute("select code from taxonomy where kind = ?", (kind,))}


def nearest(conn: sqlite3.Connection, lat: float, lon: float, k: int = 5, categories: Sequence[str] = (),
            languages: Sequence[str] = (), audience: Optional[str] = None, open_now: bool = False,
            include_suspended: bool = False, when: Optional[datetime] = None, topics: Sequence[str] = ()) -> list[Hit]:
    """The `k` nearest active contact points, distance-ranked, in metres.

    Uses the R*Tree: it looks in a small square first and widens it until it
    holds `k` matches or reaches MAX_RADIUS_M, so it never scans the table.
    """
    lat, lon = validate_point(lat, lon)
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise QueryError(f"k must be a whole number from 1 to {MAX_K}")
    categories = list(dict.fromkeys(categories or ()))
    unknown = set(categories) - taxonomy_codes(conn)
    if unknown:
        raise QueryError(f"unknown categories: {', '.join(sorted(unknown))}")
    filters = Filters(categories, languages or (), audience, open_now, include_suspended, when, topics)
    radius: float = START_RADIUS_M
    while True:
        found = _within(conn, lat, lon, radius, filters, k)
        if len(found) >= k or radius >= MAX_RADIUS_M:
            return _hydrate_hits(conn, found[:k], filters)
        # Grow the circle to where k matches should be at the density seen so far.
        grow = (k / len(found)) ** 0.5 * 1.3 if found else 3.0
        radius = min(MAX_RADIUS_M, radius * min(max(grow, 1.5), 4.0))


def _within(conn: sqlite3.Connection, lat: float, lon: float, radius: float, f: Filters, k: int) -> list[tuple]:
    """(distance, id, service_id, facts) of matches within `radius`, nearest first, at least the first k."""
    min_lat, max_lat, min_lon, max_lon = geo.bbox_around(lat, lon, radius)
    # CROSS JOIN keeps SQLite from reordering: the R*Tree box first, then the rows in it.
    sql = ("select l.id, l.lat, l.lon, l.service_id from locations_rtree r cross join locations l on l.id = r.id "
           "where r.max_lat >= ? and r.min_lat <= ? and r.max_lon >= ? and r.min_lon <= ?")
    args: list = [min_lat, max_lat, min_lon, max_lon]
    if f.categories:
        sql += (" and exists (select 1 from location_categories c where c.location_id = l.id and c.category in "
                f"({','.join('?' * len(f.categories))}))")
        args += f.categories
    if not f.include_suspended:
        sql += " and l.status = 'ACTIVE'"
    candidates = []
    for loc_id, plat, plon, service_id in conn.execute(sql, args):
        distance = geo.haversine_m(lat, lon, plat, plon)
        if distance <= radius:
            candidates.append((distance, loc_id, service_id))
    candidates.sort()
    facts = _service_facts(conn, (c[2] for c in candidates))
    found = []
    for distance, loc_id, service_id in candidates:
        fact = facts.get(service_id) if service_id else None
        if _passes(fact, f):
            found.append((distance, loc_id, service_id, fact))
            if len(found) >= k:
                break
    return found


def _hydrate_hits(conn: sqlite3.Connection, found: list, f: Filters) -> list[Hit]:
    hits = []
    for distance, loc_id, service_id, fact in found:
        r = conn.execute(
            "select l.ref, l.kind, l.name, l.address, l.postcode, l.municipality, l.lat, l.lon, l.precision, "
            "l.status, l.confidence, l.checked, l.source, "
            "(select group_concat(c.category) from location_categories c where c.location_id = l.id) "
            "from locations l where l.id = ?", (loc_id,)).fetchone()
        hits.append(Hit(ref=r[0], kind=r[1], name=r[2], address=r[3], postcode=r[4], municipality=r[5], lat=r[6],
                        lon=r[7], distance_m=round(distance), precision=r[8], status=r[9], service_id=service_id,
                        categories=(r[13] or "").split(","), phone=fact["phone"] if fact else "",
                        open_now=is_open(fact["slots"], f.when) if fact else None,
                        confidence=effective_confidence("service", fact["confidence"], fact["checked"]) if fact
                        else r[10],
                        checked=fact["checked"] if fact else r[11], source=r[12]))
    return hits


# Words that carry no meaning in a directory search; dropped unless nothing else is left.
STOP_WORDS = {
    "le", "la", "les", "de", "du", "des", "un", "une", "et", "ou", "pour", "a", "au", "aux", "en", "sur", "avec",
    "numero", "telephone", "tel", "adresse", "quel", "quelle", "est", "the", "of", "for", "and", "or", "to", "in",
    "on", "with", "number", "phone", "address", "what", "is", "het", "een", "van", "voor", "met", "op",
    "nummer", "telefoon", "adres", "wat", "not", "near", "select", "drop", "from", "where", "table",
}


def _stem(word: str) -> str:
    """A light plural strip ("trainings" -> "training"), since every word is matched as a prefix."""
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def fts_query(text: str, any_word: bool = False) -> Optional[str]:
    """An FTS5 query from user text: folded words as quoted prefixes, no syntax passes through."""
    if not isinstance(text, str):
        return None
    tokens = list(dict.fromkeys(_stem(w) for w in words(text[:MAX_SEARCH_TEXT])))
    meaningful = [t for t in tokens if t not in STOP_WORDS and (len(t) > 1 or t.isdigit())]
    tokens = meaningful[:MAX_SEARCH_TOKENS]
    if not tokens:
        return None
    joiner = " OR " if any_word else " "
    return joiner.join('"' + t.replace('"', '""') + '"*' for t in tokens)


def search(conn: sqlite3.Connection, text: str, doc_types: Sequence[str] = (), category: Optional[str] = None,
           municipality: Optional[str] = None, language: Optional[str] = None, audience: Optional[str] = None,
           open_now: bool = False, near: Optional[tuple] = None, limit: int = 20,
           when: Optional[datetime] = None) -> list[SearchResult]:
    """Full-text search over services, pharmacies and trainings (accent-insensitive).

    All words must match (as prefixes); when none matches that way, any word
    may. Filters narrow the results; `near` = (lat, lon) adds distances. With
    no text, the filters alone choose (nearest first with `near`, else by
    name); a text that is only a category's name ("pharmacie", "apotheek")
    is that category. Suspended pharmacies are never listed.
    """
    if not isinstance(limit, int) or not 1 <= limit <= 100:
        raise QueryError("limit must be a whole number from 1 to 100")
    if category and category not in taxonomy_codes(conn):
        raise QueryError(f"unknown category: {category}")
    named = category_named(conn, text)
    if named and not category:
        category, text = named, ""
    if fts_query(text) is None:
        if not (doc_types or category or municipality or language or audience or open_now or near):
            return []
        rows = conn.execute("select doc_type, doc_id from search_index order by doc_type, name").fetchall()
        results = [r for r in rows if not doc_types or r[0] in doc_types]
        if near:  # nearest first, before the limit
            results = _by_distance(conn, results, near)
    else:
        results = []
        for any_word in (False, True):
            # A service's short name ("CPVS", "GAMS") outweighs everything else: the body holds its texts in
            # every language, so a service that only mentions it (Alice, "transport to the CPVS") has it many times.
            rows = conn.execute(
                "select doc_type, doc_id from search_index where search_index match ? "
                "order by bm25(search_index, 0, 0, 60.0, 4.0, 1.0) limit 200", (fts_query(text, any_word),)).fetchall()
            results = [r for r in rows if not doc_types or r[0] in doc_types]
            if results:
                break
    out: list[SearchResult] = []
    for doc_type, doc_id in results:
        item = _hydrate(conn, doc_type, doc_id, when)
        if item is None or not _search_filters(item, category, municipality, language, audience, open_now):
            continue
        lat, lon = item.get("lat"), item.get("lon")
        if near and lat is not None and lon is not None:
            item["distance_m"] = round(geo.haversine_m(near[0], near[1], lat, lon))
        out.append(item)
        if len(out) >= limit:
            break
    return out


def category_named(conn: sqlite3.Connection, text: str) -> Optional[str]:
    """The category whose name, in any language, is the whole of `text` (folded), if any."""
    folded = fold(text or "").strip()
    if not folded:
        return None
    for row in conn.execute("select * from taxonomy where kind = 'category'"):
        labels = {fold(row[f"label_{lang}"]) for lang in languages.codes()} | {fold(row["code"])}
        if folded in labels:
            return row["code"]
    return None


def _by_distance(conn: sqlite3.Connection, docs: list, near: tuple) -> list:
    """Documents that have a place, nearest to `near` first."""
    points = {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(
        "select 'pharmacy', ref, lat, lon from locations where kind = 'pharmacy' "
        "union all select 'service', service_id, lat, lon from locations where service_id is not null")}
    placed = [(geo.haversine_m(near[0], near[1], *points[(d[0], d[1])]), d) for d in docs if (d[0], d[1]) in points]
    return [d for _, d in sorted(placed, key=lambda pair: pair[0])]  # ties keep their order (rows do not compare)


def _search_filters(item: SearchResult, category, municipality, language, audience, open_now) -> bool:
    if item["type"] == "pharmacy" and item.get("status") != "ACTIVE":
        return False
    if category and category not in item["categories"]:
        return False
    if language and item.get("languages") and language not in item["languages"]:
        return False
    if audience and item.get("audiences") and audience not in item["audiences"]:
        return False
    if open_now and item.get("open_now") is not True:
        return False
    if municipality:
        target = fold(municipality)
        if target not in (fold(item.get("municipality") or ""), item.get("postcode") or "") \
                and target not in fold(item.get("scope") or ""):
            return False
    return True


def _row(conn: sqlite3.Connection, sql: str, *args) -> Optional[dict]:
    """One row as a dict, whatever the connection's row factory."""
    cursor = conn.execute(sql, args)
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row, strict=True)) if row is not None else None


def _hydrate(conn: sqlite3.Connection, doc_type: str, doc_id: str, when: Optional[datetime]) -> Optional[SearchResult]:
    langs = languages.codes()
    if doc_type == "service":
        s = _row(conn, "select * from services where id = ?", doc_id)
        if s is None:
            return None
        facts = _service_facts(conn, [doc_id])[doc_id]
        loc = conn.execute("select lat, lon, municipality, postcode from locations where service_id = ?",
                           (doc_id,)).fetchone()
        texts = {(f, lang): t for f, lang, t in conn.execute(
            "select field, lang, text from service_texts where service_id = ?", (doc_id,))}
        return {
            "type": "service", "id": doc_id, "names": {lang: s[f"name_{lang}"] for lang in langs},
            "categories": json.loads(s["categories"]), "audiences": json.loads(s["audiences"]),
            "topics": json.loads(s["topics"]), "languages": json.loads(s["languages"]),
            "phone": s["phone"], "phone_note": s["phone_note"], "chat_or_online": s["chat_or_online"],
            "hours_source": s["hours_source"], "hours": {lang: texts.get(("hours", lang)) for lang in langs},
            "what": {lang: texts.get(("what", lang)) for lang in langs}, "open_now": is_open(facts["slots"], when),
            "address": s["address"], "address_note": s["address_note"], "scope": s["scope"],
            "police_zone": s["police_zone"],
            "municipality": loc[2] if loc else None, "postcode": loc[3] if loc else None,
            "lat": loc[0] if loc else None, "lon": loc[1] if loc else None,
            "confidence": effective_confidence("service", s["confidence"], s["checked"]), "checked": s["checked"],
            "source": s["source_urls"],
        }
    if doc_type == "pharmacy":
        row = conn.execute("select l.ref, l.name, l.address, l.postcode, l.municipality, l.lat, l.lon, l.status, "
                           "l.source, l.checked from locations l where l.ref = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        return {"type": "pharmacy", "id": row[0], "names": {lang: row[1] for lang in langs}, "categories": ["pharmacy"],
                "address": row[2], "postcode": row[3], "municipality": row[4], "lat": row[5], "lon": row[6],
                "status": row[7], "phone": "", "open_now": None, "confidence": "confirmed", "checked": row[9],
                "source": row[8]}
    if doc_type == "training":
        t = _row(conn, "select * from trainings where id = ?", doc_id)
        if t is None:
            return None
        return {"type": "training", "id": doc_id, "names": {lang: t[f"title_{lang}"] for lang in langs},
                "categories": ["training_organiser"], "organiser": t["organiser"],
                "organiser_id": t["organiser_id"], "audiences": json.loads(t["audiences"]),
                "topics": json.loads(t["topics"]), "languages": json.loads(t["languages"]),
                "format": {lang: t[f"format_{lang}"] for lang in langs}, "url": t["url"], "lat": t["venue_lat"],
                "lon": t["venue_lon"], "confidence": effective_confidence("training", t["confidence"], t["checked"]),
                "checked": t["checked"], "source": t["source"]}
    return None
