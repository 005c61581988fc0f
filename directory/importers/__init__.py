"""Importers that turn sourced source data into the directory's seed files.

`import_all(shared_data, checked)` refreshes every seed file that comes from
the research data folder (`../shared/data` in development); hand-written
seed files (texts, taxonomy, schedules, trainings, aliases, NOTICE) are
left alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from directory.importers.common import write_csv

SEED = Path(__file__).resolve().parent.parent / "seed"


def import_all(shared: Path, checked: str, seed: Path = SEED) -> dict:
    from directory.importers import afmps, gazetteer, geography, services

    shared = Path(shared)
    counts = {"services": services.import_services(shared / "brussels_services.csv", seed / "services.csv", checked)}
    pharmacies = afmps.read(shared / "belgium_pharmacies_afmps.json", checked)
    counts["pharmacies"] = afmps.write([p for p in pharmacies if afmps.in_brussels(p)], seed / "pharmacies.csv")
    counts["pharmacies_belgium"] = afmps.write(pharmacies, seed / "pharmacies_belgium.csv")
    collection = geography.brussels_municipalities(
        shared / "belgium_municipalities.topo.json", shared / "brussels_municipalities.csv",
        shared / "brussels_police_zones.csv")
    (seed / "municipalities.geojson").write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    counts["municipalities"] = len(collection["features"])
    zones = geography.police_zones(shared / "brussels_police_zones.csv", checked)
    counts["police_zones"] = write_csv(seed / "police_zones.csv", zones, list(zones[0]))
    counts["gazetteer"] = gazetteer.import_gazetteer(shared / "gazetteer", seed / "gazetteer.csv")
    return counts
