"""Booking, changing and cancelling a table by phone, checked against the real emulator."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from agents import ConfirmationAgent, ReservationAgent
from domain.lines import say
from domain.spoken import spoken_in
from models import Reservation
from store.menu_file import load_menu_file
from testkit.firestore import MENU_PATH
from testkit.scripted_llm import Call
from testkit.seating import seated_at
from tests.conversation.harness import (
    CALLER,
    NOW,
    count_docs,
    firestore_unreachable,
    offer_texts_without_sending,
    open_call,
    tool_output,
)

ROOM = load_menu_file(MENU_PATH).restaurant.seating  # the demo café's tables
# What the model is told to do with the confirmation line: say it, then ask for more.
TELL = " Tell the caller, and ask if there is anything else."
OFFER = (" Tell the caller, then ask in one short question whether they want a text with the "
         "booking (yes: call send_text; no: call no_text), and if there is anything else.")


def told(language: str, line: str, code: str, then: str = TELL) -> str:
    """The confirm tool's output for booking `code`, as the caller hears it."""
    return say(language, line, code=spoken_in(language).code(code)) + then


async def _slot(db, key: str) -> int:
    """Guests whose booking starts at "YYYY-MM-DDTHH:MM", from what the day's bookings hold."""
    day, at = key.split("T")
    return (await seated_at(db, date.fromisoformat(day))).get(at, 0)


async def test_full_reservation_call_books_once(seeded_db):
    db = seeded_db
    call = await open_call(
        db,
        Call("start_reservation", {"action": "new"}),
        # the reservation agent continues with the request: no re-asking
        Call("check_availability", {"date": "2026-11-21", "time": "19:00", "party_size": 4}),
        "Tomorrow at 7 for four is available. What name should I put it under?",
        Call("book_table", {"date": "2026-11-21", "time": "19:00", "party_size": 4,
                            "name": "Priya Shah"}),
        Call("confirm"),
        "You're booked. Anything else?",
        Call("end_call"),
    )
    result = await call.caller_says("Hi, a table for four tomorrow at seven please")
    result.expect.next_event().is_function_call(name="start_reservation",
                                                arguments={"action": "new"})
    result.expect.next_event().is_function_call_output()
    result.expect.next_event().is_agent_handoff(new_agent_type=ReservationAgent)
    result.expect.next_event().is_function_call(
        name="check_availability",
        arguments={"date": "2026-11-21", "time": "19:00", "party_size": 4},
    )
    output = result.expect.next_event().is_function_call_output(is_error=False)
    assert "available" in output.event().item.output
    # its instructions carry today's date, the time and the zone
    instructions = call.llm.requests[1].agent_instructions
    assert "2026-11-20" in instructions and "America/New_York" in instructions

    result = await call.caller_says("Priya Shah")
    result.expect.contains_agent_handoff(new_agent_type=ConfirmationAgent)
    readback = call.session.history.items[-1].text_content
    assert readback == (
        "Let me confirm: a table for 4 tomorrow at 7 PM, under Priya Shah, phone 617 555 0199. "
        "Shall I book it?"
    )
    result = await call.caller_says("Yes please")
    output, is_error = tool_output(result, "confirm")
    assert not is_error and output.startswith("Booked: code "), output

    docs = [d async for d in db.db.collection("reservations").stream()]
    assert len(docs) == 1
    booking = docs[0].to_dict()
    assert booking["date"] == "2026-11-21" and booking["time"] == "19:00:00"
    assert booking["party_size"] == 4 and booking["phone"] == CALLER
    assert booking["status"] == "confirmed"
    assert " ".join(docs[0].id) in output, "the caller is told the code that was saved"
    assert output == told("en", "booked", docs[0].id)
    assert await _slot(db, "2026-11-21T19:00") == 4
    # a four-top, for the 90 minutes a party of four dines
    assert (booking["tables"], booking["minutes"]) == (["T5"], 90)

    await call.caller_says("That's all, thanks")
    log = await call.hung_up_by_agent()
    assert log["outcome"] == "reservation" and log["ids_created"] == [docs[0].id]


async def _existing_booking(db, code="KXT4MA", party=2, at=time(19, 0)) -> Reservation:
    made = datetime(2026, 11, 18, 10, 0, tzinfo=NOW.tzinfo)
    res = Reservation(code=code, date=date(2026, 11, 21), time=at, party_size=party,
                      name="Dana Fox", phone=CALLER, call_id="call-earlier",
                      created_at=made, updated_at=made)
    await db.book_reservation(res, ROOM, made.date())
    return res


@pytest.mark.parametrize("language", ["en", "es"])
async def test_change_moves_the_booking_and_its_seats(seeded_db, language):
    db = seeded_db
    await _existing_booking(db)
    call = await open_call(
        db,
        Call("start_reservation", {"action": "change"}),
        Call("find_reservations"),
        "I see your table for 2 tomorrow at 7 PM, code K X T 4 M A. What would you like to change?",
        Call("change_reservation", {"code": "KXT4MA", "time": "20:00", "party_size": 3}),
        Call("confirm"),
        "Done, your booking is changed.",
    )
    call.userdata.language = language  # the switch itself: tests/conversation/test_spanish.py
    result = await call.caller_says("I need to change my reservation")
    output, _ = tool_output(result, "find_reservations")
    assert "KXT4MA" in output and "Dana Fox" in output
    result = await call.caller_says("Make it 8 o'clock, and three of us")
    result.expect.contains_agent_handoff(new_agent_type=ConfirmationAgent)
    assert spoken_in(language).time(time(20, 0)) in call.session.history.items[-1].text_content
    output, is_error = tool_output(await call.caller_says("Yes"), "confirm")
    assert not is_error and output == told(language, "booking_changed", "KXT4MA"), output
    saved = (await db.db.collection("reservations").document("KXT4MA").get()).to_dict()
    assert saved["status"] == "changed" and saved["time"] == "20:00:00"
    assert saved["party_size"] == 3
    assert [h["action"] for h in saved["history"]][-1] == "changed"
    assert await _slot(db, "2026-11-21T19:00") == 0
    assert await _slot(db, "2026-11-21T20:00") == 3
    await call.hang_up()
    assert (await call.call_log())["outcome"] == "change"


