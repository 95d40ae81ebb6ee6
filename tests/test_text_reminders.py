"""Booking reminders by text: a channel of the outbound queue, under its calling hours, opt-out
and attempt rules, sent through the official twilio SDK to the fake (the real emulator)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from actions import reservations
from actions.state import Desk
from actions.texts import Texts, text_reminder
from domain.menu import Catalog, Menu
from domain.seating import SeatingPlan
from fakes import twilio as fake_twilio
from store import FirebaseManager
from store.outbound import OutboundQueue, Policy
from store.outbox import Outbox
from store.texts import set_opted_out
from testkit.records import make_reservation
from testkit.square import FakeTwilio, serve_twilio

GUEST = "+16175550101"
WORKER = "dialer-test"
LEASE = timedelta(minutes=10)
# the booking: Friday 27 Nov 2026 19:00 in Boston; the reminder is due 24 h before
DUE = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # Thursday 19:00 in Boston: within hours


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with serve_twilio() as fake:
        yield fake


async def _setup(db: FirebaseManager, twilio: FakeTwilio, tmp_path: Path, language: str
                 ) -> tuple[OutboundQueue, Texts, object, str]:
    settings = await db.load_restaurant_settings()
    assert settings is not None
    res = make_reservation(phone=GUEST, day=date(2026, 11, 27), at=time(19, 0),
                           language=language)
    await db.book_reservation(res, SeatingPlan(seats=20), date(2026, 11, 20))
    queue = OutboundQueue(db.client, Policy.of(settings), db.restaurant_id)
    await queue.schedule_reminder(res.code, datetime(2026, 11, 20, 17, 0, tzinfo=UTC),
                                  channel="text")
    texts = Texts(twilio.client(), Outbox(tmp_path / "sms.jsonl"), db.for_restaurant)
    return queue, texts, settings, res.code


async def test_a_text_reminder_goes_once_in_the_bookings_language(
        seeded_db: FirebaseManager, twilio: FakeTwilio, tmp_path: Path) -> None:
    db = seeded_db
    queue, texts, settings, code = await _setup(db, twilio, tmp_path, "es")
    try:
        assert await queue.claim(WORKER, DUE - timedelta(hours=1), LEASE) is None  # not yet due
        call = await queue.claim(WORKER, DUE, LEASE)
        assert call is not None and call.channel == "text" and call.id == f"text-reminder-{code}"
        outcome = await text_reminder(texts, db, call, settings)  # type: ignore[arg-type]
        done = await queue.finish(call, WORKER, outcome, DUE)
    finally:
        await texts.client.http_client.close()
    assert (outcome, done.status) == ("texted", "done")
    [sms] = twilio.state.messages
    assert sms["to"] == GUEST and "le recordamos su mesa" in sms["body"]
    assert f"CANCEL {code}" in sms["body"] and "27/11/2026" in sms["body"]
    assert await queue.claim(WORKER, DUE + timedelta(hours=1), LEASE) is None  # once


async def test_outside_calling_hours_it_waits_and_a_stopped_number_is_not_texted(
        seeded_db: FirebaseManager, twilio: FakeTwilio, tmp_path: Path) -> None:
    db = seeded_db
    queue, texts, settings, _ = await _setup(db, twilio, tmp_path, "en")
    try:
        late = DUE + timedelta(hours=3)  # 22:00 in Boston
        assert await queue.claim(WORKER, late, LEASE) is None
        [entry] = await queue.list_calls()
        assert entry.next_try_at is not None and entry.next_try_at > late  # moved to morning
        await set_opted_out(db, GUEST, True)  # the guest texted STOP meanwhile
        call = await queue.claim(WORKER, entry.next_try_at, LEASE)
        assert call is not None
        outcome = await text_reminder(texts, db, call, settings)  # type: ignore[arg-type]
        done = await queue.finish(call, WORKER, outcome, entry.next_try_at)
    finally:
        await texts.client.http_client.close()
    assert (outcome, done.status) == ("text_refused", "done")
    assert twilio.state.messages == []
    assert fake_twilio.DEFAULT_SID  # the fake account the SDK used


async def test_a_booking_staff_move_earlier_is_reminded_before_its_new_time(
        seeded_db: FirebaseManager, twilio: FakeTwilio, tmp_path: Path) -> None:
    """Staff move Friday 19:00 to Thursday 12:00 on the board (the same actions, on a desk like
    the board's): the waiting text reminder moves to Wednesday 12:00, 24 h before the new time,
    instead of going out Thursday evening, after the guest has eaten."""
    db = seeded_db
    queue, texts, settings, code = await _setup(db, twilio, tmp_path, "en")
    staff_now = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    desk = Desk(db=db, catalog=Catalog(Menu([]), settings), clock=lambda: staff_now,
                by="board-host-test", known_phone=GUEST)
    draft = await reservations.draft_change(desk, code, "2026-11-26", "12:00", None)
    done = await reservations.confirm_draft(desk, draft)
    assert done.kind == "change"
    new_due = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # Wednesday 12:00 in Boston
    try:
        [entry] = await queue.list_calls()
        assert entry.next_try_at == new_due and "2026-11-26 at 12:00" in entry.reason
        call = await queue.claim(WORKER, new_due, LEASE)
        assert call is not None and call.id == f"text-reminder-{code}"
        outcome = await text_reminder(texts, db, call, settings)  # type: ignore[arg-type]
    finally:
        await texts.client.http_client.close()
    assert outcome == "texted"
    [sms] = twilio.state.messages
    assert "Thu Nov 26 at 12:00 PM" in sms["body"]
