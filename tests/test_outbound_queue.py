"""The outbound queue on the real Firestore emulator: reminders and call-backs are scheduled
only to numbers the restaurant holds and may dial, claimed by one dialer at a time, only inside
the guest's calling hours, at most N times, never after "don't call me again" or for a
cancelled booking."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.outbound_rules import CallingHours, check_dialable, guest_zones, next_calling_time
from domain.refusal import Refusal
from models import Message, RestaurantSettings
from store.outbound import OutboundQueue, Policy
from testkit.records import make_reservation

ROOT = Path(__file__).resolve().parents[1]
NY = ZoneInfo("America/New_York")
SETTINGS = RestaurantSettings(name="Test Cafe", timezone="America/New_York",
                              outbound_max_attempts=2)
# Friday 27 Nov 2026, 14:00 in Boston; the booking is Saturday 19:00.
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=NY).astimezone(UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture
def queue(db) -> OutboundQueue:
    return OutboundQueue(db.db, Policy.of(SETTINGS))


async def booked(db, phone="+16175550102", code="R1", day=date(2026, 11, 27)):
    """A table at 19:00 (by default tonight: its reminder is due since yesterday evening)."""
    res = make_reservation(code=code, phone=phone, day=day, at=time(19, 0))
    await db.db.document(f"reservations/{code}").set(res.to_doc())
    return res


async def test_a_reminder_is_due_a_day_ahead_and_claimed_once(db, queue):
    await booked(db, day=date(2026, 11, 28))
    call = await queue.schedule_reminder("R1", NOW)
    assert call.next_try_at == datetime(2026, 11, 27, 19, 0, tzinfo=NY)
    assert (await queue.schedule_reminder("R1", NOW)).id == call.id  # scheduling is idempotent
    assert await queue.claim("w1", NOW, LEASE) is None  # not yet due
    due = datetime(2026, 11, 27, 19, 0, tzinfo=NY)
    claimed = await queue.claim("w1", due, LEASE)
    assert claimed is not None and claimed.attempts == 1 and claimed.lease_owner == "w1"
    assert await queue.claim("w2", due, LEASE) is None  # leased: nobody else dials it
    done = await queue.finish(claimed, "w1", "kept", due, room="out-R1-1")
    assert done.status == "done" and done.call_ids == ["out-R1-1"] and done.next_try_at is None
    assert await queue.claim("w2", due + timedelta(hours=1), LEASE) is None


async def test_two_workers_racing_never_dial_the_same_guest(db, queue):
    # Two bookings of one guest and one of another: at most one call per guest at a time.
    await booked(db, code="R1")
    await booked(db, code="R2")
    await booked(db, code="R3", phone="+16175550177")
    for code in ("R1", "R2", "R3"):
        await queue.schedule_reminder(code, NOW - timedelta(days=2))
    at = datetime(2026, 11, 27, 15, 0, tzinfo=NY)
    got = []
    for _ in range(5):  # rounds of six racing dialers; a contended claim just tries later
        claims = await asyncio.gather(*(queue.claim(f"w{i}", at, LEASE) for i in range(6)))
        got += [c for c in claims if c is not None]
        if len(got) >= 2:
            break
    # Never two leases for one guest, never one call twice; and both guests get their call.
    assert sorted(c.phone for c in got) == ["+16175550102", "+16175550177"], got
    assert len({c.id for c in got}) == len(got)
    # The guest's other reminder waits until the first call is finished.
    first = next(c for c in got if c.phone == "+16175550102")
    assert await queue.claim("w9", at, LEASE) is None
    await queue.finish(first, first.lease_owner, "kept", at)
    nxt = await queue.claim("w9", at, LEASE)
    assert nxt is not None and nxt.phone == "+16175550102" and nxt.id != first.id


async def test_calling_hours_are_the_guests_local_time(db, queue):
    # A Los Angeles guest of a Boston restaurant: 08:00 in Boston is 05:00 for them.
    await booked(db, phone="+13105550100")
    await queue.schedule_reminder("R1", NOW - timedelta(days=2))
    early = datetime(2026, 11, 27, 8, 0, tzinfo=NY)
    assert await queue.claim("w1", early, LEASE) is None
    [call] = await queue.list_calls()
    assert call.status == "pending"
    assert call.next_try_at == datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert await queue.claim("w1", call.next_try_at, LEASE) is not None


async def test_at_most_n_attempts_then_failed(db, queue):
    await booked(db)
    await queue.schedule_reminder("R1", NOW - timedelta(days=2))
    at = NOW
    for attempt in (1, 2):
        call = await queue.claim("w1", at, LEASE)
        assert call is not None and call.attempts == attempt
        call = await queue.finish(call, "w1", "no_answer", at)
        at = at + timedelta(hours=1)
    assert call.status == "failed" and await queue.claim("w1", at, LEASE) is None


async def test_an_expired_lease_is_claimed_again_and_counts_as_an_attempt(db, queue):
    await booked(db)
    await queue.schedule_reminder("R1", NOW - timedelta(days=2))
    first = await queue.claim("w1", NOW, LEASE)
    assert first is not None
    again = await queue.claim("w2", NOW + LEASE + timedelta(seconds=1), LEASE)
    assert again is not None and again.lease_owner == "w2" and again.attempts == 2
    with pytest.raises(Refusal):
        await queue.finish(first, "w1", "kept", NOW + LEASE)  # the dead dialer's lease is gone


async def test_dont_call_me_again_is_stored_and_honoured(db, queue):
    await booked(db)
    await booked(db, code="R2")
    await queue.schedule_reminder("R1", NOW - timedelta(days=2))
    await queue.schedule_reminder("R2", NOW - timedelta(days=2))
    call = await queue.claim("w1", NOW, LEASE)
    await queue.finish(call, "w1", "opted_out", NOW, room="out-1")
    assert (await db.db.document("do_not_call/+16175550102").get()).exists
    assert await queue.claim("w1", NOW, LEASE) is None  # the other reminder is dropped too
    assert {c.outcome for c in await queue.list_calls()} == {"opted_out", "do_not_call"}
    await booked(db, code="R3", day=date(2026, 11, 30))
    with pytest.raises(Refusal, match="not to be called"):
        await queue.schedule_reminder("R3", NOW)


async def test_no_reminder_for_a_cancelled_booking(db, queue):
    await booked(db)
    await queue.schedule_reminder("R1", NOW - timedelta(days=2))
    await db.db.document("reservations/R1").update({"status": "cancelled"})
    assert await queue.claim("w1", NOW, LEASE) is None
    [call] = await queue.list_calls()
    assert (call.status, call.outcome) == ("skipped", "booking_cancelled")
    with pytest.raises(Refusal, match="cancelled"):
        await queue.schedule_reminder("R1", NOW)


async def test_a_call_back_goes_to_the_number_the_message_left(db, queue):
    msg = Message(id="msg-1", call_id="call-x", name="Ravi", phone="+16175550134",
                  reason="catering for 40", created_at=NOW)
    await db.db.document("messages/msg-1").set(msg.to_doc())
    call = await queue.schedule_callback("msg-1", NOW)
    assert call.phone == "+16175550134" and "catering for 40" in call.reason
    assert (await queue.claim("w1", NOW, LEASE)).id == "callback-msg-1"


@pytest.mark.parametrize(("number", "why"), [
    ("+19005551234", "premium-rate"),
    ("+18005551234", "toll-free"),
    ("+442079460958", "international"),
    ("+1555", "not a valid"),
])
def test_numbers_the_restaurant_never_dials(number, why):
    with pytest.raises(Refusal, match=why):
        check_dialable(number, home_region="US", allow_international=False)


def test_international_only_when_enabled():
    assert check_dialable("+442079460958", home_region="US",
                          allow_international=True) == "+442079460958"


def test_a_number_of_unknown_zone_uses_the_restaurants_and_windows_are_strict():
    assert guest_zones("+18005551234", NY) == [NY]
    hours = CallingHours(time(9), time(20))
    late = datetime(2026, 11, 27, 20, 0, tzinfo=NY)
    assert next_calling_time(late, [NY], hours) == datetime(2026, 11, 28, 9, 0, tzinfo=NY)


async def test_the_command_schedules_lists_and_refuses(db, firestore_settings, tmp_path):
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": firestore_settings.firestore_emulator_host,
           "GOOGLE_CLOUD_PROJECT": firestore_settings.google_cloud_project,
           "ENV_FILE": str(tmp_path / "none.env")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "scripts/outbound.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    await booked(db, day=date(2099, 1, 2))
    await booked(db, code="R9", phone="+19005551234", day=date(2099, 1, 2))
    done = await asyncio.to_thread(cli, "remind", "R1")
    assert done.returncode == 0 and "reminder-R1: pending" in done.stdout, done.stderr
    refused = await asyncio.to_thread(cli, "remind", "R9")
    assert refused.returncode == 1 and "premium-rate" in refused.stderr
    listed = await asyncio.to_thread(cli, "list")
    assert listed.returncode == 0 and "reminder-R1" in listed.stdout
    assert "R9" not in listed.stdout and "+1617" not in listed.stdout  # no numbers printed
    assert (await asyncio.to_thread(cli, "dont-call", "617 555 0102")).returncode == 0
    assert (await db.db.document("do_not_call/+16175550102").get()).exists


async def test_a_call_picked_up_after_its_agent_died_keeps_the_guest_from_a_second_dial(
        db, queue):
    """The resumed agent renews its dialer's lease: no dialer claims the call (and rings the
    guest) while the guest is still talking to it, and its outcome is stored once."""
    await booked(db)
    await queue.schedule_reminder("R1", NOW - timedelta(days=2))
    call = await queue.claim("w1", NOW, LEASE)
    assert call is not None
    later = NOW + LEASE - timedelta(seconds=10)  # the agent died; a new one is talking
    until = later + timedelta(minutes=10)
    assert not await queue.renew(call, "w2", later, until)  # not w2's lease
    assert await queue.renew(call, "w1", later, until)
    assert await queue.claim("w2", NOW + LEASE + timedelta(seconds=1), LEASE) is None
    lock = (await db.db.document(f"outbound_phones/{call.phone}").get()).to_dict()
    assert lock == {"call_id": call.id, "lease_until": until}
    caps = (await db.db.document("outbound_caps/state").get()).to_dict()
    assert caps["active"] == {call.id: until}
    done = await queue.finish(call, "w1", "kept", until - timedelta(minutes=1))
    assert (done.status, done.outcome, done.attempts) == ("done", "kept", 1)
    assert not await queue.renew(call, "w1", until, until + LEASE)  # finished: nothing held
    assert await queue.claim("w2", until + timedelta(hours=1), LEASE) is None
