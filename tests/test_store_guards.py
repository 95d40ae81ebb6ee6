"""Guards of the store that only a particular timing exercises, against the real emulator.

* An outbox replay of a write that did land. The reason replay is idempotent: a commit can
  reach Firestore and still be reported failed to us (the answer was lost, the deadline hit
  first), so the write is queued and later replayed on top of itself. Nothing may double: no
  second order, no analytics counted twice, no customer visit counted twice, no seats taken
  twice, and no "could not place your booking" note for a booking that is in fact placed.
* Two callers racing for a slot nobody has booked yet: there is no slot document to hold a
  precondition on, so the first write must create it and the second must lose.
"""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, date, datetime, time

import pytest

from config import FirestoreSettings
from firebase_manager import FirebaseManager, SlotFull, connect
from models import CallLog, Message
from tests.conftest import make_order, make_reservation

DAY = date(2026, 11, 20)
BOOKED_DAY = date(2026, 11, 27)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _count(db: FirebaseManager, collection: str) -> int:
    return len([s async for s in db.db.collection(collection).stream()])


async def test_replaying_writes_that_had_landed_doubles_nothing(
    db: FirebaseManager, firestore_settings: FirestoreSettings
) -> None:
    order = make_order("call-landed", phone="+16175550111")
    booking = make_reservation("call-landed", party=3, phone="+16175550111")
    message = Message(id="call-landed-message-1", call_id="call-landed", name="Ann Lee",
                      phone="+16175550111", reason="Call me back about the cake",
                      created_at=datetime(2026, 11, 20, 17, 0, tzinfo=UTC))
    call_log = CallLog(call_id="call-landed", caller="+16175550111",
                       started_at=datetime(2026, 11, 20, 17, 0, tzinfo=UTC),
                       ended_at=datetime(2026, 11, 20, 17, 3, tzinfo=UTC), outcome="order")

    # The same worker's outbox, written by the store when it could not hear Firestore...
    unreachable = await connect(
        firestore_settings.model_copy(
            update={"firestore_emulator_host": f"127.0.0.1:{_closed_port()}"}),
        retry_budget_s=0.0, rpc_timeout_s=2.0)
    try:
        queued = [await unreachable.save_order(order, DAY),
                  await unreachable.book_reservation(booking, 8, DAY),
                  await unreachable.save_message(message, DAY),
                  await unreachable.write_call_log(call_log, DAY)]
    finally:
        await unreachable.close()
    assert [r.status for r in queued] == ["queued"] * 4
    assert len(await db.outbox.entries()) == 4

    # ...while every one of those writes had in fact reached it.
    landed = [await db.save_order(order, DAY), await db.book_reservation(booking, 8, DAY),
              await db.save_message(message, DAY), await db.write_call_log(call_log, DAY)]
    assert [r.status for r in landed] == ["saved"] * 4
    before = await db.get_analytics(DAY)

    assert await db.replay_outbox() == 4  # each entry settled as already saved...
    assert await db.outbox.entries() == []  # ...and leaves the outbox

    after = await db.get_analytics(DAY)
    assert after == before
    assert (after.orders, after.revenue_cents, after.reservations, after.covers,
            after.messages, after.calls) == (1, order.total_cents, 1, 3, 1, 1)
    assert {c: await _count(db, c) for c in ("orders", "reservations", "messages", "call_logs")
            } == {"orders": 1, "reservations": 1, "messages": 1, "call_logs": 1}
    customer = await db.get_customer("+16175550111")
    assert customer is not None
    assert (customer.order_count, customer.reservation_count) == (1, 1)
    assert await db.seats_used_on(BOOKED_DAY) == {"19:00": 3}
    assert (await db.get_reservation(booking.code)) is not None


@pytest.mark.parametrize("callers", [2, 5])
async def test_callers_racing_for_an_empty_slot_cannot_overbook_it(
    db: FirebaseManager, callers: int
) -> None:
    """Parties of 3 for a 4-seat slot that has no bookings yet: exactly one gets it."""
    capacity = 4
    commits_before = db.rpcs.commits
    assert await db.seats_used_on(BOOKED_DAY) == {}

    async def caller(n: int) -> str:
        try:
            await db.book_reservation(
                make_reservation(f"empty-racer-{n}", party=3, at=time(18, 0)), capacity, DAY)
            return "booked"
        except SlotFull as e:
            assert e.free_seats == 1
            return "full"

    outcomes = await asyncio.gather(*(caller(n) for n in range(callers)))

    assert sorted(outcomes) == ["booked"] + ["full"] * (callers - 1)
    assert await db.seats_used_on(BOOKED_DAY) == {"18:00": 3}
    assert await _count(db, "reservations") == 1
    stats = await db.get_analytics(DAY)
    assert (stats.reservations, stats.covers) == (1, 3)
    # The race did happen: a loser got as far as committing on a slot it had read as empty.
    assert db.rpcs.commits - commits_before >= 2
