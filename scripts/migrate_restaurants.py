#!/usr/bin/env python
"""Move a single-restaurant database into the per-restaurant layout (restaurants/{rid}/…).

    python scripts/migrate_restaurants.py                      # dry run: what would move
    python scripts/migrate_restaurants.py --apply              # copy into restaurants/main/
    python scripts/migrate_restaurants.py --apply --delete-source   # …and remove the old copies
    python scripts/migrate_restaurants.py --restaurant harbor-street --apply

Before restaurants existed, the menu, settings, orders, reservations, slots, customers,
messages, call logs and analytics lived at the top of the database. This copies each of those
documents to the same path under `restaurants/<ID>/` (default `main`, the restaurant a
single-restaurant deployment answers as), writes the directory entry `restaurants/<ID>` when
missing, and, with --delete-source, deletes the top-level originals that have a copy.

Idempotent: a document whose copy already exists with the same content is "already moved" and
left alone, so a second run (or a run after an interrupted one) only finishes the job. A copy
whose content differs (written by the new worker meanwhile) is a conflict: neither side is
touched, the source is kept, and the exit status is 1. Nothing is written without --apply.
Exit status: 0 done (or nothing to do), 1 conflicts, 2 configuration error, 3 Firestore error.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config import ConfigError, load_firestore_settings  # noqa: E402
from models import (  # noqa: E402
    DEFAULT_RESTAURANT_ID,
    RESTAURANT_COLLECTIONS,
    RESTAURANTS,
    SETTINGS_DOC,
    check_restaurant_id,
)

BATCH_LIMIT = 400
TIMEOUT = 20.0
Action = Literal["copy", "already moved", "conflict"]


@dataclass(frozen=True)
class Move:
    source: str
    target: str
    action: Action
    data: dict[str, Any]


def plan_moves(client: Any, restaurant_id: str) -> list[Move]:
    """Every top-level restaurant document and what migrating it means (reads only)."""
    prefix = f"{RESTAURANTS}/{check_restaurant_id(restaurant_id)}"
    moves: list[Move] = []
    for name in RESTAURANT_COLLECTIONS:
        sources = list(client.collection(name).stream(timeout=TIMEOUT))
        if not sources:
            continue
        targets = {s.id: s for s in client.collection(f"{prefix}/{name}").stream(timeout=TIMEOUT)}
        for snap in sources:
            data = snap.to_dict() or {}
            target = targets.get(snap.id)
            if target is None:
                action: Action = "copy"
            elif (target.to_dict() or {}) == data:
                action = "already moved"
            else:
                action = "conflict"
            moves.append(Move(f"{name}/{snap.id}", f"{prefix}/{name}/{snap.id}", action, data))
    return moves


def apply_moves(client: Any, moves: list[Move], *, delete_source: bool) -> None:
    """Copies first (all of them), deletes after: an interruption never loses a document."""
    copies = [m for m in moves if m.action == "copy"]
    for start in range(0, len(copies), BATCH_LIMIT):
        batch = client.batch()
        for m in copies[start:start + BATCH_LIMIT]:
            batch.create(client.document(m.target), m.data)  # never over a newer document
        batch.commit(timeout=TIMEOUT)
    if delete_source:
        done = [m for m in moves if m.action in ("copy", "already moved")]
        for start in range(0, len(done), BATCH_LIMIT):
            batch = client.batch()
            for m in done[start:start + BATCH_LIMIT]:
                batch.delete(client.document(m.source))
            batch.commit(timeout=TIMEOUT)


def ensure_directory_entry(client: Any, restaurant_id: str, *, dry_run: bool) -> str | None:
    """Writes restaurants/<ID> (name from the settings, no numbers: the catch-all) if missing."""
    entry = client.document(f"{RESTAURANTS}/{restaurant_id}")
    if entry.get(timeout=TIMEOUT).exists:
        return None
    settings = client.document(f"{RESTAURANTS}/{restaurant_id}/{SETTINGS_DOC}").get(
        timeout=TIMEOUT)
    if not settings.exists:
        settings = client.document(SETTINGS_DOC).get(timeout=TIMEOUT)
    name = str((settings.to_dict() or {}).get("name", "")) if settings.exists else ""
    if not dry_run:
        entry.set({"name": name, "numbers": []}, timeout=TIMEOUT)
    return f"{RESTAURANTS}/{restaurant_id}"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--restaurant", default=DEFAULT_RESTAURANT_ID, metavar="ID",
                   help="the restaurant the old data belongs to (default main)")
    p.add_argument("--apply", action="store_true", help="write (without it: a dry run)")
    p.add_argument("--delete-source", action="store_true",
                   help="with --apply: delete the top-level documents that have their copy")
    p.add_argument("-v", "--verbose", action="store_true", help="list every document")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        check_restaurant_id(args.restaurant)
    except ValueError as e:
        print(f"--restaurant: {e}", file=sys.stderr)
        return 2
    if args.delete_source and not args.apply:
        print("--delete-source needs --apply (run the dry run without both first)",
              file=sys.stderr)
        return 2

    from google.api_core import exceptions as gexc

    from store import close_sync_client, make_sync_client

    try:
        client = make_sync_client(load_firestore_settings())
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2
    dry = not args.apply
    would = "would " if dry else ""
    try:
        moves = plan_moves(client, args.restaurant)
        for m in moves:
            if m.action == "conflict":
                print(f"CONFLICT   {m.source}: {m.target} exists with other content; both kept")
            elif args.verbose or m.action == "copy":
                print(f"{would}{m.action:<13} {m.source} -> {m.target}")
        entry = ensure_directory_entry(client, args.restaurant, dry_run=dry)
        if entry:
            print(f"{would}create directory entry {entry}")
        if not dry:
            apply_moves(client, moves, delete_source=args.delete_source)
    except (gexc.GoogleAPIError, OSError) as e:
        print(f"Firestore is unreachable or refused the write: {e}", file=sys.stderr)
        return 3
    finally:
        close_sync_client(client)
    counts = Counter(m.action for m in moves)
    deleted = counts["copy"] + counts["already moved"] if args.delete_source else 0
    print(f"{would}copy {counts['copy']}, already moved {counts['already moved']}, "
          f"conflicts {counts['conflict']}, {would}delete {deleted} top-level"
          + (" (dry run: nothing written; run again with --apply)" if dry else ""))
    return 1 if counts["conflict"] else 0


if __name__ == "__main__":
    sys.exit(main())
