"""Guards of the store that only a particular timing exercises, against the real emulator.

* An outbox replay of a write that did land. The reason replay is idempotent: a commit can
  reach Firestore and still be reported failed to us (the answer was lost, the deadline hit
  first), so the write is queued and later replayed on top of itself. Nothing may double: no
  second order, no analytics counted twice, no customer visit counted twice, no seats taken
  twice, and no "could not place your booking" note for a booking that is in fact placed.
* A queued booking is placed by the replay, or, when its seats were taken meanwhile for its
  dining time, turns into a note for staff to call the guest back.
* Two callers racing for a day nobody has booked yet: there is no seating/{day} document to
  hold a precondition on, so the first write must create it and the second must lose.
"""

from __future__ import annotations

import asyncio
import socket
import time as time_module
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from config import FirestoreSettings
from models import CallLog, Message
from store import (
    CodeTaken,
    FirebaseManager,
    PersistenceUnavailable,
    ReservationNotFound,
    SlotFull,
    connect,
)
from store.outbox import Outbox
from testkit.seating import seated_at, seats
from tests.conftest import make_order, make_reservation

DAY = date(2026, 11, 20)
BOOKED_DAY = date(2026, 11, 27)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _count(db: FirebaseManager, collection: str) -> int:
    return len([s async for s in db.db.collection(collection).stream()])


