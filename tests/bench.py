"""Directory benchmarks: `make bench` (python -m tests.bench).

Measures, on this machine, and writes docs/benchmarks.md:
- database build time from the seed;
- nearest-5 pharmacies with a category filter, on the Brussels data (≈600
  rows), all Belgian pharmacies (≈5,000) and 100,000 synthetic locations
  (seeded, so every run measures the same data);
- full-text search, and place resolution in the gazetteer (no network).
Figures are wall-clock percentiles over many queries after a warm-up.
"""

from __future__ import annotations

import csv
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from directory.build import SEED, build
from directory.facts import Directory
from directory.geo import BRUSSELS_BBOX

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks.md"
TARGETS = {"nearest_brussels": 2.0, "nearest_100k": 10.0, "search": 5.0, "place": 5.0, "build": 10.0}
SEARCHES = ["GAMS", "EVA Schaerbeek", "numéro GAMS", "CPVS", "viol", "hulplijn", "formation MGF", "0800 30 030",
            "pharmacie josaphat", "apotheek", "Rainbowhouse", "trainings FGM social workers", "EVA Bruxelles-Nord",
            "écoute violences conjugales", "Praxis auteurs", "police", "1712", "Child Focus", "garance", "xyzzy"]
PLACES = ["1030", "Gare du Midi", "schaerbek", "metro Montgomery", "rue haute 320", "place Flagey", "Matonge",
          "sint gillis", "anderlecht station", "Bxl", "Zuidstation", "rue de la loi", "1180", "Ixelles",
          "grand place", "qwxzv plonk", "Chaussée de Wavre 100", "Molenbeek", "WSL", "Flageyplein"]


def write_section(name: str, text: str) -> None:
    """Replace one named section of docs/benchmarks.md, keeping the others."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    previous = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
    block = f"{start}\n{text.strip()}\n{end}"
    if start in previous and end in previous:
        before, rest = previous.split(start, 1)
        updated = before + block + rest.split(end, 1)[1]
    else:
        header = "# Benchmarks\n\nMade by `make bench`; each section says which command measured it.\n"
        updated = (previous.rstrip() if previous.strip() else header) + "\n\n" + block + "\n"
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(updated, encoding="utf-8")


async def warm_up(http, url: str, times: int = 3) -> None:
    """A few nearby searches through the chat endpoint, so the first measured ones find everything loaded."""
    import uuid

    for _ in range(times):
        await http.post(f"{url}/api/chat", json={"session": uuid.uuid4().hex, "message": "pharmacie 1030"})


def percentile(values: list, p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn, inputs, repeat: int = 1) -> list:
    for item in inputs[:20]:
        fn(item)  # warm-up
    samples = []
    for _ in range(repeat):
        for item in inputs:
            start = time.perf_counter()
            fn(item)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def synthetic_pharmacies(n: int, path: Path, seed: int = 20261122) -> Path:
    """n fake pharmacies spread over Belgium, denser around Brussels (seeded)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "name", "address", "postcode", "municipality", "status", "lat", "lon",
                         "x_lambert2008", "y_lambert2008", "source", "checked"])
        for i in range(n):
            if rng.random() < 0.3:
                lat = rng.uniform(BRUSSELS_BBOX[0], BRUSSELS_BBOX[2])
                lon = rng.uniform(BRUSSELS_BBOX[1], BRUSSELS_BBOX[3])
            else:
                lat = rng.uniform(49.5, 51.5)
                lon = rng.uniform(2.55, 6.4)
            status = "ACTIVE" if rng.random() > 0.06 else "TEMPORARILY_SUSPENDED"
            writer.writerow([f"syn_{i}", f"Synthetic {i}", f"Rue {i}", "1000", "Synthetic", status,
                             round(lat, 6), round(lon, 6), "", "", "synthetic benchmark data", "2026-11-22"])
    return path


