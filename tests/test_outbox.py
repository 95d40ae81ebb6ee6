"""The durable outbox end to end with a Firestore emulator that goes away (the file alone:
tests/test_outbox_file.py)."""

from __future__ import annotations

import asyncio
import json
import time as _time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from config import FirestoreSettings
from models import Message
from store import FirebaseManager, connect
from testkit import emulator
from testkit.emulator import Emulator
from testkit.seating import seated_at, seats
from tests.conftest import PROJECT, make_order, make_reservation

DAY = date(2026, 11, 20)

# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def private_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """Our own emulator, so stopping it does not disturb the rest of the session."""
    emu = emulator.start(log_path=tmp_path_factory.mktemp("emulator") / "emulator.log")
    try:
        yield emu
    finally:
        emu.stop()


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 30.0) -> None:
    deadline = _time.monotonic() + within_s
    while not await check():
        assert _time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.3)


def firestore_answers(db: FirebaseManager) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        try:
            await db.get_analytics(DAY)
            return True
        except Exception:
            return False

    return check


async def count(db: FirebaseManager, collection: str) -> int:
    return len([s async for s in db.db.collection(collection).stream()])


async def test_writes_survive_an_outage_and_replay_exactly_once(
    private_emulator: Emulator, tmp_path: Path
) -> None:
    settings = FirestoreSettings(firestore_emulator_host=private_emulator.host,
                                 google_cloud_project=PROJECT,
                                 outbox_path=tmp_path / "outbox.jsonl")
    db = await connect(settings, retry_budget_s=1.0)
    try:
        order = make_order()
        booking = make_reservation(party=2)
        doomed = make_reservation("call-late", party=4)  # will not fit after the outage
        message = Message(id="call-m-message-1", call_id="call-m", name="Dee",
                          phone="+16175550103", reason="Call me back",
                          created_at=datetime(2026, 11, 20, 17, 0, tzinfo=UTC))
        await db.save_order(order, DAY)  # Firestore up: saved directly

        private_emulator.stop()
        started = _time.monotonic()
        queued = [
            await db.save_order(order2 := make_order("call-b"), DAY),
            await db.save_order(order2, DAY),  # the agent retried: still one entry
            await db.book_reservation(booking, seats(4), DAY),
            await db.book_reservation(doomed, seats(4), DAY),
            await db.save_message(message, DAY),
        ]
        per_write = (_time.monotonic() - started) / len(queued)

        assert [r.status for r in queued] == ["queued"] * 5
        assert per_write < 3.0  # the caller waits about the retry budget, not a minute
        lines = [json.loads(x) for x in settings.outbox_path.read_text().splitlines()]
        assert [x["id"] for x in lines] == [
            f"order:{order2.id}", f"booking:{booking.code}", f"booking:{doomed.code}",
            f"message:{message.id}",
        ]

        private_emulator.restart()  # an in-memory emulator comes back empty
        # Meanwhile another caller took the 19:00 seats the doomed booking wanted.
        await eventually(firestore_answers(db))  # gRPC reconnects with back-off
        rival = make_reservation("call-rival", at=time(19, 0), party=2)
        assert (await db.book_reservation(rival, seats(4), DAY)).status == "saved"

        assert await db.replay_outbox() == 4
        assert await db.outbox.entries() == []

        assert await count(db, "orders") == 1
        assert (await db.get_analytics(DAY)).orders == 1
        assert await seated_at(db, booking.date) == {"19:00": 4}
        assert await db.get_reservation(doomed.code) is None
        staff_note = await db.db.document(f"messages/call-late-unplaced-{doomed.code}").get()
        assert staff_note.exists and doomed.code in staff_note.get("reason")
        assert await count(db, "messages") == 2

        # Replaying again finds nothing; saving the same order again is already saved.
        assert await db.replay_outbox() == 0
        assert (await db.save_order(order2, DAY)).status == "already_saved"
        stats = await db.get_analytics(DAY)
        assert (stats.orders, stats.reservations, stats.messages) == (1, 2, 2)
    finally:
        await db.close()


async def test_background_replayer_drains_the_outbox(
    private_emulator: Emulator, tmp_path: Path
) -> None:
    settings = FirestoreSettings(firestore_emulator_host=private_emulator.host,
                                 google_cloud_project=PROJECT,
                                 outbox_path=tmp_path / "outbox.jsonl")
    if private_emulator.process is None:  # an earlier test failed while it was stopped
        await asyncio.to_thread(private_emulator.restart)
    await asyncio.to_thread(private_emulator.reset, PROJECT)
    db = await connect(settings, retry_budget_s=0.5)
    order = make_order()
    # Queued by an earlier worker process that crashed before it could replay.
    await db.outbox.append("order", {"order": order.model_dump(mode="json"),
                                     "analytics_day": DAY.isoformat()}, record_id=order.id)
    task = asyncio.create_task(db.run_outbox_replayer(interval_s=0.2))
    try:
        async def drained() -> bool:
            return not await db.outbox.entries()

        await eventually(drained, within_s=15)
        assert await count(db, "orders") == 1
        assert (await db.get_analytics(DAY)).revenue_cents == order.total_cents
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await db.close()


async def test_every_queued_write_goes_back_to_its_own_restaurant(
    private_emulator: Emulator, tmp_path: Path
) -> None:
    """Queued during an outage by another restaurant's calls, replayed by the worker's default
    manager: each kind of write (order, message, call opened, call log, booking) lands in that
    restaurant, with its counts; none in the default one."""
    from models import CallLog

    settings = FirestoreSettings(firestore_emulator_host=private_emulator.host,
                                 google_cloud_project=PROJECT,
                                 outbox_path=tmp_path / "outbox.jsonl")
    main = await connect(settings, retry_budget_s=1.0)
    other = main.for_restaurant("casa-lupita")
    started = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    try:
        await eventually(firestore_answers(main))
        private_emulator.stop()
        call = CallLog(call_id="call-lupita", started_at=started, restaurant_id="casa-lupita")
        message = Message(id="call-lupita-message-1", call_id="call-lupita", name="Dee",
                          phone="+16175550103", reason="Call me back", created_at=started)
        queued = [
            await other.open_call_log(call, DAY),
            await other.save_order(make_order("call-lupita"), DAY),
            await other.save_message(message, DAY),
            await other.book_reservation(make_reservation("call-lupita", party=2), seats(4), DAY),
            await other.write_call_log(call.model_copy(update={"ended_at": started}), DAY),
        ]
        assert [r.status for r in queued] == ["queued"] * 5
        lines = [json.loads(x) for x in settings.outbox_path.read_text().splitlines()]
        assert sorted(x["kind"] for x in lines) == [
            "booking", "call_log", "call_open", "message", "order"]
        assert {x["payload"]["restaurant_id"] for x in lines} == {"casa-lupita"}
        # Each entry is keyed by its call: another call opened in the same outage is its own.
        assert {"call_open:call-lupita", "call_log:call-lupita"} <= {x["id"] for x in lines}

        private_emulator.restart()
        await eventually(firestore_answers(main))
        assert await main.replay_outbox() == 5
        for collection in ("orders", "messages", "call_logs", "reservations"):
            assert await count(other, collection) == 1, collection
            assert await count(main, collection) == 0, collection
        stats = await other.get_analytics(DAY)
        assert (stats.calls, stats.orders, stats.messages, stats.reservations) == (1, 1, 1, 1)
        assert (await main.get_analytics(DAY)).calls == 0
    finally:
        await main.close()
