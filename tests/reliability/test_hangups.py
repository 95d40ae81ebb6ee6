"""The caller hangs up half-way: the call log is kept (outcome "abandoned") and nothing
half-written is left behind. (Hanging up mid-order, before the read-back, is covered in
tests/conversation/test_routing.py.)"""

from __future__ import annotations

import asyncio

import pytest

from agents import ConfirmationAgent
from testkit.scripted_llm import Call
from tests.conversation.harness import SAVED_COLLECTIONS, count_docs, open_call

pytestmark = pytest.mark.usefixtures("settle_tasks")

NOTHING_SAVED = dict.fromkeys(SAVED_COLLECTIONS, 0)


async def _log(db, call) -> dict:
    doc = await db.db.document(f"call_logs/{call.userdata.call_id}").get()
    assert doc.exists, "the call log was not written"
    return doc.to_dict()


async def test_hang_up_during_the_booking_read_back_books_nothing(seeded_db):
    db = seeded_db
    call = await open_call(
        db, Call("start_reservation", {"action": "new"}),
        Call("book_table", {"date": "2026-11-21", "time": "19:00", "party_size": 4,
                            "name": "Priya Shah"}),
    )
    await call.caller_says("A table for four tomorrow at seven for Priya Shah")
    assert isinstance(call.session.current_agent, ConfirmationAgent)
    assert "Shall I book it?" in (call.session.history.items[-1].text_content or "")
    await call.hang_up()  # gone before saying yes
    log = await _log(db, call)
    assert log["outcome"] == "abandoned" and log["ids_created"] == []
    assert any("Shall I book it?" in line["text"] for line in log["transcript"])
    assert await count_docs(db, *SAVED_COLLECTIONS) == NOTHING_SAVED
    assert (await db.get_analytics(call.userdata.now.date())).abandoned == 1


async def test_hang_up_during_the_order_read_back_orders_nothing(seeded_db):
    db = seeded_db
    call = await open_call(
        db, Call("start_order"), Call("add_item", {"item": "croissant", "quantity": 3}),
        Call("set_customer", {"name": "Sam Rivera"}), Call("review_order"),
    )
    await call.caller_says("Three croissants for Sam Rivera")
    assert "Shall I place the order?" in (call.session.history.items[-1].text_content or "")
    await call.hang_up()
    log = await _log(db, call)
    assert log["outcome"] == "abandoned"
    assert await count_docs(db, *SAVED_COLLECTIONS) == NOTHING_SAVED


async def _hang_up_when(call, ready, timeout_s: float = 10.0) -> bool:
    """Hang up as soon as `ready()`; True if the save had not finished at that moment."""
    async with asyncio.timeout(timeout_s):
        while not ready():  # noqa: ASYNC110 (a condition, not an event: polled every pass)
            await asyncio.sleep(0)  # every loop pass: the race window can be one RPC long
    unsaved = "order" not in call.userdata.outcomes
    await call.hang_up()
    return unsaved


@pytest.mark.parametrize("moment", ["the model has just been asked", "the commit is in flight"])
async def test_hang_up_while_the_yes_is_being_saved_is_all_or_nothing(seeded_db, moment):
    """The caller says yes and hangs up at once: either the whole order (order, customer,
    analytics) is saved and the log says "order", or nothing is and it says "abandoned".
    Never an order the log calls abandoned, nor a log that claims an order not saved.

    The hang-up is timed from inside the "yes" turn: once the model has been asked what to do
    with it (the confirm tool call is on its way), or once the save's commit has been sent to
    Firestore and not yet answered. Either way the save has not finished when the caller goes."""
    db = seeded_db
    call = await open_call(
        db, Call("start_order"), Call("add_item", {"item": "croissant"}),
        Call("set_customer", {"name": "Sam Rivera"}), Call("review_order"),
        Call("confirm"), "Done!",
    )
    await call.caller_says("A croissant for Sam Rivera")
    # the order's own commit: the call's state snapshots are commits too, and come first
    asked, commits = len(call.llm.requests), db.rpcs.commits_to("orders")
    if moment == "the model has just been asked":
        ready = lambda: len(call.llm.requests) > asked  # noqa: E731
    else:
        ready = lambda: db.rpcs.commits_to("orders") > commits  # noqa: E731
    turn = asyncio.create_task(call.caller_says("Yes"))
    raced = await _hang_up_when(call, ready)
    await asyncio.gather(turn, return_exceptions=True)
    log = await _log(db, call)
    counts = await count_docs(db, "orders", "customers")
    stats = await db.get_analytics(call.userdata.now.date())
    print(f"hang-up when {moment} ->", log["outcome"], counts)
    assert raced, "the save finished before the hang-up: no race was tested"
    if log["outcome"] == "order":
        assert counts == {"orders": 1, "customers": 1} and stats.orders == 1
        assert log["ids_created"] == [d.id async for d in db.db.collection("orders").stream()]
    else:
        assert log["outcome"] == "abandoned", log["outcome"]
        assert counts == {"orders": 0, "customers": 0} and stats.orders == 0