def query_points(n: int = 1000, seed: int = 7) -> list:
    rng = random.Random(seed)
    return [(rng.uniform(50.79, 50.89), rng.uniform(4.29, 4.44)) for _ in range(n)]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    sqlite = __import__("sqlite3").sqlite_version
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}, SQLite {sqlite}"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        builds = []
        for i in range(3):
            start = time.perf_counter()
            build(tmp / f"b{i}.db")
            builds.append(time.perf_counter() - start)
        build_s = statistics.median(builds)
        datasets = [("Brussels pharmacies", SEED / "pharmacies.csv"),
                    ("all Belgian pharmacies", SEED / "pharmacies_belgium.csv"),
                    ("100,000 synthetic", synthetic_pharmacies(100_000, tmp / "synthetic.csv"))]
        points = query_points()
        results = {}
        for label, source in datasets:
            start = time.perf_counter()
            db = build(tmp / f"{source.stem}.db", pharmacies=source)
            built_in = time.perf_counter() - start
            d = Directory(db)
            count = d.conn.execute("select count(*) from locations").fetchone()[0]
            near = timed(lambda p, d=d: d.nearest(p[0], p[1], 5, categories=["pharmacy"]), points)
            search = timed(lambda q, d=d: d.search(q), SEARCHES, repeat=25)
            results[label] = (count, near, search, built_in)
            d.close()
        d = Directory(tmp / "b0.db")
        place = timed(d.resolve_place, PLACES, repeat=50)
        d.close()

    brussels = results["Brussels pharmacies"]
    big = results["100,000 synthetic"]
    checks = [
        ("nearest-5 pharmacies, Brussels data, p95", percentile(brussels[1], 95), TARGETS["nearest_brussels"], "ms"),
        ("nearest-5 pharmacies, 100,000 locations, p95", percentile(big[1], 95), TARGETS["nearest_100k"], "ms"),
        ("full-text search, Brussels data, p95", percentile(brussels[2], 95), TARGETS["search"], "ms"),
        ("place resolution (gazetteer), p95", percentile(place, 95), TARGETS["place"], "ms"),
        ("database build from the seed (median of 3)", build_s, TARGETS["build"], "s"),
    ]
    lines = [
        "## Directory (issue 3)", "",
        "Made by `make bench` (`python -m tests.bench`); wall-clock times after a warm-up.", "",
        f"Machine: {machine()}. Date: {date.today().isoformat()}.", "",
        "### Targets", "", "| what | measured | target | |", "|---|---|---|---|",
    ]
    for what, value, target, unit in checks:
        verdict = "met" if value <= target else "MISSED"
        lines.append(f"| {what} | {value:.2f} {unit} | ≤ {target:g} {unit} | {verdict} |")
    lines += ["", "### How the cost grows with the number of locations", "",
              "Nearest-5 with the `pharmacy` category filter, from 1,000 random points in Brussels; search over "
              f"{len(SEARCHES)} staff queries × 25. The R*Tree keeps `nearest` from scanning the table.", "",
              "| data | locations | build | nearest p50 | nearest p95 | search p50 | search p95 |",
              "|---|---|---|---|---|---|---|"]
    for label, (count, near, search, built_in) in results.items():
        lines.append(f"| {label} | {count:,} | {built_in:.1f} s | {percentile(near, 50):.2f} ms | "
                     f"{percentile(near, 95):.2f} ms | {percentile(search, 50):.2f} ms | "
                     f"{percentile(search, 95):.2f} ms |")
    lines += ["", "At 100,000 rows the search tail comes from words that every synthetic row carries "
              "(\"pharmacie\", \"apotheek\": all pharmacies are indexed with them), which FTS5 must rank across "
              "the whole table; queries on names and keywords stay near the p50.", "",
              f"Place resolution over {len(PLACES)} names × 50: p50 {percentile(place, 50):.3f} ms, "
              f"p95 {percentile(place, 95):.3f} ms, max {max(place):.2f} ms.", ""]
    write_section("directory", "\n".join(lines))
    print("\n".join(lines))
    return 0 if all(v <= t for _, v, t, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
