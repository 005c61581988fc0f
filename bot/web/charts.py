"""Plots for the insights dashboard, drawn on the server as inline SVG (no script, no third-party asset).

Each function takes published figures (None is a suppressed figure) and
returns SVG markup with a title and a text alternative; the page puts the
same figures in a table under each plot. Suppressed figures are drawn as a
hatched stub labelled "suppressed", never as a length.
"""

from __future__ import annotations

import math
from html import escape
from typing import Optional, Sequence

from markupsafe import Markup

BAR = 26  # px per horizontal bar
LABEL = 190  # px for the labels of horizontal bars
WIDTH = 440  # the viewBox's width: on a 375 px phone a 14 px text stays about 12 px
COLOUR = "#2d2a4a"
SHADES = ("#ecebf5", "#c5c1e0", "#8f88c2", "#5a5196", "#2d2a4a")  # light to dark, for the map
HATCH = ('<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
         'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f2f2f2"/>'
         '<line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>')
SUPPRESSED = "suppressed"  # under 10, or hidden with one: it may be 10 or more


def shown(value: Optional[int]) -> str:
    """A published figure as text."""
    return SUPPRESSED if value is None else str(value)


def _svg(width: int, height: int, label: str, body: str) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
                  f'aria-label="{escape(label)}" class="chart">{HATCH}<title>{escape(label)}</title>{body}</svg>')


def hbars(rows: Sequence[tuple[str, Optional[int]]], label: str) -> Markup:
    """One horizontal bar per (label, value) shown; the suppressed ones together on one last line."""
    hidden = [name for name, value in rows if value is None]
    rows = [(name, value) for name, value in rows if value is not None]
    if hidden:
        rows.append(("others" if rows else "all", None))
    top = max([v for _, v in rows if v is not None] or [1])
    scale = (WIDTH - LABEL - 50) / top
    parts = []
    for i, (name, value) in enumerate(rows):
        y = i * BAR
        length = 8 if value is None else max(1.0, value * scale)
        fill = "url(#hatch)" if value is None else COLOUR
        parts.append(f'<text x="{LABEL - 6}" y="{y + 17}" text-anchor="end" font-size="16">{escape(name)}</text>'
                     f'<rect x="{LABEL}" y="{y + 4}" width="{length:.1f}" height="{BAR - 8}" fill="{fill}"/>'
                     f'<text x="{LABEL + length + 4:.1f}" y="{y + 17}" font-size="16">{escape(shown(value))}</text>')
    return _svg(WIDTH, max(BAR, len(rows) * BAR), label, "".join(parts))


def vbars(rows: Sequence[tuple[str, Optional[int]]], label: str) -> Markup:
    """One vertical bar per (label, value), left to right (weeks)."""
    height, base = 200, 170
    top = max([v for _, v in rows if v is not None] or [1])
    step = min(WIDTH / max(1, len(rows)), 70.0)
    parts = []
    for i, (name, value) in enumerate(rows):
        x = i * step + step * 0.15
        h = 8 if value is None else max(1.0, value * (base - 20) / top)
        fill = "url(#hatch)" if value is None else COLOUR
        parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" fill="{fill}"/>'
                     f'<text x="{x + step * 0.35:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" '
                     f'font-size="14">{escape(shown(value))}</text>'
                     f'<text x="{x + step * 0.35:.1f}" y="{base + 18}" text-anchor="middle" '
                     f'font-size="13">{escape(name[-3:])}</text>')
    return _svg(WIDTH, height, label, "".join(parts))


def _rings(geometry: dict) -> list:
    if geometry.get("type") == "Polygon":
        return list(geometry["coordinates"])
    if geometry.get("type") == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def choropleth(areas: Sequence[tuple[str, dict, Optional[int]]], label: str) -> Markup:
    """The municipalities (name, GeoJSON geometry, value), shaded by value; suppressed ones hatched."""
    points = [p for _, g, _ in areas for ring in _rings(g) for p in ring]
    if not points:
        return _svg(WIDTH, BAR, label, "")
    min_lon, max_lon = min(p[0] for p in points), max(p[0] for p in points)
    min_lat, max_lat = min(p[1] for p in points), max(p[1] for p in points)
    kx = math.cos(math.radians((min_lat + max_lat) / 2))
    scale = (WIDTH - 20) / ((max_lon - min_lon) * kx)
    height = int((max_lat - min_lat) * scale) + 20
    top = max([v for _, _, v in areas if v is not None] or [1])
    parts = []
    for name, geometry, value in areas:
        d = " ".join("M" + " L".join(f"{10 + (lon - min_lon) * kx * scale:.1f},{10 + (max_lat - lat) * scale:.1f}"
                                     for lon, lat, *_ in ring) + " Z" for ring in _rings(geometry))
        fill = "url(#hatch)" if value is None else SHADES[min(len(SHADES) - 1, int(len(SHADES) * value / (top + 1)))]
        parts.append(f'<path d="{d}" fill="{fill}" stroke="#fff" stroke-width="1.5">'
                     f'<title>{escape(name)}: {escape(shown(value))}</title></path>')
    return _svg(WIDTH, height, label, "".join(parts))
