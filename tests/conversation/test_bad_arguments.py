"""Every bad argument the model can pass gets a ToolError saying what to ask; nothing is saved."""

from __future__ import annotations

import pytest

from testkit.scripted_llm import Call
from tests.conversation.harness import (
    NOW,
    SAVED_COLLECTIONS,
    count_docs,
    open_call,
    tool_output,
)
from tests.conversation.harness import (
    Call as PhoneCall,
)


async def _order_agent_call(db, tool_call: Call) -> PhoneCall:
    call = await open_call(db, Call("start_order"), "Sure, what can I get you?", tool_call, "Hmm.")
    await call.caller_says("I'd like to order")
    return call


ORDER_CASES = [
    ({"item": "lobster thermidor"}, "not on our menu"),
    ({"item": "pumpkin loaf"}, "sold out"),
    ({"item": "cappuccino", "size": "gigantic"}, "no size 'gigantic'"),
    ({"item": "cappuccino", "options": ["bacon"]}, "no option 'bacon'"),
    ({"item": "blt sandwich"}, "needs a choice of"),
    ({"item": "croissant", "quantity": 0}, "Quantity 0"),
    ({"item": "croissant", "quantity": 500}, "Quantity 500"),
]


@pytest.mark.parametrize(("args", "says"), ORDER_CASES, ids=[c[1] for c in ORDER_CASES])
async def test_add_item_refuses_bad_arguments(seeded_db, args, says):
    call = await open_call(seeded_db, Call("start_order"), Call("add_item", args), "Sorry.")
    result = await call.caller_says("I'd like to order something")
    output, is_error = tool_output(result, "add_item")
    assert is_error and says in output
    assert call.userdata.cart.lines == []
    await call.hang_up()
    counts = await count_docs(seeded_db, *SAVED_COLLECTIONS)
    assert counts == dict.fromkeys(SAVED_COLLECTIONS, 0)


async def test_sold_out_item_offers_alternatives_from_its_category(seeded_db):
    call = await open_call(seeded_db, Call("start_order"),
                           Call("add_item", {"item": "pumpkin loaf"}), "Sorry.")
    result = await call.caller_says("Can I get the pumpkin loaf")
    output, _ = tool_output(result, "add_item")
    pastries = {i.name for i in call.userdata.services.catalog.menu.items.values()
                if i.category == "pastries" and i.available}
    offered = output.split("Offer instead:")[1]
    assert any(name in offered for name in pastries)
    assert "Pumpkin" not in offered


async def test_malformed_phone_is_refused(seeded_db):
    call = await open_call(
        seeded_db, Call("start_order"), Call("add_item", {"item": "croissant"}),
        Call("set_customer", {"name": "Ann", "phone": "12 34"}), "What's your number?",
    )
    result = await call.caller_says("A croissant for Ann, my number is 12 34")
    output, is_error = tool_output(result, "set_customer")
    assert is_error and "not a valid phone number" in output
    assert call.userdata.cart.customer_phone is None


async def _fill_room(db, day, at):
    """Every table of the demo café taken at `at` (staff seating walk-ins: no pacing)."""
    from datetime import datetime

    from models import Reservation
    from store.menu_file import load_menu_file
    from tests.conftest import MENU_PATH

    room = load_menu_file(MENU_PATH).restaurant.seating.model_copy(update={"pacing": None})
    for n, party in enumerate([2, 2, 2, 2, 4, 4, 4, 4, 6]):
        now = datetime(2026, 11, 19, 9, 0, tzinfo=NOW.tzinfo)
        res = Reservation(code=f"FULL{n:02d}", date=day, time=at, party_size=party,
                          name="Other", phone="+16175550100", call_id=f"other-{n}",
                          created_at=now, updated_at=now)
        await db.book_reservation(res, room, now.date())


RESERVATION_CASES = [
    ({"date": "2026-11-21", "time": "19:00", "party_size": 0}, "how many people"),
    ({"date": "2026-11-21", "time": "19:00", "party_size": 40}, "up to 8 people"),
    ({"date": "2026-11-19", "time": "19:00", "party_size": 2}, "in the past"),
    ({"date": "2026-11-21", "time": "23:30", "party_size": 2}, "not available that day"),
    ({"date": "2026-11-21", "time": "06:00", "party_size": 2}, "not available that day"),
    ({"date": "2027-06-01", "time": "19:00", "party_size": 2}, "days ahead"),
]


@pytest.mark.parametrize(("args", "says"), RESERVATION_CASES,
                         ids=[f"{c[0]['party_size']}@{c[0]['date']}T{c[0]['time']}"
                              for c in RESERVATION_CASES])
async def test_check_availability_refuses_bad_bookings(seeded_db, args, says):
    call = await open_call(seeded_db, Call("start_reservation", {"action": "new"}),
                           Call("check_availability", args), "Sorry.")
    result = await call.caller_says("I want to book a table")
    output, is_error = tool_output(result, "check_availability")
    assert is_error and says in output
    await call.hang_up()
    counts = await count_docs(seeded_db, "reservations", "seating")
    assert counts == {"reservations": 0, "seating": 0}


async def test_full_slot_offers_nearest_free_times(seeded_db):
    from datetime import date, time

    await _fill_room(seeded_db, date(2026, 11, 21), time(19, 0))
    before = await count_docs(seeded_db, "reservations")
    call = await open_call(
        seeded_db, Call("start_reservation", {"action": "new"}),
        Call("book_table", {"date": "2026-11-21", "time": "19:00", "party_size": 2,
                            "name": "Lee"}),
        "Sorry, 7 is full.",
    )
    result = await call.caller_says("Table for two tomorrow at 7 under Lee")
    output, is_error = tool_output(result, "book_table")
    assert is_error and "fully booked" in output
    # Every table is held from 7 until 8:15 at the earliest, so 6:30 and 7:30 do not truly
    # fit a 75-minute meal for two: the nearest that do are 5:30 (gone by 6:45) and 8:30.
    assert "5:30 PM" in output and "8:30 PM" in output
    assert "6:30 PM" not in output and "7:30 PM" not in output
    assert await count_docs(seeded_db, "reservations") == before


async def test_closed_day_is_refused_with_hours(seeded_db):
    # Sunday closes at 16:00
    call = await open_call(
        seeded_db, Call("start_reservation", {"action": "new"}),
        Call("check_availability", {"date": "2026-11-22", "time": "18:00", "party_size": 2}),
        "Sorry.",
    )
    result = await call.caller_says("Sunday at six for two")
    output, is_error = tool_output(result, "check_availability")
    assert is_error and "not available that day" in output and "3:30 PM" in output


async def test_third_error_in_a_row_points_to_staff(seeded_db):
    call = await open_call(
        seeded_db, Call("start_order"),
        Call("add_item", {"item": "unicorn steak"}),
        Call("add_item", {"item": "dragon soup"}),
        Call("add_item", {"item": "phoenix pie"}),
        "I'm sorry, let me get someone to help.",
    )
    result = await call.caller_says("unicorn steak, dragon soup, phoenix pie")
    outputs = [str(e.item.output) for e in result.events if e.type == "function_call_output"]
    errors = [o for o in outputs if "not on our menu" in o]
    assert len(errors) == 3
    assert "transfer_to_staff" not in errors[1]
    assert "transfer_to_staff" in errors[2]
