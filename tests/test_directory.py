"""Building the directory from its seed files, and what it refuses to store."""

from __future__ import annotations

import csv
import shutil

import pytest

from directory.build import ConfidentialLocationError, SEED, build, is_current
from directory.facts import Directory
from directory.importers.services import split_phone


def test_build_holds_the_helplines_with_sources(tmp_path):
    db = build(tmp_path / "d.db")
    directory = Directory(db)
    evc = directory.service("evc_0800")
    assert evc.phone == "0800 30 030"
    assert evc.confidence == "partly" and evc.checked and evc.source_urls.startswith("https://")
    assert "9 h à 19 h" in evc.text("hours", "fr")
    assert directory.service("emerg_112").phone == "112"
    assert directory.service("nope") is None
    assert is_current(db)


def test_no_shelter_address_is_stored(tmp_path):
    directory = Directory(build(tmp_path / "d.db"))
    rows = directory._conn.execute("select id, category, address from services").fetchall()
    shelters = [r for r in rows if "shelter" in r["category"] or "refuge" in r["category"]]
    assert shelters and all(r["address"] == "" for r in shelters)
    assert not [r for r in rows if "secret" in r["address"].lower()]


def test_a_shelter_address_in_the_seed_fails_the_build(tmp_path):
    seed = tmp_path / "seed"
    shutil.copytree(SEED, seed)
    path = seed / "services.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    shelter = next(r for r in rows if r["category"].startswith("shelter"))
    shelter["address"] = "Rue Exemple 1, 1000 Bruxelles"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(ConfidentialLocationError, match="shelter"):
        build(tmp_path / "d.db", seed)
    assert not (tmp_path / "d.db").exists()


def test_corrupt_or_missing_database_is_not_current(tmp_path):
    assert not is_current(tmp_path / "missing.db")
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    assert not is_current(bad)


@pytest.mark.parametrize(
    "raw, phone, note",
    [("112", "112", ""), ("0800 30 030", "0800 30 030", ""), ("02 535 45 42 (alt. 02 535 34 00)", "02 535 45 42", "alt. 02 535 34 00"),
     ("unconfirmed", "", "unconfirmed"), ("—", "", ""), ("0492 40 84 84 (WhatsApp/SMS only)", "0492 40 84 84", "WhatsApp/SMS only")],
)
def test_phone_field_split(raw, phone, note):
    assert split_phone(raw) == (phone, note)