@pytest.mark.parametrize("language", ["en", "es"])
async def test_cancel_frees_the_seats(seeded_db, tmp_path, language):
    db = seeded_db
    await _existing_booking(db, party=4)
    call = await open_call(
        db,
        Call("start_reservation", {"action": "cancel"}),
        Call("cancel_reservation", {"code": "kxt 4ma"}),
        Call("confirm"),
        "Your booking is cancelled.",
    )
    call.userdata.language = language
    # texts configured: no text (nor reminder) is offered for a booking that was cancelled
    offer_texts_without_sending(call, db, tmp_path)
    await call.caller_says("Please cancel booking K X T 4 M A")
    asked = {"en": "Just to confirm: cancel", "es": "Solo para confirmar: ¿cancelo"}[language]
    assert call.session.history.items[-1].text_content.startswith(asked)
    output, is_error = tool_output(await call.caller_says("Yes, cancel it"), "confirm")
    # told once it is cancelled: not an error, which the model would report as a failure
    assert not is_error and output == told(language, "booking_cancelled", "KXT4MA"), output
    assert not call.userdata.text_offered
    saved = (await db.db.collection("reservations").document("KXT4MA").get()).to_dict()
    assert saved["status"] == "cancelled"
    assert await _slot(db, "2026-11-21T19:00") == 0


async def test_cannot_change_someone_elses_booking_by_code(seeded_db):
    db = seeded_db
    await _existing_booking(db)
    call = await open_call(
        db, Call("start_reservation", {"action": "cancel"}),
        Call("cancel_reservation", {"code": "KXT4MA"}), "I can't find that.",
        caller="+16175550123",
    )
    result = await call.caller_says("Cancel KXT4MA")
    output, is_error = tool_output(result, "cancel_reservation")
    assert is_error and "No upcoming booking KXT4MA" in output
    saved = (await db.db.collection("reservations").document("KXT4MA").get()).to_dict()
    assert saved["status"] == "confirmed"


@pytest.mark.parametrize(("language", "firestore_down"),
                         [("es", False), ("en", True), ("es", True)])
async def test_the_model_is_told_how_the_booking_was_saved_in_the_callers_language(
        seeded_db, monkeypatch, tmp_path, language, firestore_down):
    """Booked: its code, and a text offered; with Firestore down the booking is queued and the
    caller must hear it is only noted (staff will call), never that it is booked, and no text
    is offered for it. In the caller's language."""
    db = seeded_db
    call = await open_call(
        db,
        Call("start_reservation", {"action": "new"}),
        Call("book_table", {"date": "2026-11-21", "time": "19:00", "party_size": 4,
                            "name": "Priya Shah"}),
        Call("confirm"),
        "Noted. Anything else?",
    )
    call.userdata.language = language
    offer_texts_without_sending(call, db, tmp_path)
    if firestore_down:
        firestore_unreachable(monkeypatch, db, "_book_once")
    await call.caller_says("A table for four tomorrow at seven, Priya Shah")
    if firestore_down:  # nor can it be read: a queued booking is not looked up for a text
        firestore_unreachable(monkeypatch, db, "get_reservation")
    output, is_error = tool_output(await call.caller_says("Yes"), "confirm")
    monkeypatch.undo()

    [code] = call.userdata.ids_created
    assert not is_error
    saved = await db.get_reservation(code)
    if firestore_down:
        assert output == told(language, "booking_queued", code), output
        assert f"booking:{code}" in [e.id for e in await db.outbox.entries()]
        assert saved is None
    else:
        assert output == told(language, "booked", code, then=OFFER), output
        assert saved is not None and saved.language == language
    assert call.userdata.text_offered is not firestore_down
    opening = {("en", True): "The booking is noted under code", ("es", True): "La reserva quedó",
               ("es", False): "Reservado: código"}[language, firestore_down]
    assert output.startswith(opening), output


async def test_a_booking_changed_after_a_yes_with_more_is_read_back_before_it_is_saved(
        seeded_db):
    """"Yes, but make it 8": the yes is held, the time changed; a confirm in the same turn must
    not book what the caller has not heard read back."""
    db = seeded_db
    call = await open_call(
        db,
        Call("start_reservation", {"action": "new"}),
        Call("book_table", {"date": "2026-11-21", "time": "19:00", "party_size": 4,
                            "name": "Priya Shah"}),
        Call("confirm"),
        Call("update_booking", {"time": "20:00"}),
        Call("confirm"),
        "A table for 4 tomorrow at 8 PM. Shall I book it?",
    )
    await call.caller_says("A table for four tomorrow at seven, Priya Shah")
    result = await call.caller_says("Yes, but make it 8 instead")
    confirms = [str(e.item.output) for i, e in enumerate(result.events)
                if e.type == "function_call_output" and result.events[i - 1].type == "function_call"
                and result.events[i - 1].item.name == "confirm"]
    assert len(confirms) == 2 and "changed after the caller's yes" in confirms[1], confirms
    assert await count_docs(db, "reservations") == {"reservations": 0}
    assert call.userdata.ids_created == []
    assert call.userdata.reservation is not None and call.userdata.reservation.at == time(20, 0)
