"""The directory library: one read-only handle on the built database.

One source of truth: the bot's responses, the actions and the web server ask
here for a service's phone number and texts, the nearest contact points, a
text search, or where a place is.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Optional, Sequence

from directory import languages, queries
from directory.build import DEFAULT_DB
from directory.places import Gazetteer, Result
from directory.queries import Hit, SearchResult
from directory.textnorm import fold


class DirectoryUnavailable(Exception):
    """The database file does not answer (damaged, replaced, unreadable); the message names the error."""


@dataclass(frozen=True)
class PoliceZone:
    """A police zone: its code, names in the official languages (fr, nl), its EVA service."""

    code: str
    names: dict[str, str]
    eva_service_id: str


@dataclass(frozen=True)
class Municipality:
    """A municipality: its NIS code, names in the official languages (fr, nl), its outline (GeoJSON geometry)."""

    nis: str
    names: dict[str, str]
    geometry: dict


@dataclass(frozen=True)
class Service:
    id: str
    names: dict
    categories: str
    phone: str
    phone_note: str
    confidence: str
    checked: str
    source_urls: str
    police_zone: Optional[str] = None
    short_name: str = ""  # as people say it ("CPVS ZSG"), when it has one
    address: str = ""  # as the source writes it; never a confidential location's (the build refuses one)
    texts: dict = field(default_factory=dict)  # {(field, lang): text}

    def name(self, lang: str) -> str:
        """The name in `lang`, else the first name the service has."""
        return self.names.get(lang) or next((n for n in self.names.values() if n), self.id)

    def text(self, field_name: str, lang: str) -> Optional[str]:
        return self.texts.get((field_name, lang))


@dataclass(frozen=True)
class SpokenLanguages:
    """The languages a service's staff answer in, and the context entry saying how to get an interpreter there."""

    service_id: str
    languages: tuple[str, ...]
    confidence: str
    interpreting: Optional[str]
    source: str
    checked: str


