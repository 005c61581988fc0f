"""The importers that refresh the seed files from official sources."""

from __future__ import annotations

import json

from directory.build import SEED
from directory.importers import afmps


def test_xlsx_importer_converts_lambert_2008_like_the_official_wgs84(tmp_path):
    """Write an xlsx in the agency's layout from known pharmacies, then import it."""
    from openpyxl import Workbook

    sample = [
        # authorisation id, name, address, postcode, municipality, suspended, x, y, and official WGS84
        (1234567, "Pharmacie Test", "Rue Haute 1", 1000, "Bruxelles", None, 649266.0, 669930.0),
        (7654321, "Apotheek Proef", "Hoogstraat 2", 1030, "Schaerbeek", "2026-01-01", 651000.0, 673000.0),
    ]
    book = Workbook()
    sheet = book.active
    sheet.append(["Liste des pharmacies (update : 01-07-2026)"])
    sheet.append(["Autorisation", "Nom", "Adresse", "CP", "Commune", "Suspension", "Titulaire", "Exploitant",
                  "X Lambert 2008", "Y Lambert 2008", "Autre"])
    for aid, name, addr, cp, mun, susp, x, y in sample:
        sheet.append([aid, name, addr, cp, mun, susp, "HOLDER (KBO-BCE : 0123456789)", "Idem", x, y, None])
    sheet.append(["Temporarily suspended pharmacies are marked (update : 01-07-2026)"])
    path = tmp_path / "Lst_Pharmacies_pub_Extended.xlsx"
    book.save(path)
    rows = afmps.read(path, "2026-07-01")
    assert [r["id"] for r in rows] == ["afmps_1234567", "afmps_7654321"]
    assert rows[0]["status"] == "ACTIVE" and rows[1]["status"] == "TEMPORARILY_SUSPENDED"
    assert 50.8 < rows[0]["lat"] < 50.9 and 4.3 < rows[0]["lon"] < 4.4


def test_lambert_conversion_matches_the_official_coordinates():
    """The seed keeps both official coordinate sets: our conversion must agree with them."""
    import csv

    rows = list(csv.DictReader((SEED / "pharmacies_belgium.csv").open(encoding="utf-8")))
    assert len(rows) > 5000
    for row in rows[::25]:
        lat, lon = afmps.lambert2008_to_wgs84(float(row["x_lambert2008"]), float(row["y_lambert2008"]))
        assert abs(lat - float(row["lat"])) < 1e-5 and abs(lon - float(row["lon"])) < 1e-5, row["id"]


def test_pharmacies_fall_in_the_decoded_polygons():
    """The decoded polygons agree with the official pharmacy coordinates and addresses.

    Postal municipality names follow postcodes, not administrative borders
    (1050 "Ixelles" includes Avenue Louise, which is City of Brussels), so
    the address's municipality agrees less often than the region does.
    """
    import csv

    from directory import geo
    from directory.textnorm import fold

    features = json.loads((SEED / "municipalities.geojson").read_text())["features"]
    assert len(features) == 19
    by_name = {fold(f["properties"][k]): f for f in features for k in ("name_fr", "name_nl")}
    rows = list(csv.DictReader((SEED / "pharmacies.csv").open(encoding="utf-8")))
    in_region = sum(any(geo.in_geometry(float(r["lat"]), float(r["lon"]), f["geometry"]) for f in features)
                    for r in rows)
    named = [r for r in rows if fold(r["municipality"]) in by_name]
    agree = sum(geo.in_geometry(float(r["lat"]), float(r["lon"]), by_name[fold(r["municipality"])]["geometry"])
                for r in named)
    assert in_region / len(rows) > 0.97
    assert len(named) > 580 and agree / len(named) > 0.85


def test_every_seed_pharmacy_is_in_brussels_and_keeps_its_status():
    import csv

    rows = list(csv.DictReader((SEED / "pharmacies.csv").open(encoding="utf-8")))
    assert len(rows) == 592
    assert {r["status"] for r in rows} == {"ACTIVE", "TEMPORARILY_SUSPENDED"}
    assert all(1000 <= int(r["postcode"]) <= 1210 for r in rows)
    assert all(r["source"] and r["checked"] for r in rows)
