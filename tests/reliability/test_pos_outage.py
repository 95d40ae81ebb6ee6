"""The outage table (docs/pos.md): Square down, answering 500, timing out, and the worker killed
between our save and Square's answer. Every order saved is in Square exactly once at the end,
with Square's totals equal to ours, and the caller never waited on Square.

Orders are saved in the real Firestore emulator and queued as actions/orders.py does; the
sender is the worker's own (`PosHandoff.run`), the SDK the official one, Square the fake."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from square import AsyncSquare

from actions.pos import PosHandoff, idempotency_key
from fakes import square as fake_square
from store import FirebaseManager
from store.outbox import Outbox
from store.pos_orders import pos_state
from testkit.records import make_order
from testkit.square import FakeSquare, serve_square
from tests.conftest import ROOT

TAX = 0.0625
ROWS: list[str] = []


@pytest.fixture
async def square() -> AsyncIterator[FakeSquare]:
    async with serve_square() as fake:
        yield fake


@dataclass
class Row:
    scenario: str
    orders: int
    in_square: int
    create_calls: int
    totals_match: int
    longest_enqueue_ms: float
    longest_to_square_s: float

    def line(self) -> str:
        return (f"| {self.scenario} | {self.orders} | {self.in_square} | {self.create_calls} | "
                f"{self.totals_match}/{self.orders} | {self.longest_enqueue_ms:.1f} | "
                f"{self.longest_to_square_s:.1f} |")


async def _settle(pos: PosHandoff, within_s: float) -> None:
    for _ in range(int(within_s / 0.2)):
        if not await pos.outbox.entries():
            return
        await asyncio.sleep(0.2)


async def _outcome(scenario: str, db: FirebaseManager, square: FakeSquare, orders: list,
                   enqueue_ms: list[float], queued_at: dict[str, float]) -> Row:
    by_ref = {}
    for made in square.orders():
        by_ref.setdefault(made["reference_id"], []).append(made)
    matches, waits = 0, []
    for order in orders:
        state = await pos_state(db, order.id)
        assert state is not None and state.state == "sent", (scenario, state)
        assert len(by_ref[order.order_number]) == 1, f"{scenario}: twice in Square"
        made = by_ref[order.order_number][0]
        matches += made["total_money"]["amount"] == order.total_cents
        waits.append(state.updated_at.timestamp() - queued_at[order.id])
    calls = sum(square.state.calls.values())
    return Row(scenario, len(orders), len(square.orders()), calls, matches, max(enqueue_ms),
               max(waits))


async def _run(scenario: str, db: FirebaseManager, square: FakeSquare, tmp_path: Path, *,
               fault: str, fault_s: float, gap_s: float, n: int = 10) -> Row:
    """n orders, one every gap_s, while Square has `fault` for fault_s; then it recovers."""
    client = AsyncSquare(token=fake_square.DEFAULT_TOKEN, base_url=square.url)
    pos = PosHandoff(client, fake_square.DEFAULT_LOCATION, Outbox(tmp_path / "pos.jsonl"),
                     db.for_restaurant, timeout_s=1.0)
    sender = asyncio.create_task(pos.run(interval_s=2.0))
    await square.fault(fault, delay_s=3.0)
    started = time.monotonic()
    orders, enqueue_ms, queued_at = [], [], {}
    try:
        for i in range(n):
            order = make_order(f"call-{scenario.split()[0]}-{i}", quantity=1 + i % 3)
            await db.save_order(order, order.created_at.date())
            t0 = time.perf_counter()
            await pos.enqueue(order, db.restaurant_id, TAX)  # what the caller waits for
            enqueue_ms.append((time.perf_counter() - t0) * 1000)
            queued_at[order.id] = time.time()
            orders.append(order)
            await asyncio.sleep(gap_s)
        await asyncio.sleep(max(0.0, fault_s - (time.monotonic() - started)))
        await square.fault("ok")
        await _settle(pos, within_s=30.0)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    return await _outcome(scenario, db, square, orders, enqueue_ms, queued_at)


def _report(row: Row) -> None:
    ROWS.append(row.line())
    print("\n| scenario | orders | in Square | create calls | totals match | longest enqueue "
          "(ms) | longest save -> Square (s) |\n|---|---|---|---|---|---|---|")
    print("\n".join(ROWS))


async def test_square_down_for_a_minute_during_ten_orders(db, square, tmp_path) -> None:
    row = await _run("down 60 s (503)", db, square, tmp_path, fault="down", fault_s=60.0,
                     gap_s=6.0)
    _report(row)
    assert (row.in_square, row.totals_match) == (10, 10)
    assert row.longest_enqueue_ms < 500  # the caller never waits on Square (a local fsync)


@pytest.mark.parametrize(("fault", "label"), [
    ("error500", "500 after creating, 10 s"), ("timeout", "no answer in 1 s, 10 s")])
async def test_square_answering_500_or_timing_out(db, square, tmp_path, fault, label) -> None:
    row = await _run(label, db, square, tmp_path, fault=fault, fault_s=10.0, gap_s=1.0)
    _report(row)
    assert (row.in_square, row.totals_match) == (10, 10)
    assert row.create_calls > row.in_square  # each was sent again, and made once


async def test_worker_killed_between_our_save_and_squares_answer(db, square, tmp_path) -> None:
    outbox = tmp_path / "pos.jsonl"
    await square.fault("timeout", delay_s=30.0)  # Square creates it and holds the answer
    env = {**os.environ, **square.env(str(outbox)), "FIRESTORE_EMULATOR_HOST":
           os.environ["FIRESTORE_EMULATOR_HOST"], "SQUARE_TIMEOUT_S": "60"}
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.reliability.pos_worker", "call-kill", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL)
    key = idempotency_key(db.restaurant_id, make_order("call-kill").id)
    try:
        for _ in range(600):
            if square.state.calls.get(key, 0) or worker.returncode is not None:
                break
            await asyncio.sleep(0.05)
        assert square.state.calls.get(key) == 1, "the worker's request never reached Square"
        worker.kill()  # SIGKILL: Square has the order, we never heard back
    finally:
        with contextlib.suppress(ProcessLookupError):
            worker.kill()
        await worker.wait()
    order = make_order("call-kill")
    assert (await pos_state(db, order.id)) is None  # nothing recorded before the kill
    assert len(Outbox(outbox)) == 1 and len(square.orders()) == 1
    await square.fault("ok")
    t0 = time.monotonic()
    client = AsyncSquare(token=fake_square.DEFAULT_TOKEN, base_url=square.url)
    restarted = PosHandoff(client, fake_square.DEFAULT_LOCATION, Outbox(outbox),
                           db.for_restaurant)
    assert await restarted.send_pending() == 1
    state = await pos_state(db, order.id)
    assert state is not None and state.state == "sent"
    assert [o["id"] for o in square.orders()] == [state.pos_order_id]
    assert state.pos_total_cents == order.total_cents
    _report(Row("worker SIGKILLed awaiting Square", 1, len(square.orders()),
                square.state.calls[key], 1, 0.0, time.monotonic() - t0))
