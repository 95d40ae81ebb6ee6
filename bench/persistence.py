"""Benchmark 5: committing a confirmed order and a booking against the Firestore emulator.

Each save is timed around the call the confirmation agent makes (`save_order`,
`book_reservation`), and the manager's RPC counter says how many round trips it took.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date
from datetime import time as dtime
from typing import Any

from bench.emulator import BENCH_ROOM, Firestore
from bench.stats import timing
from testkit.records import make_order, make_reservation

DAY = date(2026, 11, 20)
_EVENING = [dtime(h, m) for h in range(17, 21) for m in (0, 30)]


async def measure(fs: Firestore, n: int) -> dict[str, Any]:
    order_ms: list[float] = []
    booking_ms: list[float] = []
    order_rpcs: Counter[str] = Counter()
    booking_rpcs: Counter[str] = Counter()
    order_trips: list[int] = []
    booking_trips: list[int] = []
    async with fs.fresh(seed=False) as (db, _):
        for i in range(n + 3):  # the first few warm the channel and are not counted
            order = make_order(call_id=f"call-bench-{i}", seq=1, phone=f"+1617555{i % 10000:04d}")
            db.rpcs.reset()
            t0 = time.perf_counter()
            result = await db.save_order(order, DAY)
            elapsed = (time.perf_counter() - t0) * 1000
            if result.status != "saved":
                raise RuntimeError(f"order {order.id} not saved: {result.status}")
            if i >= 3:
                order_ms.append(elapsed)
                order_rpcs.update(db.rpcs.snapshot())
                order_trips.append(db.rpcs.total)
        for i in range(n + 3):
            at = _EVENING[i % len(_EVENING)]
            day = date(2026, 11, 21 + (i // (len(_EVENING) * 10)) % 7)
            res = make_reservation(call_id=f"call-bench-r{i}", seq=1, day=day, at=at, party=2)
            db.rpcs.reset()
            t0 = time.perf_counter()
            booked = await db.book_reservation(res, BENCH_ROOM, DAY)
            elapsed = (time.perf_counter() - t0) * 1000
            if booked.status != "saved":
                raise RuntimeError(f"booking {res.code} not saved: {booked.status}")
            if i >= 3:
                booking_ms.append(elapsed)
                booking_rpcs.update(db.rpcs.snapshot())
                booking_trips.append(db.rpcs.total)
    return {
        "order_commit_ms": timing(order_ms),
        "order_commit_round_trips": max(order_trips),
        "order_commit_rpcs": {k: v // n for k, v in sorted(order_rpcs.items())},
        "booking_commit_ms": timing(booking_ms),
        "booking_commit_round_trips": max(booking_trips),
        "booking_commit_rpcs": {k: v // n for k, v in sorted(booking_rpcs.items())},
    }
