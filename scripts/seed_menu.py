#!/usr/bin/env python
"""Load the menu file into Firestore, or mark items sold out / available for the day.

    python scripts/seed_menu.py                     # upsert data/menu.yaml (idempotent)
    python scripts/seed_menu.py my-menu.json --dry-run
    python scripts/seed_menu.py --prune             # items missing from the file -> unavailable
    python scripts/seed_menu.py --sold-out pumpkin-loaf
    python scripts/seed_menu.py --available pumpkin-loaf
    python scripts/seed_menu.py --if-empty          # first start (docker compose setup)
    python scripts/seed_menu.py data/casa-lupita.yaml --restaurant casa-lupita
    python scripts/seed_menu.py --restaurant casa-lupita --sold-out tamales

Every command works on ONE restaurant: `--restaurant ID` (default `main`, the restaurant of a
single-restaurant deployment). Its data lives under `restaurants/ID/` and nothing here reads or
writes another restaurant's. Seeding also writes the directory entry `restaurants/ID` (name and
the `numbers:` that ring it), which the worker routes calls by.

The whole file is validated before anything is written. An item whose entry has no explicit
`available:` keeps the availability staff set in Firestore (so re-seeding after a price edit
does not bring back today's sold-out items). Uses the same settings as the worker
(FIREBASE_SERVICE_ACCOUNT_PATH or FIRESTORE_EMULATOR_HOST). Exit codes: 0 ok, 1 invalid file
or unknown item id, 2 configuration error, 3 Firestore unreachable.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config import ConfigError, load_firestore_settings  # noqa: E402
from models import DEFAULT_RESTAURANT_ID, check_restaurant_id  # noqa: E402
from store.menu_file import (  # noqa: E402
    MenuFileError,
    SeedPlan,
    load_menu_file,
)
from store.menu_seed import (  # noqa: E402
    UnknownItems,
    apply_menu,
    menu_is_empty,
    scoped,
    set_availability,
    write_plan,
)

if TYPE_CHECKING:

    from store.scope import RestaurantScope

# The Firestore libraries take most of the start-up time, so they are imported only once
# the file is valid: a file with mistakes is reported in well under a second.
DEFAULT_MENU = ROOT / "data" / "menu.yaml"


# ---------------------------------------------------------------- output


def _print_plan(plan: SeedPlan, *, dry_run: bool, verbose: bool) -> None:
    would = "would " if dry_run else ""
    for c in plan.changes:
        if c.kind == "added":
            print(f"{would}add        {c.path}")
        elif c.kind == "changed":
            print(f"{would}change     {c.path}: {', '.join(c.fields)}")
        elif c.kind == "unavailable":
            print(f"{would}mark unavailable  {c.path} (not in the file)")
        elif dry_run or verbose:
            print(f"unchanged  {c.path}")
    suffix = " (dry run: nothing written)" if dry_run else ""
    print(plan.summary() + suffix)


# ---------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("menu", nargs="?", type=Path, default=DEFAULT_MENU,
                   help="menu file (.yaml, .yml or .json); default data/menu.yaml")
    p.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    p.add_argument("--prune", action="store_true",
                   help="mark items that are in Firestore but not in the file unavailable")
    p.add_argument("--if-empty", action="store_true",
                   help="seed only when menu_items is empty (first start)")
    p.add_argument("--sold-out", action="append", default=[], metavar="ID",
                   help="mark an item sold out for now (repeatable); the file is not read")
    p.add_argument("--available", action="append", default=[], metavar="ID",
                   help="mark an item available again (repeatable); the file is not read")
    p.add_argument("--restaurant", default=DEFAULT_RESTAURANT_ID, metavar="ID",
                   help=f"the restaurant to work on (default {DEFAULT_RESTAURANT_ID!r})")
    p.add_argument("-v", "--verbose", action="store_true", help="also list unchanged documents")
    return p


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    toggles = bool(args.sold_out or args.available)
    overlap = set(args.sold_out) & set(args.available)
    if overlap:
        _err(f"--sold-out and --available both name {sorted(overlap)}; pick one")
        return 1

    try:
        check_restaurant_id(args.restaurant)
    except ValueError as e:
        _err(f"--restaurant: {e}")
        return 1

    menu = None
    if not toggles:
        try:  # validate the whole file before even connecting
            menu = load_menu_file(args.menu)
        except MenuFileError as e:
            _err(str(e))
            _err(f"{len(e.problems)} problem(s); nothing was written")
            return 1

    from google.api_core import exceptions as gexc

    from store import close_sync_client, make_sync_client

    try:
        client = make_sync_client(load_firestore_settings())
    except ConfigError as e:
        _err(str(e))
        return 2

    scope = scoped(client, args.restaurant)
    try:
        if toggles:
            return _toggle(scope, args)
        assert menu is not None
        if args.if_empty and not menu_is_empty(scope):
            print(f"restaurant {args.restaurant} already has menu items; nothing seeded "
                  "(--if-empty)")
            return 0
        plan = apply_menu(scope, menu, prune=args.prune, dry_run=args.dry_run)
        _print_plan(plan, dry_run=args.dry_run, verbose=args.verbose)
        return 0
    except (gexc.GoogleAPIError, OSError) as e:
        _err(f"Firestore is unreachable or refused the write: {e}")
        return 3
    finally:
        close_sync_client(client)


def _toggle(client: RestaurantScope, args: argparse.Namespace) -> int:
    try:
        plans = []
        if args.sold_out:
            plans.append(set_availability(client, args.sold_out, False, dry_run=True))
        if args.available:
            plans.append(set_availability(client, args.available, True, dry_run=True))
    except UnknownItems as e:
        _err(str(e))
        return 1
    would = "would " if args.dry_run else ""
    changed = 0
    for plan in plans:
        if not args.dry_run:
            write_plan(client, plan)
        for c in plan.changes:
            state = "sold out" if c.doc == {"available": False} else "available"
            if c.kind == "changed":
                changed += 1
                print(f"{c.id}: {would}mark {state}")
            else:
                print(f"{c.id}: already {'available' if c.id in args.available else 'sold out'}")
    print(f"{changed} changed" + (" (dry run: nothing written)" if args.dry_run else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
