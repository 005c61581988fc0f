"""Turn what people type into a place: the offline gazetteer of Brussels.

`Gazetteer(conn).resolve(text)` tries, in order:
1. coordinates ("50.85, 4.35");
2. a postcode (1000-1210: its point; another Belgian postcode: "outside
   Brussels");
3. an exact name or alias (municipalities in FR/NL/EN and short forms,
   stations, stops, squares, neighbourhoods, streets, public places), after
   folding case, accents and punctuation; words such as "métro", "gare",
   "station", "arrêt", "halte" choose the kind of place;
4. a street followed by a house number ("rue Haute 320" -> the street);
5. a close spelling (trigram candidates, then a similarity of at least
   FUZZY_MIN), for typos.
It never raises on bad input: it returns a `Place` or a `NotFound` that says
why. The network geocoder (directory/geocoder.py) is the caller's next step.
"""

from __future__ import annotations

import difflib
import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Optional, Union

from directory import geo
from directory.textnorm import fold

MAX_QUERY = 200
FUZZY_MIN = 0.84
KIND_RANK = {"municipality": 0, "postcode": 1, "station": 2, "place": 3, "stop": 4, "street": 5, "poi": 6}
PRECISION = {"municipality": "municipality", "postcode": "postcode", "station": "point", "stop": "point",
             "place": "point", "poi": "point", "street": "street", "coordinates": "point"}
# Words that say what kind of place follows or precedes a name.
KIND_WORDS = {
    "station": {"gare", "station", "statie", "treinstation", "train"},
    "stop": {"metro", "arret", "halte", "tram", "bus", "premetro", "stop", "metrostation"},
}
FILLER = {"pres", "de", "du", "des", "d", "la", "le", "l", "a", "au", "aux", "in", "bij", "near", "at", "the", "van",
          "het", "rond", "around", "vlakbij", "dichtbij", "close", "to", "next", "a cote", "cote", "naast", "en",
          "op", "on", "me", "je", "suis", "i", "am", "ik", "ben", "zone", "quartier", "wijk", "commune", "gemeente",
          "municipality", "ville", "stad", "city", "of"}
POSTCODE_RE = re.compile(r"\b(\d{4})\b")
COORDS_RE = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,; ]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
HOUSE_NUMBER_RE = re.compile(r"^(.*?\D)\s*\d+\s*[a-z]?(?:\s*(?:bte|bus|boite)\s*\w+)?$")


@dataclass(frozen=True)
class Place:
    """A resolved place: a point, how precise it is, and where it came from."""

    name: str
    lat: float
    lon: float
    precision: str  # point, street, postcode, municipality
    kind: str
    municipality_nis: Optional[str]
    source: str
    matched: str = "exact"  # exact, fuzzy, street_of_address, coordinates, geocoder


@dataclass(frozen=True)
class NotFound:
    """No place: `reason` is one of empty, too_long, outside_brussels, outside_belgium, unknown."""

    reason: str
    text: str = ""


Result = Union[Place, NotFound]