class Directory:
    """Read-only access to a built directory database."""

    def __init__(self, db_path: Path | str = DEFAULT_DB):
        self.path = Path(db_path)
        if not self.path.exists():
            raise FileNotFoundError(f"directory database not found: {self.path} (run `make db`)")
        self.inode = self.path.stat().st_ino
        self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.gazetteer = Gazetteer(self.conn)

    def close(self) -> None:
        self.conn.close()

    def service(self, service_id: str) -> Optional[Service]:
        row = self.conn.execute("select * from services where id = ?", (service_id,)).fetchone()
        if row is None:
            return None
        texts = {
            (t["field"], t["lang"]): t["text"]
            for t in self.conn.execute(
                "select field, lang, text from service_texts where service_id = ?", (service_id,))
        }
        return Service(
            id=row["id"], names={lang: row[f"name_{lang}"] for lang in languages.codes()}, categories=row["categories"],
            phone=row["phone"], phone_note=row["phone_note"], confidence=row["confidence"], checked=row["checked"],
            source_urls=row["source_urls"], police_zone=row["police_zone"], address=row["address"],
            short_name=row["short_name"], texts=texts,
        )

    def context(self, context_id: str, lang: str) -> Optional[str]:
        row = self.conn.execute("select text from context where id = ? and lang = ?", (context_id, lang)).fetchone()
        return row[0] if row else None

    def spoken_languages(self) -> list[SpokenLanguages]:
        """What service_languages.yml records, in its order: each service's languages and interpreting."""
        return [SpokenLanguages(r["service_id"], tuple(json.loads(r["languages"])), r["confidence"],
                                r["interpreting"], r["source"], r["checked"])
                for r in self.conn.execute("select * from service_languages order by position")]

    def place_keys(self, kinds: tuple[str, ...]) -> list[str]:
        """The folded names (gazetteer keys) of the places of these kinds, for matching in messages."""
        rows = self.conn.execute(
            f"select distinct n.key from place_names n join places p on p.id = n.place_id "
            f"where p.kind in ({','.join('?' * len(kinds))})", kinds)
        return [row[0] for row in rows]

    def taxonomy(self) -> list[dict]:
        """Every taxonomy code with its labels: `{"kind", "code", "labels": {lang: label}}`."""
        rows = self.conn.execute("select * from taxonomy")
        langs = languages.codes()
        return [{"kind": r["kind"], "code": r["code"], "labels": {lang: r[f"label_{lang}"] for lang in langs}}
                for r in rows]

    def display_phones(self) -> set[str]:
        """Every dialable number in the directory, as written ("0800 30 030")."""
        return {r[0] for r in self.conn.execute("select phone from services where phone != ''")}

    def nearest(self, lat: float, lon: float, k: int = 5, *, categories: Sequence[str] = (),
                languages: Sequence[str] = (), audience: Optional[str] = None, open_now: bool = False,
                include_suspended: bool = False, when: Optional[datetime] = None,
                topics: Sequence[str] = ()) -> list[Hit]:
        """The `k` nearest active contact points to (lat, lon), nearest first; raises QueryError.

        Filters: taxonomy `categories` (any of), service `languages` (any of),
        an `audience`, open now (Europe/Brussels time, or at `when`), and
        `topics` (any of; only services whose topics are known pass).

        >>> [h.kind for h in Directory().nearest(50.8672, 4.3773, 2, categories=["pharmacy"])]
        ['pharmacy', 'pharmacy']
        """
        return queries.nearest(self.conn, lat, lon, k, categories=categories, languages=languages,
                               audience=audience, open_now=open_now, include_suspended=include_suspended, when=when,
                               topics=topics)

    def search(self, text: str, *, doc_types: Sequence[str] = (), category: Optional[str] = None,
               municipality: Optional[str] = None, language: Optional[str] = None, audience: Optional[str] = None,
               open_now: bool = False, near: Optional[tuple[float, float]] = None, limit: int = 20,
               when: Optional[datetime] = None) -> list[SearchResult]:
        """Services, pharmacies and trainings matching `text` (accent-insensitive); raises QueryError.

        >>> Directory().search("GAMS")[0]["phone"]
        '02 219 43 40'
        """
        return queries.search(self.conn, text, doc_types=doc_types, category=category, municipality=municipality,
                              language=language, audience=audience, open_now=open_now, near=near, limit=limit,
                              when=when)

    def taxonomy_codes(self, kind: str = "category") -> set[str]:
        """The codes of one taxonomy (`category`, `audience` or `topic`)."""
        return queries.taxonomy_codes(self.conn, kind)

    def police_zone(self, nis: str) -> Optional[PoliceZone]:
        """The police zone of a municipality (by NIS code) with its victim-reception (EVA) service."""
        row = self.conn.execute(
            "select z.code, z.name_fr, z.name_nl, s.id from municipalities m "
            "join police_zones z on z.code = m.police_zone join services s on s.police_zone = z.code "
            "where m.nis = ?", (nis,)).fetchone()
        return PoliceZone(row[0], {"fr": row[1], "nl": row[2]}, row[3]) if row else None

    def municipalities(self) -> list[Municipality]:
        """The region's municipalities with their outlines, in NIS order."""
        return [Municipality(r[0], {"fr": r[1], "nl": r[2]}, json.loads(r[3])) for r in self.conn.execute(
            "select nis, name_fr, name_nl, geometry from municipalities order by nis")]

    def check(self) -> None:
        """Raise DirectoryUnavailable unless the database file still answers (it may be damaged)."""
        try:
            self.conn.execute("select 1 from meta limit 1")
        except sqlite3.Error as err:
            raise DirectoryUnavailable(type(err).__name__) from err

    def has_emergency_numbers(self) -> bool:
        """True when the directory holds an emergency service with a number (what every danger answer says)."""
        row = self.conn.execute(
            "select 1 from services, json_each(services.categories) c where services.phone != '' "
            "and c.value = 'emergency' limit 1"
        ).fetchone()
        return row is not None

    def reopen(self) -> None:
        """Read the file now at this path from here on (raises FileNotFoundError or sqlite3.Error)."""
        fresh = Directory(self.path)
        old = self.conn
        self.conn, self.gazetteer, self.inode = fresh.conn, fresh.gazetteer, fresh.inode
        old.close()

    def replaced(self) -> bool:
        """True when the file at this path is no longer the one opened (a rebuild renamed a new one into place,
        or it is gone): reopen to read the current directory."""
        try:
            return self.path.stat().st_ino != self.inode
        except OSError:
            return True

    def readable(self) -> bool:
        """True when the database file still answers."""
        try:
            self.check()
            return True
        except DirectoryUnavailable:
            return False

    def resolve_place(self, text: str) -> Result:
        """Where a place is, from the gazetteer only (no network); never raises.

        For the gazetteer then the network geocoder, see `directory.geocoder.find_place`.

        >>> Directory().resolve_place("1030").kind
        'postcode'
        """
        return self.gazetteer.resolve(text)

    def is_street(self, name: str) -> bool:
        """True when `name` is a street of the gazetteer, so that a house number may follow it.

        >>> Directory().is_street("Kerkstraat"), Directory().is_street("gare du Midi")
        (True, False)
        """
        return self.gazetteer.lookup(fold(name), "street") is not None
