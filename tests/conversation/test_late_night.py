"""A restaurant open until 2 AM, through the real agents and the real emulator: a booking at
11:30 PM holds its table past midnight (Saturday's seating sees it), "tonight at 12:30" said
on Friday evening is Saturday 00:30, "tonight" after midnight is the night still running and
"tomorrow" is asked, and a pickup ready after midnight is read back and saved as such.
The rules alone: tests/test_late_nights.py."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from domain.menu import Catalog
from domain.seating import Hold, SeatingPlan, double_seated
from models import Reservation, RestaurantSettings
from store import SlotFull
from testkit.scripted_llm import Call
from tests.conversation.harness import CALLER, TZ, catalog_from, open_call, tool_output

FRIDAY, SATURDAY = date(2026, 11, 20), date(2026, 11, 21)
LATE = [{"open": "17:00", "close": "02:00"}]
ONE_TABLE = {"tables": [{"id": "T1", "seats": 2}]}


async def night_owl(db) -> Catalog:
    """The demo café's menu in a room of one two-top, open 5 PM to 2 AM Friday and Saturday."""
    catalog = await catalog_from(db)
    settings = RestaurantSettings.model_validate({
        **catalog.settings.model_dump(mode="json"), "max_party_size": 2,
        "hours": {"fri": LATE, "sat": LATE}, "seating": ONE_TABLE})
    return Catalog(catalog.menu, settings)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TZ)


async def test_a_booking_at_half_past_eleven_holds_its_table_past_midnight(seeded_db):
    db, catalog = seeded_db, await night_owl(seeded_db)
    first = await open_call(
        db,
        Call("start_reservation", {"action": "new"}),
        Call("check_availability", {"date": "tonight", "time": "11:30", "party_size": 2}),
        "Tonight at 11:30 is free. What name?",
        Call("book_table", {"date": "tonight", "time": "11:30", "party_size": 2,
                            "name": "Ana Ruiz"}),
        Call("confirm"),
        "You're booked.",
        now=at(FRIDAY, 22), catalog=catalog,
    )
    result = await first.caller_says("A table for two tonight at half eleven")
    assert "open past midnight" in first.llm.requests[1].agent_instructions
    assert tool_output(result, "check_availability") == (
        "A table for 2 today at 11:30 PM is available.", False)
    await first.caller_says("Ana Ruiz")
    assert first.session.history.items[-1].text_content.startswith(
        "Let me confirm: a table for 2 today at 11:30 PM, under Ana Ruiz")
    await first.caller_says("Yes")
    await first.hang_up()
    [doc] = [d async for d in db.db.collection("reservations").stream()]
    late = Reservation.from_doc(doc.to_dict())
    assert (late.date, late.time, late.tables, late.minutes) == (FRIDAY, time(23, 30), ["T1"], 75)
    # Saturday's seating document holds the meal's end: the table is taken until 12:45 AM
    assert await db.holds_on(SATURDAY) == [Hold(late.code, -30, 75, 2, ("T1",))]

    second = await open_call(
        db,
        Call("start_reservation", {"action": "new"}),
        Call("check_availability", {"date": "tonight", "time": "12:30", "party_size": 2}),
        "12:30 is taken; 1 AM is free.",
        Call("check_availability", {"date": "tonight", "time": "1", "party_size": 2}),
        Call("book_table", {"date": "tonight", "time": "1", "party_size": 2,
                            "name": "Ben Ode", "phone": "617 555 0123"}),
        Call("confirm"),
        "You're booked.",
        now=at(FRIDAY, 22, 10), catalog=catalog,
    )
    result = await second.caller_says("Two of us tonight at twelve thirty, after midnight")
    output, is_error = tool_output(result, "check_availability")
    assert is_error
    assert output.startswith("12:30 AM is fully booked for 2. Nearest free times that day: "
                             "1 AM, 1:30 AM")
    result = await second.caller_says("One then, Ben Ode, 617 555 0123")
    assert tool_output(result, "check_availability") == (
        "A table for 2 tonight at 1 AM is available.", False)
    assert second.session.history.items[-1].text_content.startswith(
        "Let me confirm: a table for 2 tonight at 1 AM, under Ben Ode")
    await second.caller_says("Yes")
    await second.hang_up()
    saved = {r.to_dict()["name"]: r.to_dict() async for r in
             db.db.collection("reservations").stream()}
    assert (saved["Ben Ode"]["date"], saved["Ben Ode"]["time"]) == ("2026-11-21", "01:00:00")
    night = await db.holds_on(SATURDAY)
    assert sorted(h.start for h in night) == [-30, 60]
    assert double_seated(night) == []