async def _queued_while_down(settings: FirestoreSettings) -> FirebaseManager:
    """The same worker's outbox, written by the store while it could not hear Firestore."""
    return await connect(
        settings.model_copy(update={"firestore_emulator_host": f"127.0.0.1:{_closed_port()}"}),
        retry_budget_s=0.0, rpc_timeout_s=2.0)


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
    unreachable = await _queued_while_down(firestore_settings)
    try:
        queued = [await unreachable.save_order(order, DAY),
                  await unreachable.book_reservation(booking, seats(8), DAY),
                  await unreachable.save_message(message, DAY),
                  await unreachable.write_call_log(call_log, DAY)]
        # A replay while Firestore is still away stops at once and keeps every entry.
        assert await unreachable.replay_outbox() == 0
    finally:
        await unreachable.close()
    assert [(r.status, r.id) for r in queued] == [
        ("queued", order.id), ("queued", booking.code), ("queued", message.id),
        ("queued", call_log.call_id)]
    assert len(await db.outbox.entries()) == 4

    # ...while every one of those writes had in fact reached it.
    landed = [await db.save_order(order, DAY), await db.book_reservation(booking, seats(8), DAY),
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
    assert await seated_at(db, BOOKED_DAY) == {"19:00": 3}
    assert (await db.get_reservation(booking.code)) is not None
    saved = (await db.db.document(f"messages/{message.id}").get()).to_dict()
    assert Message.from_doc(saved) == message


async def test_a_queued_booking_is_placed_by_the_replay_on_its_day(
    db: FirebaseManager, firestore_settings: FirestoreSettings
) -> None:
    booking = make_reservation("call-late", party=4, at=time(20, 0))
    unreachable = await _queued_while_down(firestore_settings)
    try:
        assert (await unreachable.book_reservation(booking, seats(6), DAY)).status == "queued"
    finally:
        await unreachable.close()
    assert await db.replay_outbox() == 1
    placed = await db.get_reservation(booking.code)
    assert placed is not None and placed.party_size == 4 and placed.status == "confirmed"
    assert await seated_at(db, BOOKED_DAY) == {"20:00": 4}
    stats = await db.get_analytics(DAY)  # counted on the day the caller was told, not today
    assert (stats.reservations, stats.covers) == (1, 4)
    # Its seats came with it, for its whole meal (a party of 4 sits 90 minutes): a party of 3
    # no longer fits the 6 seats at 20:00, nor at 21:00 while the four are still eating.
    for n, start in enumerate((time(20, 0), time(21, 0))):
        with pytest.raises(SlotFull):
            await db.book_reservation(
                make_reservation(f"call-next-{n}", party=3, at=start), seats(6), DAY)


async def test_a_queued_booking_that_no_longer_fits_becomes_a_call_back_note(
    db: FirebaseManager, firestore_settings: FirestoreSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A worker whose machine clock is not on UTC: the note is still stamped in UTC.
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time_module.tzset()
    booking = make_reservation("call-late", party=4, at=time(20, 0), name="Ann Lee",
                               phone="+16175550123", language="es")
    unreachable = await _queued_while_down(firestore_settings)
    try:
        await unreachable.book_reservation(booking, seats(6), DAY)
    finally:
        await unreachable.close()
    # Meanwhile a caller on a working line took the seats.
    await db.book_reservation(
        make_reservation("call-rival", party=4, at=time(20, 0)), seats(6), DAY)
    started = datetime.now(UTC)
    assert await db.replay_outbox() == 1
    assert await db.get_reservation(booking.code) is None
    assert await seated_at(db, BOOKED_DAY) == {"20:00": 4}
    note_id = f"call-late-unplaced-{booking.code}"
    note = Message.from_doc((await db.db.document(f"messages/{note_id}").get()).to_dict())
    assert (note.id, note.call_id, note.name, note.phone, note.language) == (
        note_id, "call-late", "Ann Lee", "+16175550123", "es")  # call her back in Spanish
    assert note.reason.startswith(f"Booking {booking.code} for 4 on 2026-11-27 at 20:00 was "
                                  "confirmed while the database was offline")
    assert "nothing free for the whole meal at" in note.reason  # why, for the staff member
    assert note.reason.endswith("call the guest back.")
    assert started <= note.created_at <= datetime.now(UTC)
    assert (await db.get_analytics(DAY)).messages == 1
    assert await db.replay_outbox() == 0  # settled: the note is not written twice
    monkeypatch.delenv("TZ")
    time_module.tzset()


async def test_what_a_replay_saves_is_journaled_until_an_export_holds_it(
    db: FirebaseManager, firestore_settings: FirestoreSettings, tmp_path: Path,
) -> None:
    """On the emulator, a record saved by the outbox replay joins the journal like one saved
    at once: if the emulator dies before its next export, the journal brings it back."""
    db.journal = Outbox(tmp_path / "journal.jsonl")
    order = make_order("call-replayed", phone="+16175550111")
    unreachable = await _queued_while_down(firestore_settings)
    try:
        assert (await unreachable.save_order(order, DAY)).status == "queued"
    finally:
        await unreachable.close()

    assert await db.replay_outbox() == 1
    journaled = await db.journal.entries()
    assert [(e.id, e.payload["order"]["id"]) for e in journaled] == [
        (f"order:{order.id}", order.id)]


async def test_a_queued_write_of_a_kind_this_worker_does_not_know_is_kept_not_dropped(
    db: FirebaseManager, firestore_settings: FirestoreSettings,
) -> None:
    """Written by a newer worker, then rolled back to this one: the entry waits for a worker
    that knows it (the outbox is its only copy); the writes around it are replayed."""
    order = make_order("call-known", phone="+16175550111")
    unreachable = await _queued_while_down(firestore_settings)
    try:
        await unreachable.outbox.append("gift_card", {"analytics_day": DAY.isoformat(),
                                                      "gift_card": {"cents": 5000}},
                                        record_id="card-1")
        assert (await unreachable.save_order(order, DAY)).status == "queued"
    finally:
        await unreachable.close()

    assert await db.replay_outbox() == 1
    assert [e.id for e in await db.outbox.entries()] == ["gift_card:card-1"]
    assert (await db.db.document(f"orders/{order.id}").get()).exists
    assert (await db.get_analytics(DAY)).orders == 1


async def test_what_is_saved_at_once_is_journaled_under_its_own_id(
    db: FirebaseManager, tmp_path: Path,
) -> None:
    db.journal = Outbox(tmp_path / "journal.jsonl")
    order = make_order("call-now", phone="+16175550111")
    message = Message(id="call-now-message-1", call_id="call-now", name="Ann Lee",
                      phone="+16175550111", reason="Call me back about the cake",
                      created_at=datetime(2026, 11, 20, 17, 0, tzinfo=UTC))

    assert (await db.save_order(order, DAY)).status == "saved"
    assert (await db.save_message(message, DAY)).status == "saved"

    journaled = {e.id: e.payload for e in await db.journal.entries()}
    assert list(journaled) == [f"order:{order.id}", f"message:{message.id}"]
    assert journaled[f"order:{order.id}"]["order"]["total_cents"] == order.total_cents
    assert journaled[f"message:{message.id}"]["message"]["reason"] == message.reason


async def test_a_write_neither_firestore_nor_the_outbox_can_take_is_an_error_naming_it(
    firestore_settings: FirestoreSettings, tmp_path: Path,
) -> None:
    """Never "queued" when nothing holds it: the agent must not tell the caller it is saved."""
    (tmp_path / "not-a-dir").write_text("")
    settings = firestore_settings.model_copy(
        update={"outbox_path": tmp_path / "not-a-dir" / "outbox.jsonl"})
    unreachable = await _queued_while_down(settings)
    order = make_order("call-lost", phone="+16175550111")
    try:
        with pytest.raises(PersistenceUnavailable, match=rf"^order {order.id}: Firestore "
                           "unreachable and the outbox failed: "):
            await unreachable.save_order(order, DAY)
    finally:
        await unreachable.close()


async def test_the_code_and_booking_named_in_refusals_are_the_ones_asked_for(
    db: FirebaseManager,
) -> None:
    mine = make_reservation("call-one")
    await db.book_reservation(mine, seats(20), DAY)
    with pytest.raises(CodeTaken) as taken:
        await db.book_reservation(make_reservation("call-two", code=mine.code), seats(20), DAY)
    assert taken.value.code == mine.code
    now = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    with pytest.raises(ReservationNotFound) as missing:
        await db.cancel_reservation("NOPE42", call_id="call-x", now=now)
    assert missing.value.code == "NOPE42"


@pytest.mark.parametrize("callers", [2, 5])
async def test_callers_racing_for_an_empty_slot_cannot_overbook_it(
    db: FirebaseManager, callers: int
) -> None:
    """Parties of 3 for a 4-seat room that has no bookings that day yet: exactly one gets it."""
    capacity = 4
    commits_before = db.rpcs.commits
    assert await seated_at(db, BOOKED_DAY) == {}

    racer = make_reservation("empty-racer", party=3, at=time(18, 0))

    async def caller(n: int) -> str:
        try:
            await db.book_reservation(
                make_reservation(f"empty-racer-{n}", party=3, at=time(18, 0)),
                seats(capacity), DAY)
            return "booked"
        except SlotFull as e:
            assert e.slot == racer.slot_id  # the refusal names the time asked for
            return "full"

    outcomes = await asyncio.gather(*(caller(n) for n in range(callers)))

    assert sorted(outcomes) == ["booked"] + ["full"] * (callers - 1)
    assert await seated_at(db, BOOKED_DAY) == {"18:00": 3}
    assert await _count(db, "reservations") == 1
    stats = await db.get_analytics(DAY)
    assert (stats.reservations, stats.covers) == (1, 3)
    # The race did happen: a loser got as far as committing on a slot it had read as empty.
    assert db.rpcs.commits - commits_before >= 2
