"""Import helplines and services from the research CSV into `seed/services.csv`.

Input: `brussels_services.csv` (columns id, name_fr, name_nl, name_en,
category, phone, chat_or_online, hours, cost, languages, address, scope,
source_urls, conf, notes), each row citing its sources and carrying a
confidence mark (C confirmed, P partly, U unconfirmed).

Output keeps every fact with its source and confidence, splits the phone
field into the dialable number and its note, and never writes a street
address for a shelter: those rows keep their municipality at most.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from directory.build import is_shelter
from directory.importers.common import write_csv

CONFIDENCE = {"C": "confirmed", "P": "partly", "U": "unconfirmed"}
SEED_COLUMNS = [
    "id", "name_fr", "name_nl", "name_en", "category", "phone", "phone_note",
    "chat_or_online", "hours_source", "cost", "languages", "address", "scope",
    "source_urls", "confidence", "notes", "checked",
]
_PHONE = re.compile(r"^\+?\d[\d ]*\d|^\d")
_BLANK = {"", "—", "-", "unconfirmed"}


def split_phone(raw: str) -> tuple[str, str]:
    """("02 535 45 42 (alt. 02 535 34 00)") -> ("02 535 45 42", "alt. 02 535 34 00")."""
    raw = (raw or "").strip()
    if raw in _BLANK:
        return "", ("unconfirmed" if raw == "unconfirmed" else "")
    match = _PHONE.match(raw)
    if not match:
        return "", raw
    note = raw[match.end():].strip().strip("()").strip()
    return match.group(0).strip(), note


def convert(row: dict, checked: str) -> dict:
    phone, phone_note = split_phone(row["phone"])
    address = "" if row.get("address", "").strip() in _BLANK else row["address"].strip()
    if is_shelter(row):
        address = ""
    return {
        "id": row["id"].strip(),
        "name_fr": row["name_fr"].strip(),
        "name_nl": row["name_nl"].strip(),
        "name_en": row["name_en"].strip(),
        "category": row["category"].strip(),
        "phone": phone,
        "phone_note": phone_note,
        "chat_or_online": "" if row["chat_or_online"].strip() in _BLANK else row["chat_or_online"].strip(),
        "hours_source": "" if row["hours"].strip() in _BLANK else row["hours"].strip(),
        "cost": row["cost"].strip(),
        "languages": row["languages"].strip(),
        "address": address,
        "scope": row["scope"].strip(),
        "source_urls": row["source_urls"].strip(),
        "confidence": CONFIDENCE[row["conf"].strip()],
        "notes": row["notes"].strip(),
        "checked": checked,
    }


def import_services(source: Path, target: Path, checked: str) -> int:
    """Write the seed file; returns the number of rows."""
    with source.open(encoding="utf-8", newline="") as fh:
        rows = [convert(r, checked) for r in csv.DictReader(fh)]
    return write_csv(target, rows, SEED_COLUMNS)
