"""Small geometry helpers: distances, bounding boxes, point in polygon.

Pure Python and exact enough for a city: haversine distance on a sphere of
radius 6,371,008.8 m (the mean Earth radius), errors well under 0.5 %.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

EARTH_RADIUS_M = 6_371_008.8
# Belgium's bounding box with a margin: coordinates outside are refused.
BELGIUM_BBOX = (49.45, 2.50, 51.55, 6.45)  # min_lat, min_lon, max_lat, max_lon
BRUSSELS_BBOX = (50.76, 4.24, 50.92, 4.49)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bbox_around(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a square holding the circle."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * max(0.01, math.cos(math.radians(lat)))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def valid_point(lat: object, lon: object) -> bool:
    return (isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and not isinstance(lat, bool)
            and not isinstance(lon, bool) and math.isfinite(lat) and math.isfinite(lon))


def in_bbox(lat: float, lon: float, bbox: Sequence[float]) -> bool:
    return bbox[0] <= lat <= bbox[2] and bbox[1] <= lon <= bbox[3]


def in_belgium(lat: float, lon: float) -> bool:
    return valid_point(lat, lon) and in_bbox(lat, lon, BELGIUM_BBOX)


def _in_ring(lat: float, lon: float, ring: Sequence[Sequence[float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def in_polygon(lat: float, lon: float, polygon: Iterable) -> bool:
    """GeoJSON Polygon coordinates ([lon, lat] rings, first outer, rest holes)."""
    rings = list(polygon)
    return bool(rings) and _in_ring(lat, lon, rings[0]) and not any(_in_ring(lat, lon, r) for r in rings[1:])


def in_geometry(lat: float, lon: float, geometry: dict) -> bool:
    if geometry["type"] == "Polygon":
        return in_polygon(lat, lon, geometry["coordinates"])
    if geometry["type"] == "MultiPolygon":
        return any(in_polygon(lat, lon, p) for p in geometry["coordinates"])
    return False


def geometry_bbox(geometry: dict) -> tuple[float, float, float, float]:
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    lons = [pt[0] for poly in polys for ring in poly for pt in ring]
    lats = [pt[1] for poly in polys for ring in poly for pt in ring]
    return min(lats), min(lons), max(lats), max(lons)
