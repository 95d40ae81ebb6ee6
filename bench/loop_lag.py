"""Benchmark 4: how long the event loop is kept from running while calls save to Firestore.

A probe task sleeps 5 ms over and over and records how late it wakes up; meanwhile several
scripted calls (bench/calls.py) run on the same loop, each confirming orders and bookings
against the real emulator. In the worker each call has its own job process and loop, so
several calls on one loop is the harsher case.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.calls import cycle
from bench.emulator import Firestore
from bench.stats import percentile
from bench.turns import TurnResults, run_call

PROBE_S = 0.005


async def _probe(stop: asyncio.Event, lags: list[float]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(PROBE_S)
        lags.append(max(0.0, (time.perf_counter() - t0 - PROBE_S) * 1000))


async def measure(fs: Firestore, concurrent_calls: int, cycles: int) -> dict[str, Any]:
    lags: list[float] = []
    async with fs.fresh() as (db, catalog):
        async def caller(k: int) -> None:
            for c in range(cycles):
                for script in cycle(1000 + k * cycles + c):
                    await run_call(fs, script, TurnResults(), db, catalog)

        stop = asyncio.Event()
        probe = asyncio.create_task(_probe(stop, lags))
        t0 = time.perf_counter()
        try:
            await asyncio.wait_for(
                asyncio.gather(*(caller(k) for k in range(concurrent_calls))), 600)
        finally:
            stop.set()
            await probe
        wall = time.perf_counter() - t0
    return {
        "loop_lag_ms": {
            "p50": round(percentile(lags, 50), 2), "p99": round(percentile(lags, 99), 2),
            "max": round(max(lags), 2), "n": len(lags),
        },
        "loop_lag_setup": {"concurrent_calls": concurrent_calls,
                           "calls": concurrent_calls * cycles * len(cycle(0)),
                           "probe_sleep_ms": PROBE_S * 1000, "seconds": round(wall, 1)},
    }
