#!/usr/bin/env python
"""Import the menu from Square's Catalog into our menu file format (docs/pos.md).

    python scripts/import_square_catalog.py --location L123 --out data/square-menu.yaml
    python scripts/import_square_catalog.py --location L123 --out m.yaml --base data/menu.yaml
    python scripts/import_square_catalog.py ... --check-orders --restaurant main
    python scripts/import_square_catalog.py --base data/casa.yaml --out data/casa-square.yaml
        # no --location: the base file's restaurant square_location_id, else SQUARE_LOCATION_ID
    python scripts/seed_menu.py data/square-menu.yaml      # then seed it as any menu file

Items, variations -> sizes, modifier lists -> option groups (required / min / max), prices in
cents, sold-out at the location (domain/pos_catalog.py). The restaurant's settings come from
`--base` (Square's catalog does not hold them). The file is validated exactly as seed_menu
validates it, and written only when the catalog maps completely; every problem is named.
Ids stay stable across imports through `<out>.square-ids.json` (Square id -> our id): keep it
beside the menu file. Items a re-import drops are listed, and with `--check-orders` so are the
open orders (Firestore) that still name them.

Uses SQUARE_ACCESS_TOKEN and SQUARE_BASE_URL (the worker's settings). Exit codes: 0 ok, 1 the
catalog or the location cannot be imported, 2 configuration error, 3 Square unreachable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config import ConfigError, square_settings  # noqa: E402
from domain.pos_catalog import ImportedMenu, import_catalog, read_id_map  # noqa: E402
from store.menu_file import MenuFileError, parse_menu_text  # noqa: E402

OPEN_ORDER_STATES = ("confirmed", "pending_staff_confirmation", "preparing", "ready")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--location", help="the Square location id (default: the --base file's "
                   "restaurant square_location_id, else SQUARE_LOCATION_ID)")
    p.add_argument("--out", type=Path, required=True, help="the menu file to write (.yaml)")
    p.add_argument("--base", type=Path, default=ROOT / "data" / "menu.yaml",
                   help="the menu file whose restaurant: settings are kept")
    p.add_argument("--ids", type=Path, help="the id map (default: <out>.square-ids.json)")
    p.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    p.add_argument("--check-orders", action="store_true",
                   help="name open orders (Firestore) that reference a dropped item")
    p.add_argument("--restaurant", default="main")
    return p


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def fetch_catalog(location: str) -> list[dict[str, Any]]:
    """Square's catalog through the official SDK; raises LookupError for an unknown location."""
    from square import Square
    from square.core.api_error import ApiError

    settings = square_settings()
    if settings.square_access_token is None:
        raise ConfigError("Configuration error: SQUARE_ACCESS_TOKEN is required (see "
                          ".env.example)")
    client = Square(token=settings.square_access_token.get_secret_value(),
                    base_url=settings.square_base_url or "https://connect.squareup.com",
                    timeout=settings.square_timeout_s)
    try:
        client.locations.get(location_id=location)
    except ApiError as e:
        if e.status_code == 404:
            raise LookupError(f"location {location} does not exist in this Square account"
                              ) from None
        raise
    return [o.model_dump(mode="json", exclude_none=True)
            for o in client.catalog.list(types="ITEM,MODIFIER_LIST,CATEGORY")]


def location_of(given: str | None, base: Path) -> str:
    """The location to import: --location, else the restaurant's own (its file's
    `restaurant: square_location_id`, several restaurants on one line), else SQUARE_LOCATION_ID;
    "" when none says."""
    if given:
        return given
    restaurant = (yaml.safe_load(base.read_text(encoding="utf-8")) or {}).get("restaurant") or {}
    return str(restaurant.get("square_location_id") or square_settings().square_location_id)


def menu_text(imported: ImportedMenu, base: Path) -> str:
    restaurant = (yaml.safe_load(base.read_text(encoding="utf-8")) or {}).get("restaurant")
    head = ("# Imported from Square's catalog by scripts/import_square_catalog.py: edit in "
            "Square and\n# import again. Ids stay stable through the .square-ids.json file "
            "beside this one.\n")
    body = yaml.safe_dump({"restaurant": restaurant, "items": imported.items},
                          allow_unicode=True, sort_keys=False, width=100)
    return head + body


def open_orders_naming(item_ids: list[str], restaurant: str) -> dict[str, list[str]]:
    """Order numbers of open orders that name each item id (Firestore, sync)."""
    from config import load_firestore_settings
    from store import close_sync_client, make_sync_client
    from store.menu_seed import scoped

    client = make_sync_client(load_firestore_settings())
    try:
        found: dict[str, list[str]] = {}
        for snap in scoped(client, restaurant).collection("orders").stream():
            order = snap.to_dict() or {}
            if order.get("status") not in OPEN_ORDER_STATES:
                continue
            for line in order.get("lines") or []:
                if line.get("item_id") in item_ids:
                    found.setdefault(line["item_id"], []).append(str(order.get("order_number")))
        return found
    finally:
        close_sync_client(client)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    ids_path = args.ids or args.out.with_name(args.out.name + ".square-ids.json")
    previous, _ = read_id_map(json.loads(ids_path.read_text())) if ids_path.exists() else ({},
                                                                                          {})
    location = location_of(args.location, args.base)
    if not location:
        _err("which Square location? --location, square_location_id under restaurant: in "
             f"{args.base}, or SQUARE_LOCATION_ID")
        return 2
    try:
        objects = fetch_catalog(location)
    except ConfigError as e:
        _err(str(e))
        return 2
    except LookupError as e:
        _err(str(e))
        return 1
    except Exception as e:  # the SDK's ApiError (5xx) or httpx's transport errors
        _err(f"Square is unreachable or refused the request: {e}")
        return 3
    imported = import_catalog(objects, location, previous)
    if imported.problems:
        for problem in imported.problems:
            _err(f"Square catalog: {problem}")
        _err(f"{len(imported.problems)} problem(s); nothing was written")
        return 1
    text = menu_text(imported, args.base)
    try:
        parse_menu_text(text, source=str(args.out), fmt="yaml")  # seed_menu's validation
    except MenuFileError as e:
        _err(str(e))
        _err(f"{len(e.problems)} problem(s); nothing was written")
        return 1
    if imported.dropped:
        print(f"dropped from the menu (no longer in Square at {location}): "
              f"{', '.join(imported.dropped)}")
        if args.check_orders:
            for item, numbers in open_orders_naming(imported.dropped, args.restaurant).items():
                print(f"  open orders still name {item}: {', '.join(numbers)}")
    sold_out = [i["id"] for i in imported.items if not i["available"]]
    print(f"{len(imported.items)} items ({len(sold_out)} sold out"
          f"{': ' + ', '.join(sold_out) if sold_out else ''}) -> {args.out}")
    if not args.dry_run:
        args.out.write_text(text, encoding="utf-8")
        ids_path.write_text(json.dumps(imported.id_map(), indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
