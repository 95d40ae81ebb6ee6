"""Many callers at once, through the real agents and the emulator's transactions.

* Twenty callers ask for the last free table in the same slot at the same moment: exactly
  the capacity is booked; everyone else is told the time was taken and offered other times.
* Thirty callers confirm orders at the same moment: every order is saved exactly once and the
  day's analytics equal the sum of the orders.
The number of transaction attempts the contention cost is printed (-s) for the report.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime
from datetime import time as dtime

import pytest

from domain.booking import say_time
from domain.pricing import build_line, totals
from domain.seating import SeatingPlan, Table, double_seated, minute_of
from models import Reservation
from store.menu_file import load_menu_file
from testkit.firestore import MENU_PATH
from testkit.scripted_llm import Call
from testkit.seating import seated_at, with_room
from tests.conversation.harness import NOW, catalog_from, count_docs, open_call, tool_output

pytestmark = pytest.mark.usefixtures("settle_tasks")

DAY, AT = date(2026, 11, 21), dtime(19, 0)
BOUND_S = 120


ROOM = load_menu_file(MENU_PATH).restaurant.seating.model_copy(update={"pacing": None})


async def _fill(db, parties: list[int], room: SeatingPlan = ROOM) -> None:
    made = datetime(2026, 11, 19, 9, 0, tzinfo=NOW.tzinfo)
    for n, party in enumerate(parties):
        res = Reservation(code=f"EARLY{n}", date=DAY, time=AT, party_size=party, name="Other",
                          phone="+16175550100", call_id=f"earlier-{n}", created_at=made,
                          updated_at=made)
        assert (await db.book_reservation(res, room, made.date())).status == "saved"


def _number(n: int) -> str:
    return f"+161755501{n:02d}"


async def test_twenty_callers_for_the_last_table(seeded_db):
    db = seeded_db
    await _fill(db, [2, 2, 2, 4, 4, 4, 4, 6])  # every table of the café but one two-top (T4)
    callers = 20
    # one live menu per worker process, as in production
    catalog = with_room(await catalog_from(db), ROOM)
    calls = await asyncio.gather(*[
        open_call(
            db, Call("start_reservation", {"action": "new"}),
            Call("book_table", {"date": DAY.isoformat(), "time": "19:00", "party_size": 2,
                                "name": f"Guest {n}"}),
            Call("confirm"), "Let me tell you.",
            caller=_number(n), catalog=catalog,
        ) for n in range(callers)
    ])
    async with asyncio.timeout(BOUND_S):
        await asyncio.gather(*[c.caller_says("A table for two tomorrow at seven") for c in calls])
    # Everyone was offered the table: it was free when each of them asked.
    assert all("Shall I book it?" in (c.session.history.items[-1].text_content or "")
               for c in calls)

    db.rpcs.reset()
    started = time.monotonic()
    async with asyncio.timeout(BOUND_S):
        results = await asyncio.gather(*[c.caller_says("Yes") for c in calls])
    elapsed = time.monotonic() - started
    outputs = [tool_output(r, "confirm") for r in results]
    booked = [o for o, err in outputs if not err]
    refused = [o for o, err in outputs if err]
    assert len(booked) == 1 and booked[0].startswith("Booked: code")
    assert len(refused) == callers - 1
    for text in refused:  # the truth, and what else there is
        assert "7 PM is fully booked for 2" in text and "Nearest free times that day" in text
    assert await seated_at(db, DAY) == {"19:00": 30}
    assert await count_docs(db, "reservations") == {"reservations": 8 + 1}
    booked_code = booked[0].removeprefix("Booked: code ").split(".")[0].replace(" ", "")
    assert (await db.get_reservation(booked_code)).tables == ["T4"]
    assert double_seated(await db.holds_on(DAY)) == []
    stats = await db.get_analytics(NOW.date())
    assert stats.reservations == 1 and stats.covers == 2
    rpcs = db.rpcs.snapshot()
    seating, snapshots = db.rpcs.commits_to("seating"), db.rpcs.commits_to("call_snapshots")
    # Every caller's check-and-set on the day's seating is one commit attempt; the losers'
    # attempts fail their precondition, are read again and refused (SlotFull) without another
    # commit. At least one loser committed on a table it had read as free: the race happened.
    assert 2 <= seating <= 2 * callers and "begin_transaction" not in rpcs
    # The other commits are each call's resumable state (conversation/call_snapshot.py), one
    # document per call, so no contention: the caller's "yes", what the tools did, the reply. A
    # write per
    # event instead (agent states included) would be six a turn.
    assert snapshots <= 5 * callers
    assert rpcs.get("commit", 0) == seating + snapshots, db.rpcs.commits_by_collection
    print(f"\nlast table: {callers} confirms in {elapsed:.1f}s, {seating} seating commit "
          f"attempts for 1 booking ({seating - 1} lost the race and were re-read), "
          f"{rpcs.get('batch_get_documents', 0)} reads, {snapshots} call-state writes; "
          f"rpcs {rpcs}")
    for c in calls:
        await c.hang_up()


# Two tables that can be pushed together, and requests at four start times from 6:30 to 8 PM
# whose meals (75 to 120 minutes) overlap one another at one table or both.
PAIR = SeatingPlan(tables=[Table(id="A", seats=4, joins=["B"]), Table(id="B", seats=2)])
RACE = [("18:30", 2), ("19:00", 4), ("19:30", 6), ("19:00", 2), ("20:00", 3), ("18:30", 6)]


async def test_different_start_times_race_for_the_same_tables(seeded_db):
    """Twelve callers, six different requests, start times half an hour to an hour and a half
    apart, parties that need one table or both joined: at no moment is a table held twice."""
    db = seeded_db
    callers = 12
    catalog = with_room(await catalog_from(db), PAIR)
    plans = [RACE[n % len(RACE)] for n in range(callers)]
    calls = await asyncio.gather(*[
        open_call(
            db, Call("start_reservation", {"action": "new"}),
            Call("book_table", {"date": DAY.isoformat(), "time": at, "party_size": party,
                                "name": f"Guest {n}"}),
            Call("confirm"), "Let me tell you.",
            caller=_number(n), catalog=catalog,
        ) for n, (at, party) in enumerate(plans)
    ])
    async with asyncio.timeout(BOUND_S):
        await asyncio.gather(*[c.caller_says("A table tomorrow evening") for c in calls])
    assert all("Shall I book it?" in (c.session.history.items[-1].text_content or "")
               for c in calls), "the room was empty when each of them asked"
    async with asyncio.timeout(BOUND_S):
        results = await asyncio.gather(*[c.caller_says("Yes") for c in calls])
    outputs = [tool_output(r, "confirm") for r in results]
    booked = [n for n, (_, err) in enumerate(outputs) if not err]
    holds = await db.holds_on(DAY)
    assert double_seated(holds) == []
    # What stands is exactly what the callers were told: one hold per booked caller.
    assert len(holds) == len(booked) >= 1
    # Bookings only accumulate here, so a caller refused then could not be seated now either:
    # nobody was turned away from a table that was free for their whole meal.
    for n, (at, party) in enumerate(plans):
        if n not in booked:
            assert PAIR.fit(holds, minute_of(dtime.fromisoformat(at)), party) is None, (at, party)
    seated = sorted(h.tables for h in holds)
    for n, (text, err) in enumerate(outputs):
        if err:  # told the truth, and offered only other times
            asked = say_time(dtime.fromisoformat(plans[n][0]))
            assert text.startswith(f"{asked} is fully booked for {plans[n][1]}")
            assert asked not in text.split("Nearest free times that day:")[-1]
    print(f"\nrace: {callers} callers at 4 start times for 2 tables: {len(booked)} booked "
          f"({seated}), {callers - len(booked)} offered other times")
    for c in calls:
        await c.hang_up()


ORDERS = [  # (item as said, quantity, size, options)
    ("cappuccino", 1, "large", ["oat milk"]), ("latte", 2, "small", []),
    ("croissant", 3, None, []), ("blt", 1, None, ["rye"]), ("americano", 2, "medium", []),
]


async def test_thirty_callers_confirm_orders_at_once(seeded_db):
    db = seeded_db
    callers = 30
    plans = [ORDERS[n % len(ORDERS)] for n in range(callers)]
    catalog = await catalog_from(db)
    calls = await asyncio.gather(*[
        open_call(
            db, Call("start_order"),
            Call("add_item", {"item": item, "quantity": qty, "size": size, "options": opts}),
            Call("set_customer", {"name": f"Caller {n}"}), Call("review_order"),
            Call("confirm"), "Done!",
            caller=_number(n), catalog=catalog,
        ) for n, (item, qty, size, opts) in enumerate(plans)
    ])
    async with asyncio.timeout(BOUND_S):
        await asyncio.gather(*[c.caller_says("My order please") for c in calls])
    db.rpcs.reset()
    started = time.monotonic()
    async with asyncio.timeout(BOUND_S):
        results = await asyncio.gather(*[c.caller_says("Yes") for c in calls])
    elapsed = time.monotonic() - started
    assert all(not tool_output(r, "confirm")[1] for r in results)
    assert all(tool_output(r, "confirm")[0].startswith("Order placed") for r in results)

    menu = calls[0].userdata.services.catalog.menu
    tax = calls[0].userdata.settings.tax_rate
    expected = {}
    for c, (item, qty, size, opts) in zip(calls, plans, strict=True):
        line = build_line(menu, item, quantity=qty, size=size, options=opts)
        expected[c.userdata.ids_created[0]] = totals([line], tax)[2]

    orders = {d.id: d.to_dict() async for d in db.db.collection("orders").stream()}
    assert len(orders) == callers and set(orders) == set(expected)
    assert {oid: o["total_cents"] for oid, o in orders.items()} == expected
    stats = await db.get_analytics(NOW.date())
    assert stats.orders == callers
    assert stats.revenue_cents == sum(expected.values())
    assert await count_docs(db, "customers") == {"customers": callers}
    rpcs = db.rpcs.snapshot()
    # One commit per order (order, customer and the day's counters together); the shared
    # analytics document takes increments, which do not contend.
    saves, snapshots = db.rpcs.commits_to("orders"), db.rpcs.commits_to("call_snapshots")
    assert callers <= saves <= 2 * callers and "begin_transaction" not in rpcs
    assert rpcs.get("commit", 0) == saves + snapshots, db.rpcs.commits_by_collection
    print(f"\norders: {callers} confirms in {elapsed:.1f}s, {saves} order commits, "
          f"{snapshots} call-state writes, revenue {stats.revenue_cents} cents")
    for c in calls:
        await c.hang_up()
