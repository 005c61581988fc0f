"""Write the curated directory back to the seed files: `python -m directory export-seed` (issue 15).

Every field the back office changed, and every training it approved, is
written from the live directory into the seed file it came from, so a
deployment's curation can be reviewed as a diff and committed; after that, a
rebuild from the seed gives the same directory with nothing to replay. Only
the rows and keys that changed are rewritten: the CSV keeps its columns and
quoting, the YAML files keep their comments (ruamel.yaml, which Rasa already
installs, in round-trip mode).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from directory import languages
from directory.build import SEED
from directory.curation import FIELDS, Curation, read_value
from directory.hours import parse_week


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True  # type: ignore[assignment]
    y.width = 4096  # type: ignore[assignment]
    y.indent(mapping=2, sequence=4, offset=2)
    return y


class SeedFiles:
    """The seed files an export touches, loaded once and written back only when changed."""

    def __init__(self, seed: Path):
        self.seed = seed
        self.changed: set[str] = set()
        raw = (seed / "services.csv").read_text(encoding="utf-8")
        self.newline = "\r\n" if "\r\n" in raw else "\n"
        reader = csv.DictReader(io.StringIO(raw, newline=""))
        self.columns = list(reader.fieldnames or [])
        self.services = list(reader)
        self.yaml: dict[str, Any] = {name: _yaml().load((seed / f"{name}.yml").read_text(encoding="utf-8"))
                                     for name in ("schedules", "texts", "context", "trainings")}

    def service_row(self, service_id: str) -> dict:
        return next(row for row in self.services if row["id"] == service_id)

    def set_csv(self, service_id: str, column: str, value: str) -> None:
        row = self.service_row(service_id)
        if row[column] != value:
            row[column] = value
            self.changed.add("services.csv")

    def set_yaml(self, name: str, path: list, value: Any) -> None:
        """Set `value` at `path` in a YAML seed file, making the mappings on the way that it lacks."""
        node = self.yaml[name]
        for key in path[:-1]:
            if key not in node:
                node[key] = {}
            node = node[key]
        self.set_in(node, path[-1], value, name)

    def set_in(self, node, key: str, value: Any, name: str) -> None:
        if node.get(key) != value:
            node[key] = value
            self.changed.add(f"{name}.yml")

    def training(self, training_id: str):
        return next((t for t in self.yaml["trainings"]["trainings"] if t["id"] == training_id), None)

    def write(self) -> list[str]:
        if "services.csv" in self.changed:
            out = io.StringIO(newline="")
            writer = csv.DictWriter(out, fieldnames=self.columns, lineterminator=self.newline)
            writer.writeheader()
            writer.writerows(self.services)
            (self.seed / "services.csv").write_text(out.getvalue(), encoding="utf-8", newline="")
        for name, data in self.yaml.items():
            if f"{name}.yml" in self.changed:
                with open(self.seed / f"{name}.yml", "w", encoding="utf-8") as f:
                    _yaml().dump(data, f)
        return sorted(self.changed)


def export_seed(live_db: Path, curation_db: Path, seed: Path = SEED) -> list[str]:
    """Write every curated value and approved training into the seed files at `seed`; returns the files written."""
    from directory import proposals

    store = Curation(curation_db, live_db)
    files = SeedFiles(seed)
    live = sqlite3.connect(live_db)
    live.row_factory = sqlite3.Row
    try:
        edited = store.conn.execute("SELECT DISTINCT kind, record, field FROM changes").fetchall()
        for kind, record, name in ((r["kind"], r["record"], r["field"]) for r in edited):
            if (kind, name) not in FIELDS:
                continue
            value = read_value(live, kind, record, name)
            if kind == "service":
                _service(files, live, record, name, value)
            elif kind == "service_text":
                service_id, text_field, lang = record.split("/")
                files.set_yaml("texts", ["services", service_id, text_field, lang], value)
            elif kind == "context":
                context_id, lang = record.split("/")
                files.set_yaml("context", ["context", context_id, "text", lang], value)
                checked = live.execute("SELECT checked FROM context WHERE id = ? AND lang = ?",
                                       (context_id, lang)).fetchone()[0]
                files.set_yaml("context", ["context", context_id, "checked"], checked)
            elif kind == "training_text" and (entry := files.training(record.split("/")[0])) is not None:
                _, text_field, lang = record.split("/")
                texts = entry.setdefault(text_field, {})
                files.set_in(texts, lang, value, "trainings")
                entry_checked = live.execute("SELECT checked FROM trainings WHERE id = ?",
                                             (record.split("/")[0],)).fetchone()[0]
                files.set_in(entry, "checked", entry_checked, "trainings")
            elif kind == "training" and (entry := files.training(record)) is not None:
                if name != "checked":
                    files.set_in(entry, name, value, "trainings")
                entry_checked = live.execute("SELECT checked FROM trainings WHERE id = ?", (record,)).fetchone()[0]
                files.set_in(entry, "checked", entry_checked, "trainings")
        proposals.ensure(store.conn)
        for proposal in store.conn.execute("SELECT * FROM proposals WHERE status = 'approved' ORDER BY id"):
            if files.training(proposal["training_id"]) is None:
                _add_training(files, live, proposal["training_id"])
        return files.write()
    finally:
        live.close()
        store.close()


def _service(files: SeedFiles, live: sqlite3.Connection, service_id: str, name: str, value: str) -> None:
    if name in ("phone", "phone_note", "confidence", "address"):
        files.set_csv(service_id, name, value)
    elif name == "hours":
        files.set_csv(service_id, "hours_source", value)
        if value:
            files.set_yaml("schedules", ["schedules", service_id], _quoted_times(parse_week(value)))
    checked = live.execute("SELECT checked FROM services WHERE id = ?", (service_id,)).fetchone()[0]
    files.set_csv(service_id, "checked", checked[:10])


def _quoted_times(entry: dict) -> dict:
    """A schedules.yml entry whose times are written quoted ("09:00"): unquoted, the build's YAML 1.1 reader
    would take 17:00 for the number 1020."""
    for slot in entry.get("slots", []):
        slot["opens"], slot["closes"] = (DoubleQuotedScalarString(slot["opens"]),
                                         DoubleQuotedScalarString(slot["closes"]))
    return entry


def _add_training(files: SeedFiles, live: sqlite3.Connection, training_id: str) -> None:
    row = live.execute("SELECT * FROM trainings WHERE id = ?", (training_id,)).fetchone()
    if row is None:
        return
    codes = languages.codes()
    files.yaml["trainings"]["trainings"].append({
        "id": training_id, "title": {c: row[f"title_{c}"] for c in codes if row[f"title_{c}"]},
        "organiser": row["organiser"], "organiser_id": "", "audiences": json.loads(row["audiences"]),
        "topics": json.loads(row["topics"]), "languages": json.loads(row["languages"]),
        "format": {c: row[f"format_{c}"] for c in codes if row[f"format_{c}"]}, "url": row["url"],
        "source": row["source"], "confidence": row["confidence"], "checked": row["checked"]})
    files.changed.add("trainings.yml")