async def test_after_midnight_tonight_is_the_night_running_and_tomorrow_is_asked(seeded_db):
    db = seeded_db
    call = await open_call(
        db,
        Call("start_reservation", {"action": "new"}),
        Call("check_availability", {"date": "tomorrow", "time": "8 PM", "party_size": 2}),
        "Do you mean Saturday or Sunday?",
        Call("check_availability", {"date": "tonight", "time": "1", "party_size": 2}),
        "Tonight at 1 AM is free.",
        now=at(SATURDAY, 0, 20), catalog=await night_owl(db),
    )
    result = await call.caller_says("A table for two tomorrow at eight")
    output, is_error = tool_output(result, "check_availability")
    assert is_error and "12:20 AM on Saturday" in output
    assert "Saturday (later today) or Sunday" in output
    result = await call.caller_says("Oh, actually, tonight, at one, if you're still open")
    assert tool_output(result, "check_availability") == (
        "A table for 2 tonight at 1 AM is available.", False)
    await call.hang_up()


async def test_a_pickup_ready_after_midnight_is_read_back_and_saved_as_such(seeded_db):
    db, catalog = seeded_db, await night_owl(seeded_db)
    call = await open_call(
        db,
        Call("start_order"),
        Call("add_item", {"item": "blt", "options": ["rye"]}),
        "A BLT. What name?",
        Call("set_customer", {"name": "Cy Moss"}),
        Call("review_order"),
        Call("confirm"),
        "Placed.",
        now=at(FRIDAY, 23, 52), catalog=catalog,
    )
    await call.caller_says("A BLT to pick up please")
    await call.caller_says("Cy Moss")
    readback = call.session.history.items[-1].text_content
    assert "ready at about 12:10 AM" in readback
    await call.caller_says("Yes")
    await call.hang_up()
    [order] = [d.to_dict() async for d in db.db.collection("orders").stream()]
    assert order["customer_phone"] == CALLER
    assert order["pickup_time"].astimezone(TZ) == at(SATURDAY, 0, 10)

    closing = await open_call(
        db, Call("start_order"), Call("add_item", {"item": "blt", "options": ["rye"]}),
        "Sorry, we close at 2.",
        now=at(SATURDAY, 1, 50), catalog=catalog,
    )
    result = await closing.caller_says("A BLT to pick up please")
    output, is_error = tool_output(result, "add_item")
    assert is_error
    assert "ready at 2:05 AM, after we close at 2 AM" in output
    await closing.hang_up()
    assert len([d async for d in db.db.collection("orders").stream()]) == 1


async def test_moving_or_cancelling_a_late_booking_frees_both_nights_documents(db):
    room = SeatingPlan.model_validate(ONE_TABLE)
    made = at(FRIDAY, 12)
    res = Reservation(code="LATE01", date=FRIDAY, time=time(23, 30), party_size=2,
                      name="Ana Ruiz", phone=CALLER, call_id="call-x", created_at=made,
                      updated_at=made)
    await db.book_reservation(res, room, FRIDAY)
    assert [h.code for h in await db.holds_on(SATURDAY)] == ["LATE01"]
    # a Saturday 00:30 booking cannot have the table, whichever day's document it reads
    early = res.model_copy(update={"code": "EARLY1", "date": SATURDAY, "time": time(0, 30)})
    with pytest.raises(SlotFull):
        await db.book_reservation(early, room, FRIDAY)
    # moved earlier, the meal ends before midnight: Saturday's document lets it go
    await db.change_reservation("LATE01", new_time=time(21, 0), call_id="x", seating=room,
                                now=made)
    assert await db.holds_on(SATURDAY) == []
    assert [h.start for h in await db.holds_on(FRIDAY)] == [21 * 60]
    assert (await db.book_reservation(early, room, FRIDAY)).status == "saved"
    # moved to 11:30 PM again, it now runs into Saturday's 12:30 AM booking: refused
    with pytest.raises(SlotFull):
        await db.change_reservation("LATE01", new_time=time(23, 30), call_id="x",
                                    seating=room, now=made)
    await db.cancel_reservation("EARLY1", call_id="x", now=made)
    await db.change_reservation("LATE01", new_time=time(23, 30), call_id="x", seating=room,
                                now=made)
    assert [h.start for h in await db.holds_on(SATURDAY)] == [-30]
    await db.cancel_reservation("LATE01", call_id="x", now=made)
    assert await db.holds_on(FRIDAY) == [] and await db.holds_on(SATURDAY) == []
