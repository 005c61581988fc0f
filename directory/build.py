"""Build the directory database (SQLite, via sqlite-utils) from the seed files.

The build writes a new file beside the target and renames it into place, so a
running bot never reads a half-built database. It refuses to store a street
address for a shelter (`ConfidentialLocationError`).
"""

from __future__ import annotations

import csv
import hashlib
import os
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils
import yaml

SEED = Path(__file__).with_name("seed")
DEFAULT_DB = Path(__file__).with_name("relais.db")


class ConfidentialLocationError(ValueError):
    """Raised when an import tries to store a shelter's street address."""


def seed_digest(seed: Path = SEED) -> str:
    """A digest of every seed file, recorded in the database's `meta` table."""
    digest = hashlib.sha256()
    for path in sorted(seed.glob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def read_services(seed: Path = SEED) -> list[dict]:
    with (seed / "services.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_texts(seed: Path = SEED) -> list[dict]:
    data = yaml.safe_load((seed / "texts.yml").read_text(encoding="utf-8"))
    checked = str(data["checked"])
    rows = []
    for service_id, fields in data["services"].items():
        for field, by_lang in fields.items():
            for lang, text in by_lang.items():
                rows.append({"service_id": service_id, "field": field, "lang": lang,
                             "text": " ".join(str(text).split()), "checked": checked})
    return rows


def check_confidential(services: list[dict]) -> None:
    """Shelters are stored at municipality precision at most: no street address."""
    from directory.importers.services import is_shelter

    for row in services:
        if is_shelter(row) and row.get("address"):
            raise ConfidentialLocationError(
                f"service {row['id']!r} is a shelter: its street address must not be stored"
            )


def build(db_path: Path = DEFAULT_DB, seed: Path = SEED) -> Path:
    """Build the database at `db_path` from `seed`; returns the path."""
    services = read_services(seed)
    check_confidential(services)
    texts = read_texts(seed)
    known = {s["id"] for s in services}
    unknown = sorted({t["service_id"] for t in texts} - known)
    if unknown:
        raise ValueError(f"texts.yml names services that services.csv lacks: {unknown}")

    db_path = Path(db_path)
    tmp = db_path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    db = sqlite_utils.Database(tmp)
    db["services"].insert_all(services, pk="id")
    db["service_texts"].insert_all(texts, pk=("service_id", "field", "lang"),
                                   foreign_keys=[("service_id", "services", "id")])
    db["meta"].insert_all(
        [{"key": "seed_digest", "value": seed_digest(seed)},
         {"key": "built_at", "value": datetime.now(timezone.utc).isoformat(timespec="seconds")}],
        pk="key",
    )
    db.close()
    os.replace(tmp, db_path)
    return db_path


def is_current(db_path: Path = DEFAULT_DB, seed: Path = SEED) -> bool:
    """True when the database exists, opens and was built from the present seed."""
    try:
        db = sqlite_utils.Database(Path(db_path), strict=False) if Path(db_path).exists() else None
        if db is None:
            return False
        row = db.execute("select value from meta where key = 'seed_digest'").fetchone()
        return bool(row) and row[0] == seed_digest(seed)
    except Exception:  # a corrupt file is simply not current
        return False
