"""Firestore stops in the middle of a call and comes back later (empty: the emulator keeps
data in memory). The caller is told the truth, the order or booking is not lost, and the
outbox replays it exactly once after the restart; the call log too."""

from __future__ import annotations

import asyncio
import time

import pytest

from models import Order
from store import FirebaseManager
from testkit.emulator import Emulator
from testkit.scripted_llm import Call
from testkit.seating import seated_at
from tests.conversation.harness import CALLER, NOW, count_docs, open_call, tool_output

pytestmark = pytest.mark.usefixtures("settle_tasks")


async def eventually(check, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.3)


def answers(db: FirebaseManager):
    async def check() -> bool:
        try:
            await db.get_analytics(NOW.date())
            return True
        except Exception:
            return False

    return check


async def restart_and_drain(emu: Emulator, db: FirebaseManager) -> None:
    """Firestore comes back; the worker's background replayer empties the outbox."""
    await asyncio.to_thread(emu.restart)
    await eventually(answers(db))
    replayer = asyncio.create_task(db.run_outbox_replayer(interval_s=0.2))
    try:
        async def drained() -> bool:
            return not await db.outbox.entries()

        await eventually(drained, within_s=20)
    finally:
        replayer.cancel()
        await asyncio.gather(replayer, return_exceptions=True)


async def test_order_confirmed_during_an_outage_is_saved_once_after_it(outage_db, own_emulator):
    db = outage_db
    call = await open_call(
        db,
        Call("start_order"),
        Call("add_item", {"item": "cappuccino", "size": "large", "options": ["oat milk"]}),
        Call("set_customer", {"name": "Sam Rivera"}),
        Call("review_order"),
        Call("confirm"),
        "Your order is noted; staff will call to confirm it. Anything else?",
    )
    await call.caller_says("A large oat cappuccino for Sam Rivera")
    readback = call.session.history.items[-1].text_content or ""
    assert "Shall I place the order?" in readback

    await asyncio.to_thread(own_emulator.stop)  # Firestore dies before the caller says yes
    started = time.monotonic()
    result = await call.caller_says("Yes please")
    waited = time.monotonic() - started
    output, is_error = tool_output(result, "confirm")
    assert not is_error
    assert "noted" in output and "staff will call to confirm" in output
    assert "Order placed" not in output, "the caller is not told it is placed when it is not"
    assert waited < 3.0, f"the caller waited {waited:.1f}s for the answer"
    order_id = call.userdata.ids_created[0]
    await call.hang_up()  # the call log cannot be written either: it is queued too
    queued = sorted(e.id for e in await db.outbox.entries())
    call_id = call.userdata.call_id
    # the call's "in progress" log is written as it starts: before the outage, or queued too
    assert [q for q in queued if q != f"call_open:{call_id}"] == sorted(
        [f"order:{order_id}", f"call_log:{call_id}"])

    await restart_and_drain(own_emulator, db)
    orders = [d.to_dict() async for d in db.db.collection("orders").stream()]
    assert len(orders) == 1 and orders[0]["id"] == order_id
    assert orders[0]["total_cents"] == orders[0]["subtotal_cents"] + orders[0]["tax_cents"]
    assert orders[0]["subtotal_cents"] == 425 + 100 + 75  # large + oat milk, from the menu
    stats = await db.get_analytics(NOW.date())
    assert (stats.orders, stats.revenue_cents, stats.calls) == (1, orders[0]["total_cents"], 1)
    log = (await db.db.document(f"call_logs/{call.userdata.call_id}").get()).to_dict()
    assert log["outcome"] == "order" and log["ids_created"] == [order_id]
    assert log["status"] == "completed"
    customer = (await db.db.document(f"customers/{CALLER}").get()).to_dict()
    assert customer["order_count"] == 1

    # Exactly once: replaying again or the agent retrying the save changes nothing.
    assert await db.replay_outbox() == 0
    again = await db.save_order(Order.from_doc(orders[0]), NOW.date())
    assert again.status == "already_saved"
    assert (await db.get_analytics(NOW.date())).orders == 1
    assert await count_docs(db, "orders") == {"orders": 1}


def _saved(doc: dict):
    from models import Order

    return Order.from_doc(doc)


async def test_booking_confirmed_during_an_outage_is_placed_once_after_it(
    outage_db, own_emulator
):
    db = outage_db
    call = await open_call(
        db,
        Call("start_reservation", {"action": "new"}),
        Call("book_table", {"date": "2026-11-21", "time": "19:00", "party_size": 4,
                            "name": "Priya Shah"}),
        Call("confirm"),
        "Your booking is noted; staff will call to confirm.",
    )
    await call.caller_says("A table for four tomorrow at seven, Priya Shah")
    assert "Shall I book it?" in (call.session.history.items[-1].text_content or "")

    await asyncio.to_thread(own_emulator.stop)
    started = time.monotonic()
    result = await call.caller_says("Yes")
    waited = time.monotonic() - started
    output, is_error = tool_output(result, "confirm")
    assert not is_error and "noted under code" in output and "staff will call to confirm" in output
    assert waited < 3.0
    code = call.userdata.ids_created[0]
    await call.hang_up()

    await restart_and_drain(own_emulator, db)
    booking = await db.get_reservation(code)
    assert booking is not None and booking.party_size == 4 and booking.phone == CALLER
    assert await seated_at(db, booking.date) == {"19:00": 4}
    assert await count_docs(db, "reservations", "messages") == {"reservations": 1, "messages": 0}
    stats = await db.get_analytics(NOW.date())
    assert (stats.reservations, stats.covers, stats.calls) == (1, 4, 1)
    assert await db.replay_outbox() == 0
