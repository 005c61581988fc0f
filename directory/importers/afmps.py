"""Import the official AFMPS/FAGG pharmacy list into `seed/pharmacies*.csv`.

Two input formats:
- the JSON compilation of jy95/pharmacies_BE (`belgium_pharmacies_afmps.json`),
  which carries both Lambert 2008 and WGS84 coordinates;
- the agency's own `Lst_Pharmacies_pub_Extended.xlsx`: a title row, a header
  row, one row per pharmacy (authorisation id, name, address, postcode,
  municipality, suspension, holder, operator, Lambert 2008 x and y, other),
  and a footer row. Coordinates are converted from Belgian Lambert 2008
  (EPSG:3812) to WGS84 with pyproj.

Every pharmacy is kept with its status: `TEMPORARILY_SUSPENDED` ones stay in
the data but are never suggested. The official list has no phone numbers
and no opening hours, so none are invented here.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from directory.importers.common import write_csv

COLUMNS = ["id", "name", "address", "postcode", "municipality", "status", "lat", "lon", "x_lambert2008",
           "y_lambert2008", "source", "checked"]
BRUSSELS_POSTCODES = range(1000, 1211)
SOURCE_JSON = ("AFMPS/FAGG Lst_Pharmacies_pub_Extended.xlsx via jy95/pharmacies_BE last-pharmacies_afmps.json "
               "(CC BY-NC-SA 4.0)")
SOURCE_XLSX = "AFMPS/FAGG Lst_Pharmacies_pub_Extended.xlsx"


@lru_cache(maxsize=1)
def _lambert_to_wgs84():
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:3812", "EPSG:4326", always_xy=True)


def lambert2008_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """(x, y) in Belgian Lambert 2008 -> (lat, lon) in WGS84."""
    lon, lat = _lambert_to_wgs84().transform(float(x), float(y))
    return lat, lon


def _title(text: str) -> str:
    return " ".join(str(text or "").split())


def from_json(path: Path, checked: str) -> Iterator[dict]:
    for item in json.loads(Path(path).read_text(encoding="utf-8")):
        wgs = next((g for g in item["geo"] if g["format"] == "epsg:4326"), None)
        lam = next((g for g in item["geo"] if g["format"] == "epsg:3812"), None)
        if wgs is None:
            if lam is None:
                raise ValueError(f"pharmacy {item['authorization_id']} has no coordinates")
            lat, lon = lambert2008_to_wgs84(lam["x"], lam["y"])
        else:
            lat, lon = wgs["latitude"], wgs["longitude"]
        yield {
            "id": f"afmps_{item['authorization_id']}",
            "name": _title(item["name"]),
            "address": _title(item["textual_address"]),
            "postcode": str(item["zipCode"]),
            "municipality": _title(item["municipality"]),
            "status": item["status"],
            "lat": round(float(lat), 6),
            "lon": round(float(lon), 6),
            "x_lambert2008": lam["x"] if lam else "",
            "y_lambert2008": lam["y"] if lam else "",
            "source": SOURCE_JSON,
            "checked": checked,
        }


def from_xlsx(path: Path, checked: str) -> Iterator[dict]:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True, data_only=True).active
    for row in sheet.iter_rows(values_only=True):
        if len(row) < 10 or not _is_number(row[0]) or not _is_number(row[8]) or not _is_number(row[9]):
            continue  # title, header and footer rows
        lat, lon = lambert2008_to_wgs84(row[8], row[9])
        yield {
            "id": f"afmps_{int(row[0])}",
            "name": _title(row[1]),
            "address": _title(row[2]),
            "postcode": str(int(row[3])) if _is_number(row[3]) else _title(row[3]),
            "municipality": _title(row[4]),
            "status": "ACTIVE" if row[5] in (None, "") else "TEMPORARILY_SUSPENDED",
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "x_lambert2008": float(row[8]),
            "y_lambert2008": float(row[9]),
            "source": SOURCE_XLSX,
            "checked": checked,
        }


def _is_number(value) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    try:
        float(str(value))
        return True
    except ValueError:
        return False


def read(path: Path, checked: str) -> list[dict]:
    """Pharmacies from a JSON compilation or an official xlsx file."""
    path = Path(path)
    rows = from_xlsx(path, checked) if path.suffix.lower() in (".xlsx", ".xlsm") else from_json(path, checked)
    return sorted(rows, key=lambda r: r["id"])


def in_brussels(row: dict) -> bool:
    return row["postcode"].isdigit() and int(row["postcode"]) in BRUSSELS_POSTCODES


def write(rows: Iterable[dict], target: Path) -> int:
    return write_csv(target, rows, COLUMNS)
