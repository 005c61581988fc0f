"""Import the offline gazetteer of Brussels into `seed/gazetteer.csv`.

Sources (see the data notice, `seed/NOTICE.md`): STIB-MIVB stops, iRail
stations (CC0), OpenStreetMap streets, squares, neighbourhoods and public
points of interest (ODbL). The import keeps one point per stop name (STIB
lists every platform), stations inside the region, streets and places as they
are, and only public kinds of points of interest (hospitals, town halls,
universities, museums...): shops and restaurants would only add false matches.
Postcode points are not imported (their source has no licence); the build
derives them from the pharmacy addresses instead.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path
from typing import Iterator

from directory import geo
from directory.importers.common import write_csv

COLUMNS = ["id", "kind", "name", "name_fr", "name_nl", "name_en", "category", "lat", "lon", "source"]
# The Brussels-Capital Region's bounding box, with a small margin.
PUBLIC_POI = {
    "amenity=hospital", "amenity=clinic", "amenity=townhall", "amenity=university", "amenity=college",
    "amenity=library", "amenity=police", "amenity=courthouse", "amenity=community_centre",
    "amenity=marketplace", "amenity=social_facility", "amenity=theatre", "amenity=arts_centre",
    "amenity=cinema", "tourism=museum", "tourism=attraction", "leisure=park", "leisure=sports_centre",
    "leisure=stadium", "railway=station", "railway=halt", "shop=mall", "historic=monument",
}
SMALL_WORDS = {"de", "du", "des", "la", "le", "les", "l", "d", "van", "der", "den", "het", "ten", "en", "et", "aux",
               "au", "sur"}
SOURCE = {
    "stop": "STIB-MIVB open data, stop-details-production (2024-05), STIB-MIVB Open Data Licence",
    "station": "iRail stations.csv (CC0 1.0)",
    "osm": "© OpenStreetMap contributors (ODbL 1.0)",
}


def in_region(lat: float, lon: float) -> bool:
    return geo.in_bbox(lat, lon, geo.BRUSSELS_BBOX)


def title(name: str) -> str:
    """'GARE DU MIDI' -> 'Gare du Midi'; leaves mixed-case names alone."""
    if not name or not name.isupper():
        return name
    parts = re.split(r"(\W+)", name.lower())
    out = []
    for i, part in enumerate(parts):
        if part.isalpha() and (i == 0 or part not in SMALL_WORDS):
            part = part[0].upper() + part[1:]
        out.append(part)
    return "".join(out)


def stops(path: Path) -> Iterator[dict]:
    groups: dict = defaultdict(list)
    with Path(path).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            groups[(row["name_fr"].strip(), row["name_nl"].strip())].append((float(row["lat"]), float(row["lon"])))
    for i, ((fr, nl), points) in enumerate(sorted(groups.items())):
        lat = sum(p[0] for p in points) / len(points)
        lon = sum(p[1] for p in points) / len(points)
        fr_t, nl_t = title(fr), title(nl)
        yield {"id": f"stib_{i}", "kind": "stop", "name": fr_t if fr_t == nl_t else f"{fr_t} - {nl_t}",
               "name_fr": fr_t, "name_nl": nl_t, "name_en": "", "category": "public_transport=stop",
               "lat": round(lat, 6), "lon": round(lon, 6), "source": SOURCE["stop"]}


def stations(path: Path) -> Iterator[dict]:
    with Path(path).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            lat, lon = float(row["latitude"]), float(row["longitude"])
            if not in_region(lat, lon):
                continue
            yield {"id": "irail_" + row["URI"].rsplit("/", 1)[-1], "kind": "station", "name": row["name"],
                   "name_fr": row["alternative-fr"] or row["name"], "name_nl": row["alternative-nl"] or row["name"],
                   "name_en": row["alternative-en"], "category": "railway=station",
                   "lat": round(lat, 6), "lon": round(lon, 6), "source": SOURCE["station"]}


def osm(path: Path) -> Iterator[dict]:
    with Path(path).open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            kind = row["kind"]
            if kind == "postcode" or (kind == "poi" and row["category"] not in PUBLIC_POI):
                continue
            lat, lon = float(row["lat"]), float(row["lon"])
            if not row["name"] or not in_region(lat, lon):
                continue
            yield {"id": f"osm_{i}", "kind": kind, "name": row["name"], "name_fr": row["name_fr"],
                   "name_nl": row["name_nl"], "name_en": "", "category": row["category"],
                   "lat": round(lat, 6), "lon": round(lon, 6), "source": SOURCE["osm"]}


def import_gazetteer(folder: Path, target: Path) -> int:
    folder = Path(folder)
    rows = [*stations(folder / "irail_stations_be.csv"), *stops(folder / "stib_stops_2024-05.csv"),
            *osm(folder / "brussels_osm_streets_pois.csv")]
    return write_csv(target, rows, COLUMNS)
