"""Command line over the directory library: `python -m directory COMMAND`.

  build                    build the database from the seed files (only if stale, unless --force)
  nearest                  nearest contact points to a place or coordinates
  search TEXT              full-text search (names, keywords, numbers)
  place TEXT               where a place is (gazetteer, then the geocoder)
  service ID               one service's facts
  stats                    what the database holds
  import-afmps FILE        refresh seed/pharmacies*.csv from the AFMPS xlsx or its JSON compilation
  import-all FOLDER        refresh every imported seed file from the research data folder
  export-seed              write the back office's edits and approved trainings into the seed files
  admin create-user NAME --role editor|coordinator
                           a back-office account (asks for its first password, or reads it with
                           --password-stdin); there is no default account and no default password
  admin set-password NAME  a new password (unlocks the account, ends its sessions)
  admin sign-out NAME      end every session of the account
  admin list               the accounts
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from pathlib import Path

from directory import languages
from directory.build import DEFAULT_DB, SEED, build, is_current
from directory.places import NotFound


def _print_json(value) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _place_or_point(args, directory) -> tuple:
    if args.lat is not None and args.lon is not None:
        return args.lat, args.lon, f"{args.lat}, {args.lon}"
    from bot import settings
    from directory.geocoder import find_place

    place = asyncio.run(find_place(directory, args.place or "", None, settings.load().geocoder()))
    if isinstance(place, NotFound):
        raise SystemExit(f"unknown place {args.place!r} ({place.reason})")
    return place.lat, place.lon, f"{place.name} ({place.precision}, {place.matched})"


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass(f"Password for {args.username}: ")
    if getpass.getpass("The same again: ") != first:
        raise SystemExit("error: the two passwords differ")
    return first


def _admin(args) -> int:
    """The back office's accounts (directory/curation.py), in RELAIS_CURATION_DB."""
    from bot import settings
    from directory.curation import Curation, CurationError, NotFound

    store = Curation(settings.load().curation_db)
    try:
        if args.action == "list":
            for row in store.accounts():
                print(f"{row['username']}\t{row['role']}\tcreated {row['created'][:10]}")
            return 0
        if not args.username:
            raise SystemExit(f"error: admin {args.action} needs a user name")
        if args.action == "create-user":
            if not args.role:
                raise SystemExit("error: --role editor or --role coordinator")
            store.create_user(args.username, _password(args), args.role)
            print(f"created {args.username} ({args.role})")
        elif args.action == "set-password":
            store.set_password(args.username, _password(args))
            print(f"new password for {args.username}; its sessions have ended")
        else:
            print(f"ended {store.end_sessions(args.username)} session(s) of {args.username}")
        return 0
    except NotFound:
        print(f"error: no account {args.username!r}", file=sys.stderr)
        return 1
    except CurationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m directory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="database file (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build")
    p.add_argument("--db", type=Path, default=argparse.SUPPRESS)
    p.add_argument("--force", action="store_true")
    p.add_argument("--pharmacies", type=Path, help="another pharmacy seed file (benchmarks)")
    p = sub.add_parser("nearest")
    p.add_argument("--place")
    p.add_argument("--lat", type=float)
    p.add_argument("--lon", type=float)
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--category", action="append", default=[])
    p.add_argument("--language", action="append", default=[])
    p.add_argument("--audience")
    p.add_argument("--open-now", action="store_true")
    p = sub.add_parser("search")
    p.add_argument("text")
    p.add_argument("--type", action="append", default=[], choices=["service", "pharmacy", "training"])
    p.add_argument("--category")
    p.add_argument("--limit", type=int, default=10)
    p = sub.add_parser("place")
    p.add_argument("text")
    p = sub.add_parser("service")
    p.add_argument("id")
    sub.add_parser("stats")
    p = sub.add_parser("import-afmps")
    p.add_argument("source", type=Path)
    p.add_argument("--checked", default=date.today().isoformat())
    p = sub.add_parser("import-all")
    p.add_argument("folder", type=Path)
    p.add_argument("--checked", default=date.today().isoformat())
    p = sub.add_parser("export-seed")
    p.add_argument("--seed", type=Path, default=SEED, help="the seed folder to write (default: %(default)s)")
    p = sub.add_parser("admin")
    p.add_argument("action", choices=["create-user", "set-password", "sign-out", "list"])
    p.add_argument("username", nargs="?")
    p.add_argument("--role", choices=["editor", "coordinator"])
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    args = parser.parse_args(argv)

    if args.command == "admin":
        return _admin(args)
    if args.command == "export-seed":
        from bot import settings
        from directory.export import export_seed

        cfg = settings.load()
        written = export_seed(cfg.db, cfg.curation_db, args.seed)
        print("wrote " + ", ".join(written) if written else "the seed already holds every edit")
        return 0

    if args.command == "build":
        if not args.force and not args.pharmacies and is_current(args.db):
            args.db.touch()  # newer than its seed for make, so nothing downstream is redone
            print(f"{args.db} is up to date")
            return 0
        from bot import settings

        print(f"built {build(args.db, pharmacies=args.pharmacies, curation_db=settings.load().curation_db)}")
        return 0
    if args.command == "import-afmps":
        from directory.importers import afmps

        rows = afmps.read(args.source, args.checked)
        n = afmps.write([r for r in rows if afmps.in_brussels(r)], SEED / "pharmacies.csv")
        total = afmps.write(rows, SEED / "pharmacies_belgium.csv")
        print(f"wrote {n} Brussels pharmacies (of {total} in Belgium) to {SEED}")
        return 0
    if args.command == "import-all":
        from directory.importers import import_all

        for name, count in import_all(args.folder, args.checked).items():
            print(f"{name}: {count}")
        return 0

    from directory.facts import Directory
    from directory.queries import QueryError

    directory = Directory(args.db)
    try:
        if args.command == "nearest":
            lat, lon, label = _place_or_point(args, directory)
            hits = directory.nearest(lat, lon, args.k, categories=args.category, languages=args.language,
                                     audience=args.audience, open_now=args.open_now)
            if args.json:
                _print_json([h.to_dict() for h in hits])
                return 0
            print(f"near {label}:")
            for h in hits:
                phone = f"  tel {h.phone}" if h.phone else ""
                print(f"{h.distance_m:>6} m  {h.name} — {h.address}, {h.postcode} {h.municipality}{phone}")
            if not hits:
                print("nothing found")
            return 0
        if args.command == "search":
            results = directory.search(args.text, doc_types=args.type, category=args.category, limit=args.limit)
            if args.json:
                _print_json(results)
                return 0
            for r in results:
                name = languages.pick(r["names"], languages.default())
                extra = f"tel {r['phone']}" if r.get("phone") else (r.get("address") or r.get("organiser") or "")
                print(f"[{r['type']}] {name} — {extra} (confidence: {r['confidence']}, checked {r['checked']})")
            if not results:
                print("nothing found")
            return 0
        if args.command == "place":
            from bot import settings
            from directory.geocoder import find_place

            place = asyncio.run(find_place(directory, args.text, None, settings.load().geocoder()))
            _print_json(place.__dict__)
            return 0 if hasattr(place, "lat") else 1
        if args.command == "service":
            service = directory.service(args.id)
            if service is None:
                print(f"no service {args.id!r}", file=sys.stderr)
                return 1
            _print_json({k: v for k, v in vars(service).items() if k != "texts"})
            return 0
        if args.command == "stats":
            tables = ["services", "locations", "places", "place_names", "trainings", "municipalities",
                      "postcodes", "police_zones"]
            stats = {t: directory.conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}
            stats["active_pharmacies"] = directory.conn.execute(
                "select count(*) from locations where kind = 'pharmacy' and status = 'ACTIVE'").fetchone()[0]
            stats.update({r[0]: r[1] for r in directory.conn.execute("select key, value from meta")})
            _print_json(stats)
            return 0
    except QueryError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        directory.close()
    return 2


if __name__ == "__main__":
    sys.exit(main())
