"""Command line over the directory library: `python -m directory COMMAND`.

  build            build the database from the seed files (only if stale, unless --force)
  import-services  refresh seed/services.csv from a research CSV
  service ID       show one service's facts
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from directory.build import DEFAULT_DB, SEED, build, is_current


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m directory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="database file (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="build the database from the seed files")
    p_build.add_argument("--db", type=Path, default=argparse.SUPPRESS)
    p_build.add_argument("--force", action="store_true", help="rebuild even when current")
    p_imp = sub.add_parser("import-services", help="refresh seed/services.csv from a research CSV")
    p_imp.add_argument("source", type=Path)
    p_imp.add_argument("--checked", default=date.today().isoformat(), help="date the sources were checked")
    p_svc = sub.add_parser("service", help="show one service")
    p_svc.add_argument("id")
    args = parser.parse_args(argv)

    if args.command == "build":
        if not args.force and is_current(args.db):
            args.db.touch()  # newer than its seed for make, so nothing downstream is redone
            print(f"{args.db} is up to date")
            return 0
        path = build(args.db)
        print(f"built {path}")
        return 0
    if args.command == "import-services":
        from directory.importers.services import import_services

        count = import_services(args.source, SEED / "services.csv", args.checked)
        print(f"wrote {count} services to {SEED / 'services.csv'}")
        return 0
    if args.command == "service":
        from directory.facts import Directory

        service = Directory(args.db).service(args.id)
        if service is None:
            print(f"no service {args.id!r}", file=sys.stderr)
            return 1
        for key, value in vars(service).items():
            print(f"{key}: {value}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
