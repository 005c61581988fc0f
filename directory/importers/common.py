"""What every importer shares: writing a seed CSV file."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, Sequence


def write_csv(target: Path, rows: Iterable[dict], columns: Sequence[str]) -> int:
    """Write `rows` (dicts with these `columns`) as a UTF-8 CSV seed file; returns how many."""
    rows = list(rows)
    with Path(target).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
