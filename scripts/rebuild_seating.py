#!/usr/bin/env python
"""Give the bookings made before the seating model their tables (one-off, idempotent).

    python scripts/rebuild_seating.py                     # dry run, every restaurant
    python scripts/rebuild_seating.py --apply             # write the holds
    python scripts/rebuild_seating.py --restaurant main --from 2026-12-01 --apply

Since the seating model (domain/seating.py), a booking holds its table(s) or seats for its
whole meal in its day's `seating/{day}` document, and every new booking is decided against
those holds. A booking made before that has no hold there: the room looks emptier than it is.
This places each such upcoming booking (not cancelled, finished or a no-show; oldest made
first, as they were taken) exactly as a booking would be placed now (`SeatingPlan.fit`, one
conditional commit per booking, a late meal in both nights' documents). A booking that
already holds its place is left alone, so a second run (or one after an interrupted run) does
nothing more. A booking the room has no place for is listed and left for staff (exit 1).
Nothing is written without --apply. Only codes, days, times and party sizes are printed.
Exit status: 0 done (or nothing to do), 1 bookings without a place, 2 configuration error,
3 Firestore error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config import ConfigError, load_firestore_settings  # noqa: E402
from domain.seating import Hold, day_parts, minute_of, with_next_day  # noqa: E402
from models import Reservation, check_restaurant_id  # noqa: E402
from store import FirebaseManager  # noqa: E402

SAID = {"held": "already held", "placed": "placed", "full": "NO PLACE", "gone": "no longer active"}


async def rebuild(db: FirebaseManager, from_day: date | None, *, apply: bool,
                  ) -> list[tuple[str, Reservation]]:
    """(what happened or would happen, booking) for every active booking from `from_day`
    (default: today where the restaurant is)."""
    settings = await db.load_restaurant_settings()
    if settings is None:
        return []
    plan = settings.seating
    since = from_day or datetime.now(settings.tz).date()
    rooms: dict[date, list[Hold]] = {}

    async def held_on(day: date) -> list[Hold]:
        if day not in rooms:
            rooms[day] = await db.holds_on(day)
        return rooms[day]

    done: list[tuple[str, Reservation]] = []
    for res in await db.active_reservations(since):
        nxt = res.date + timedelta(days=1)
        if any(h.code == res.code for h in await held_on(res.date)):
            done.append(("held", res))
            continue
        seat = plan.fit(with_next_day(await held_on(res.date), await held_on(nxt)),
                        minute_of(res.time), res.party_size)
        if seat is None:
            done.append(("full", res))
            continue
        if apply:
            done.append((await db.seat_unheld(res.code, plan), res))
            rooms.pop(res.date), rooms.pop(nxt)  # read again as committed
            continue
        own, carried = day_parts(Hold(res.code, minute_of(res.time), seat.minutes,
                                      res.party_size, seat.tables))
        rooms[res.date].append(own)
        if carried is not None:
            rooms[nxt].append(carried)
        done.append(("placed", res))
    return done


async def run(restaurants: list[str] | None, from_day: date | None, *, apply: bool) -> int:
    from google.api_core import exceptions as gexc

    from store import PersistenceUnavailable, connect
    from store.directory import restaurant_ids

    try:
        db = await connect(load_firestore_settings())
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2
    would = "" if apply else "would be "
    counts: Counter[str] = Counter()
    try:
        for rid in restaurants or await restaurant_ids(db.client):
            for action, res in await rebuild(db.for_restaurant(rid), from_day, apply=apply):
                counts[action] += 1
                if action != "held":
                    print(f"{rid}: {res.code} {res.date.isoformat()} "
                          f"{res.time.strftime('%H:%M')} party {res.party_size}: "
                          f"{would if action == 'placed' else ''}{SAID[action]}")
    except (gexc.GoogleAPIError, PersistenceUnavailable, OSError) as e:
        print(f"Firestore is unreachable or refused the write: {e}", file=sys.stderr)
        return 3
    finally:
        await db.close()
    print(f"{would}placed {counts['placed']}, already held {counts['held']}, "
          f"no place {counts['full']}"
          + ("" if apply else " (dry run: nothing written; run again with --apply)"))
    return 1 if counts["full"] else 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--restaurant", action="append", metavar="ID",
                   help="only this restaurant (repeatable; default: every restaurant)")
    p.add_argument("--from", dest="from_day", type=date.fromisoformat, metavar="YYYY-MM-DD",
                   help="bookings from this day on (default: today where the restaurant is)")
    p.add_argument("--apply", action="store_true", help="write (without it: a dry run)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        for rid in args.restaurant or []:
            check_restaurant_id(rid)
    except ValueError as e:
        print(f"--restaurant: {e}", file=sys.stderr)
        return 2
    return asyncio.run(run(args.restaurant, args.from_day, apply=args.apply))


if __name__ == "__main__":
    sys.exit(main())