class Gazetteer:
    """Resolves place names against the directory database."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._shapes: Optional[list] = None

    def place_by_id(self, place_id: str, matched: str = "exact") -> Optional[Place]:
        """The gazetteer's place `place_id` ("mun_21015", "pc_1030"...), or None."""
        row = self.conn.execute(
            "select id, kind, name, lat, lon, municipality_nis, source from places where id = ?", (place_id,)
        ).fetchone()
        if row is None:
            return None
        return Place(row[2], row[3], row[4], PRECISION.get(row[1], "point"), row[1], row[5], row[6], matched)

    def municipality_at(self, lat: float, lon: float) -> Optional[str]:
        """NIS code of the Brussels municipality containing the point, if any."""
        if self._shapes is None:
            self._shapes = [(r[0], (r[1], r[2], r[3], r[4]), json.loads(r[5])) for r in self.conn.execute(
                "select nis, min_lat, min_lon, max_lat, max_lon, geometry from municipalities")]
        for nis, bbox, geometry in self._shapes:
            if geo.in_bbox(lat, lon, bbox) and geo.in_geometry(lat, lon, geometry):
                return nis
        return None

    def lookup(self, key: str, kind: Optional[str] = None) -> Optional[Place]:
        """Exact folded-name match, best kind first (or only `kind`)."""
        found = self.lookup_all(key, kind, limit=1)
        return found[0] if found else None

    def lookup_all(self, key: str, kind: Optional[str] = None, limit: int = 50) -> list[Place]:
        """Every exact folded-name match (a long street has a point in each stretch), best kind first."""
        rows = self.conn.execute(
            "select n.place_id, p.kind from place_names n join places p on p.id = n.place_id "
            "where n.key = ? order by n.rank, p.id",
            (key,),
        ).fetchall()
        if kind:
            rows = [r for r in rows if r[1] == kind]
        return [place for r in rows[:limit] if (place := self.place_by_id(r[0], "exact"))]

    def fuzzy(self, key: str, kind: Optional[str] = None) -> Optional[Place]:
        if len(key) < 4:
            return None
        grams = {key[i:i + 3] for i in range(len(key) - 2)}
        query = " OR ".join('"' + g.replace('"', '""') + '"' for g in sorted(grams))
        try:
            candidates = [r[0] for r in self.conn.execute(
                "select key from place_names_fts where place_names_fts match ? order by rank limit 40", (query,))]
        except sqlite3.OperationalError:
            return None
        best, score = None, 0.0
        for candidate in candidates:
            ratio = difflib.SequenceMatcher(None, key, candidate).ratio()
            if ratio > score:
                best, score = candidate, ratio
        if best is None or score < FUZZY_MIN:
            return None
        place = self.lookup(best, kind) or self.lookup(best)
        return Place(**{**place.__dict__, "matched": "fuzzy"}) if place else None

    def resolve(self, text: object) -> Result:
        if not isinstance(text, str) or not text.strip():
            return NotFound("empty")
        if len(text) > MAX_QUERY:
            return NotFound("too_long", text[:MAX_QUERY])
        coords = COORDS_RE.match(text)
        if coords:
            lat, lon = float(coords.group(1)), float(coords.group(2))
            if not geo.in_belgium(lat, lon):
                return NotFound("outside_belgium", text)
            return Place(f"{lat:.5f}, {lon:.5f}", lat, lon, "point", "coordinates",
                         self.municipality_at(lat, lon), "coordinates given", "coordinates")
        folded = fold(text)
        if not folded:
            return NotFound("empty")
        postcode = POSTCODE_RE.search(folded)
        if postcode and len(folded.split()) <= 3:
            code = postcode.group(1)
            place = self.lookup(code, "postcode")
            if place:
                return place
            if 1000 <= int(code) <= 9999 and folded.split()[0] == code or folded == code:
                return NotFound("outside_brussels", text)
        tokens = folded.split()
        kind = next((k for k, words in KIND_WORDS.items() if words & set(tokens)), None)
        core_tokens = [t for t in tokens if not any(t in w for w in KIND_WORDS.values())]
        while core_tokens and core_tokens[0] in FILLER:
            core_tokens.pop(0)
        while core_tokens and core_tokens[-1] in FILLER:
            core_tokens.pop()
        for key in dict.fromkeys([folded, " ".join(core_tokens)]):
            if not key:
                continue
            place = (self.lookup(key, kind) if kind else None) or self.lookup(key)
            if place:
                return place
        core = " ".join(core_tokens)
        street = HOUSE_NUMBER_RE.match(core)
        if street:
            place = self.lookup(street.group(1).strip(), "street")
            if place:
                return Place(**{**place.__dict__, "matched": "street_of_address"})
        if core:
            place = self.fuzzy(core, kind)
            if place:
                return place
        return NotFound("unknown", text)


def postcode_candidates(address: str) -> list[str]:
    """The four-digit words of an address, last first: the postcode follows the street and its number
    ("Chaussée de Wavre 1040, 1160 Auderghem": 1160, then 1040).

    >>> postcode_candidates("Chaussée de Wavre 1040, 1160 Auderghem")
    ['1160', '1040']
    """
    return [w for w in reversed(re.split(r"[\s,;/()]+", address or "")) if len(w) == 4 and w.isdigit()]


def street_of(address: str) -> list[str]:
    """Candidate folded street names in a postal address ("Rue Haute 320, 1000 Bruxelles")."""
    candidates = []
    for part in re.split(r"[,;(]", address or ""):
        for name in part.split(" / "):
            folded = fold(name)
            match = HOUSE_NUMBER_RE.match(folded)
            if match:
                candidates.append(match.group(1).strip())
            elif folded and not folded[0].isdigit():
                candidates.append(folded)
    return candidates
