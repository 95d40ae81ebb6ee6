"""What a reminder or call-back call does, without LiveKit (actions/outbound.py), on the real
Firestore emulator: the job the dialer hands the agent, the keypad, keeping, changing and
cancelling a booking, "don't call me again", and the outcome stored on the queue entry."""

from __future__ import annotations

from datetime import UTC, time, timedelta

import pytest

from actions import outbound
from actions.outbound import Keypad
from actions.outbound_job import OutboundJob
from conversation.state import CallServices, UserData
from domain.menu import Catalog, Menu
from domain.refusal import Refusal
from models import RestaurantSettings
from services.dialer import room_for
from store.outbound import OutboundQueue, Policy
from testkit.phone import NOW
from testkit.records import make_reservation

SETTINGS = RestaurantSettings.model_validate({
    "name": "Test Cafe", "timezone": "America/New_York",
    "hours": {d: [{"open": "07:00", "close": "21:00"}]
              for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
PHONE = "+16175550102"
LEASE = timedelta(minutes=10)


def test_the_dialers_job_survives_the_metadata_round_trip_and_inbound_calls_have_none():
    job = OutboundJob("reminder-R1", "dialer-a")
    assert OutboundJob.from_metadata(job.to_metadata()) == job
    for inbound in (None, "", "not json", "[]", '{"caller": "x"}'):
        assert OutboundJob.from_metadata(inbound) is None


@pytest.mark.parametrize(("keys", "requests"), [
    ("1", [("keep", "")]),
    ("3", [("cancel", "")]),
    ("9", [("opt_out", "")]),
    ("5", [("menu", "")]),
    ("21830", [("ask_time", ""), None, None, None, ("change", "1830")]),  # 4 digits: done
    # the prompt asks for four digits then #: that # closes the time, it is no new key
    ("21830#", [("ask_time", ""), None, None, None, ("change", "1830"), None]),
    ("21830##", [("ask_time", ""), None, None, None, ("change", "1830"), None, ("menu", "")]),
    ("21830#1", [("ask_time", ""), None, None, None, ("change", "1830"), None, ("keep", "")]),
    ("218301", [("ask_time", ""), None, None, None, ("change", "1830"), ("keep", "")]),
    ("2730#", [("ask_time", ""), None, None, None, ("change", "730")]),
    ("27*1", [("ask_time", ""), None, ("menu", ""), ("keep", "")]),  # * backs out
])
def test_the_keypad(keys, requests):
    pad = Keypad()
    assert [pad.press(k) for k in keys] == requests


def test_keypad_times():
    assert outbound.keypad_time("1930") == "19:30"
    assert outbound.keypad_time("730") == "7:30"
    for bad in ("", "19", "1975", "12345", "ab12"):
        with pytest.raises(Refusal):
            outbound.keypad_time(bad)


def test_a_failed_dial_is_busy_no_answer_or_failed_and_rooms_never_name_the_number():
    assert outbound.dial_failure(486) == "busy"
    assert outbound.dial_failure(480) == outbound.dial_failure(408) == "no_answer"
    assert outbound.dial_failure(503) == outbound.dial_failure(None) == "failed"


async def _leased(db, *, code: str = "R1", at: time = time(19, 0)):
    queue = OutboundQueue(db.db, Policy.of(SETTINGS))
    res = make_reservation(code=code, phone=PHONE, day=NOW.date(), at=at, name="Sam Rivera")
    await db.db.document(f"reservations/{code}").set(res.to_doc())
    scheduled = await queue.schedule_reminder(code, NOW.astimezone(UTC))
    call = await queue.claim("dialer-a", NOW.astimezone(UTC), LEASE)
    assert call is not None and call.id == scheduled.id
    return queue, call


def _userdata(db, state: outbound.OutboundState) -> UserData:
    services = CallServices(db=db, catalog=Catalog(Menu([]), SETTINGS),
                            clock=lambda: NOW.astimezone(UTC), transfer=_no_transfer)
    data = UserData(call_id="out-reminder-R1-1", services=services, caller_phone=PHONE)
    data.outbound = state
    return data


async def _no_transfer(destination: str) -> None:
    raise RuntimeError("no phone line in this test")


async def test_only_the_dialer_holding_the_lease_gets_the_job(db):
    queue, call = await _leased(db)
    assert room_for(call) == "out-reminder-R1-1" and PHONE[2:] not in room_for(call)
    with pytest.raises(Refusal, match="not leased to dialer-b"):
        await outbound.prepare(queue, OutboundJob(call.id, "dialer-b"))
    state = await outbound.prepare(queue, OutboundJob(call.id, "dialer-a"))
    assert state.booking is not None and state.booking.code == "R1"
    userdata = _userdata(db, state)
    intro = outbound.introduction(userdata.desk, userdata.outbound)
    assert "2 people today at 7 PM, under Sam Rivera" in intro
    vm = outbound.voicemail_message(userdata.desk, userdata.outbound)
    assert "booking" in vm and "7 PM" not in vm and "Sam" not in vm  # no details on a mailbox


async def test_kept_then_the_queue_entry_is_done(db):
    queue, call = await _leased(db)
    userdata = _userdata(db, await outbound.prepare(queue, OutboundJob(call.id, "dialer-a")))
    assert outbound.result_of(userdata) == "no_answer"  # nobody answered yet
    userdata.outbound.answered = True  # type: ignore[union-attr]
    assert outbound.result_of(userdata) == "delivered"
    outbound.keep(userdata)
    done = await outbound.finish(queue, userdata, NOW.astimezone(UTC))
    assert (done.status, done.outcome, done.call_ids) == ("done", "kept", ["out-reminder-R1-1"])
    assert userdata.outcome() == "kept"


async def test_cancelled_by_keypad_cancels_the_booking_once(db):
    queue, call = await _leased(db)
    userdata = _userdata(db, await outbound.prepare(queue, OutboundJob(call.id, "dialer-a")))
    said = await outbound.cancel_now(userdata)
    assert "cancelled" in said
    assert (await db.get_reservation("R1")).status == "cancelled"
    done = await outbound.finish(queue, userdata, NOW.astimezone(UTC))
    assert done.outcome == "cancelled" and userdata.outcome() == "cancel"


async def test_changed_by_keypad_moves_the_booking_and_refuses_a_closed_hour(db):
    queue, call = await _leased(db)
    userdata = _userdata(db, await outbound.prepare(queue, OutboundJob(call.id, "dialer-a")))
    with pytest.raises(Refusal):
        await outbound.change_time_now(userdata, "2330")  # after closing
    assert (await db.get_reservation("R1")).time == time(19, 0)
    said = await outbound.change_time_now(userdata, "1830")
    assert "6:30 PM" in said
    assert (await db.get_reservation("R1")).time == time(18, 30)
    done = await outbound.finish(queue, userdata, NOW.astimezone(UTC))
    assert done.outcome == "changed"


async def test_dont_call_me_again_is_stored_at_once(db):
    queue, call = await _leased(db)
    userdata = _userdata(db, await outbound.prepare(queue, OutboundJob(call.id, "dialer-a")))
    await outbound.opt_out(userdata, queue)
    assert await queue.opted_out(PHONE)  # before the call even ends
    done = await outbound.finish(queue, userdata, NOW.astimezone(UTC))
    assert done.outcome == "opted_out" and userdata.outcome() == "opted_out"
    res = make_reservation(code="R2", phone=PHONE, day=NOW.date() + timedelta(days=1))
    await db.db.document("reservations/R2").set(res.to_doc())
    with pytest.raises(Refusal, match="asked not to be called"):
        await queue.schedule_reminder("R2", NOW.astimezone(UTC))


async def test_a_cancelled_booking_is_not_dialled_even_if_the_dispatch_is_late(db):
    queue, call = await _leased(db)
    await db.cancel_reservation("R1", call_id="call-other", now=NOW)
    with pytest.raises(Refusal, match="cancelled"):
        await outbound.prepare(queue, OutboundJob(call.id, "dialer-a"))




@pytest.mark.parametrize(("outcomes", "result"), [
    ([], "delivered"),  # on the line, nothing decided yet
    (["kept"], "kept"),
    (["kept", "change"], "changed"),  # the latest decision, as on the dead agent's call
    (["kept", "opted_out"], "opted_out"),
    (["cancel"], "cancelled"),
])
async def test_a_call_picked_up_after_its_agent_died(db, outcomes, result):
    """The new agent's job is the dialer's, marked resume: same lease, the guest counted as
    answered (no new dial), a decision the dead agent heard kept, stored once at the end."""
    queue, call = await _leased(db)
    job = OutboundJob(call.id, "dialer-a", resume=1)
    userdata = _userdata(db, await outbound.prepare(queue, job))
    userdata.outcomes = list(outcomes)  # restored from the dead agent's saved state
    outbound.resumed(userdata.outbound, userdata.outcomes)  # type: ignore[arg-type]
    assert userdata.outbound.answered and userdata.outbound.introduced  # type: ignore[union-attr]
    said = outbound.resumption(userdata.desk, userdata.outbound)  # type: ignore[arg-type]
    assert said.startswith("Sorry about that, we were cut off. Hello, this is the automated "
                           "assistant of Test Cafe, calling to remind you of your booking: a "
                           "table for 2 people today at 7 PM, under Sam Rivera."), said
    done = await outbound.finish(queue, userdata, NOW.astimezone(UTC))
    assert (done.outcome, done.attempts, done.call_ids) == (result, 1, ["out-reminder-R1-1"])
