"""The directory library: one read-only handle on the built database.

One source of truth: the bot's responses, the actions and the web server ask
here for a service's phone number and texts, the nearest contact points, a
text search, or where a place is.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from directory import languages, queries
from directory.build import DEFAULT_DB
from directory.places import Gazetteer, Result


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
    texts: dict = field(default_factory=dict)  # {(field, lang): text}

    def name(self, lang: str) -> str:
        """The name in `lang`, else the first name the service has."""
        return self.names.get(lang) or next((n for n in self.names.values() if n), self.id)

    def text(self, field_name: str, lang: str) -> Optional[str]:
        return self.texts.get((field_name, lang))


class Directory:
    """Read-only access to a built directory database."""

    def __init__(self, db_path: Path | str = DEFAULT_DB):
        self.path = Path(db_path)
        if not self.path.exists():
            raise FileNotFoundError(f"directory database not found: {self.path} (run `make db`)")
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
            source_urls=row["source_urls"], police_zone=row["police_zone"], texts=texts,
        )

    def context(self, context_id: str, lang: str) -> Optional[str]:
        row = self.conn.execute("select text from context where id = ? and lang = ?", (context_id, lang)).fetchone()
        return row[0] if row else None

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

    def nearest(self, lat: float, lon: float, k: int = 5, **filters) -> list:
        return queries.nearest(self.conn, lat, lon, k, **filters)

    def search(self, text: str, **filters) -> list:
        return queries.search(self.conn, text, **filters)

    def resolve_place(self, text: str) -> Result:
        """Gazetteer only (no network); see directory.geocoder.resolve_place for the full chain."""
        return self.gazetteer.resolve(text)
