"""Import municipal polygons and police zones into the directory's seed.

`belgium_municipalities.topo.json` (bmesuere/belgium-topojson, CC0) is a
quantised TopoJSON; this module decodes its arcs and writes the 19 Brussels
municipalities as GeoJSON (`seed/municipalities.geojson`), with NIS code,
FR/NL names, postcodes and police zone, so that point-in-municipality works
offline.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

BRUSSELS_REGION_NIS = "04000"


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    scale = topology["transform"]["scale"]
    translate = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * scale[0] + translate[0], y * scale[1] + translate[1]))
        arcs.append(points)
    return arcs


def _ring(indexes: list[int], arcs: list) -> list[list[float]]:
    ring: list = []
    for index in indexes:
        points = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        ring.extend(points if not ring else points[1:])
    return [[round(x, 6), round(y, 6)] for x, y in ring]


def geometry(geom: dict, arcs: list) -> dict:
    if geom["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [_ring(r, arcs) for r in geom["arcs"]]}
    if geom["type"] == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [[_ring(r, arcs) for r in poly] for poly in geom["arcs"]]}
    raise ValueError(f"unsupported geometry {geom['type']}")


def brussels_municipalities(topojson: Path, municipalities_csv: Path, zones_csv: Path) -> dict:
    """A GeoJSON FeatureCollection of the 19 municipalities with their facts."""
    topology = json.loads(Path(topojson).read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    with Path(municipalities_csv).open(encoding="utf-8", newline="") as fh:
        facts = {r["name_fr"]: r for r in csv.DictReader(fh)}
    with Path(zones_csv).open(encoding="utf-8", newline="") as fh:
        zone_of = {}
        for zone in csv.DictReader(fh):
            for name in zone["municipalities_fr"].split(";"):
                zone_of[name.strip()] = zone["zone_code"]
    features = []
    for geom in topology["objects"]["municipalities"]["geometries"]:
        props = geom["properties"]
        if props["reg_nis"] != BRUSSELS_REGION_NIS:
            continue
        fact = facts[props["name_fr"]]
        postcodes = [p for p in fact["postcodes"].split(" ")[0].split(";") if p.isdigit()]
        features.append({
            "type": "Feature",
            "properties": {
                "nis": props["nis"], "name_fr": props["name_fr"], "name_nl": props["name_nl"],
                "postcodes": postcodes, "police_zone": zone_of.get(props["name_fr"], ""),
                "centroid": [float(fact["lat"]), float(fact["lon"])],
                "source": ("bmesuere/belgium-topojson belgium.json (CC0 1.0); "
                           "postcodes vandenbroucke/belgian_municipalities"),
            },
            "geometry": geometry(geom, arcs),
        })
    if len(features) != 19:
        raise ValueError(f"expected the 19 Brussels municipalities, found {len(features)}")
    return {"type": "FeatureCollection", "features": sorted(features, key=lambda f: f["properties"]["nis"])}


def police_zones(zones_csv: Path, checked: str) -> list[dict]:
    confidence = {"C": "confirmed", "P": "partly", "U": "unconfirmed"}
    with Path(zones_csv).open(encoding="utf-8", newline="") as fh:
        return [
            {"code": z["zone_code"], "name_fr": z["name_fr"], "name_nl": z["name_nl"],
             "municipalities": z["municipalities_fr"], "confidence": confidence[z["conf"]],
             "source": z["source"], "checked": checked}
            for z in csv.DictReader(fh)
        ]
