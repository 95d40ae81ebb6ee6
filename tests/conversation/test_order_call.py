"""A caller orders for pickup: routed, matched, priced in code, read back, saved once."""

from __future__ import annotations

import pytest

from actions.reservations import spell
from agents import ConfirmationAgent, OrderAgent
from domain import ids
from domain.lines import say
from domain.spoken import spoken_in
from testkit.records import make_order
from testkit.scripted_llm import Call
from tests.conversation.harness import (
    CALLER,
    TZ,
    firestore_unreachable,
    offer_texts_without_sending,
    open_call,
    tool_output,
)

# What the model is told to do with the confirmation line: say it, then ask for more.
TELL = " Tell the caller, and ask if there is anything else."
TELL_EXACTLY = " Tell the caller exactly that, and ask if there is anything else."
OFFER = (" Tell the caller, then ask in one short question whether they want a text with the "
         "order (yes: call send_text; no: call no_text), and if there is anything else.")


def placed_line(language: str, order: dict, then: str = TELL) -> str:
    """The confirm tool's output for a saved order document, built as the caller hears it."""
    sp = spoken_in(language)
    return say(language, "order_placed", number=sp.code(order["order_number"]),
               total=sp.money(order["total_cents"]),
               pickup=sp.time(order["pickup_time"].astimezone(TZ).time())) + then


async def test_full_order_call_saves_one_priced_order(seeded_db):
    db = seeded_db
    call = await open_call(
        db,
        # turn 1: "a large cap with oat milk and a BLT on rye"
        Call("start_order"),
        Call("add_item", {"item": "a large cap", "options": ["oat milk"]}),
        Call("add_item", {"item": "blt", "options": ["rye"]}),
        "A large cappuccino with oat milk and a BLT on rye. What name is the order under?",
        # turn 2: the name
        Call("set_customer", {"name": "Sam Rivera"}),
        Call("review_order"),
        # turn 3: "yes"
        Call("confirm"),
        "Your order number is ready. Anything else?",
        # turn 4: "no thanks, bye"
        Call("end_call"),
    )
    assert "Harbor Street Café" in call.greeting
    assert call.llm.requests == [], "the greeting must not cost an LLM request"

    result = await call.caller_says("Hi, a large cap with oat milk and a BLT on rye please")
    result.expect.next_event().is_function_call(name="start_order")
    result.expect.next_event().is_function_call_output()
    result.expect.next_event().is_agent_handoff(new_agent_type=OrderAgent)
    result.expect.next_event().is_function_call(
        name="add_item", arguments={"item": "a large cap", "options": ["oat milk"]}
    )
    added = result.expect.next_event().is_function_call_output().event().item.output
    # $4.25 + $1.00 large + $0.75 oat milk, priced by the tool, not by the model
    assert "Cappuccino" in added and "$6.00" in added
    result.expect.next_event().is_function_call(name="add_item")
    result.expect.next_event().is_function_call_output()
    result.expect.next_event().is_message(role="assistant")
    # the receiving agent saw the caller's actual request: it did not have to ask again
    order_request = call.llm.requests[1]
    assert any("large cap" in text for _, text in order_request.messages)

    result = await call.caller_says("It's Sam Rivera")
    result.expect.contains_function_call(name="set_customer", arguments={"name": "Sam Rivera"})
    result.expect.contains_agent_handoff(new_agent_type=ConfirmationAgent)
    readback = call.session.history.items[-1].text_content or ""
    assert "cappuccino" in readback.lower() and "Sam Rivera" in readback
    assert "617 555 0199" in readback, "the caller ID is read back for confirmation"

    result = await call.caller_says("Yes, that's right")
    said, is_error = tool_output(result, "confirm")
    orders = [d async for d in db.db.collection("orders").stream()]
    assert len(orders) == 1
    order = orders[0].to_dict()
    # the model is told the saved number, total and pickup time, as the caller hears them
    assert not is_error and said == placed_line("en", order), said
    assert said.startswith(f"Order placed: number {spell(order['order_number'])}, total $")
    assert order["customer_name"] == "Sam Rivera" and order["customer_phone"] == CALLER
    assert [line["item_id"] for line in order["lines"]] == ["cappuccino", "blt-sandwich"]
    assert order["subtotal_cents"] == 600 + order["lines"][1]["unit_price_cents"]
    assert order["total_cents"] == order["subtotal_cents"] + order["tax_cents"]

    result = await call.caller_says("No, that's all, bye")
    result.expect.contains_function_call(name="end_call")
    log = await call.hung_up_by_agent()
    assert call.session.history.items[-1].text_content.startswith("Thank you for calling")
    assert log["outcome"] == "order" and log["ids_created"] == [orders[0].id]
    assert log["agents_visited"][:3] == ["intent_classifier", "order_agent", "confirmation_agent"]
    assert not call.llm.overrun


async def test_an_order_id_holding_another_order_is_never_announced_as_placed(seeded_db):
    """A second agent in the same call (re-dispatch after a crash) starts its order counter
    over: its first order id may already hold the earlier order. The new order is saved under
    the next id and the caller hears the new number, not "already saved" for the wrong one."""
    db = seeded_db
    call = await open_call(
        db,
        Call("start_order"),
        Call("add_item", {"item": "a large cap"}),
        "A large cappuccino. What name is the order under?",
        Call("set_customer", {"name": "Sam Rivera"}),
        Call("review_order"),
        Call("confirm"),
        "Placed. Anything else?",
    )
    earlier = make_order(call.userdata.call_id, 1, name="Earlier Order", quantity=3)
    await db.save_order(earlier, earlier.created_at.date())

    await call.caller_says("A large cap please")
    await call.caller_says("It's Sam Rivera")
    result = await call.caller_says("Yes")
    said, is_error = tool_output(result, "confirm")

    new_id = ids.order_id(call.userdata.call_id, 2)
    assert not is_error
    assert said.startswith("Order placed") and spell(ids.order_number(new_id)) in said, said
    assert spell(earlier.order_number) not in said
    orders = {d.id: d.to_dict() async for d in db.db.collection("orders").stream()}
    assert set(orders) == {earlier.id, new_id}
    assert orders[new_id]["customer_name"] == "Sam Rivera"
    assert [(ln["item_id"], ln["size"]) for ln in orders[new_id]["lines"]] == [
        ("cappuccino", "large")
    ]
    assert orders[earlier.id]["customer_name"] == "Earlier Order"
    assert call.userdata.ids_created == [new_id]


@pytest.mark.parametrize(("language", "firestore_down"),
                         [("es", False), ("en", True), ("es", True)])
async def test_the_model_is_told_how_the_order_was_saved_in_the_callers_language(
        seeded_db, monkeypatch, tmp_path, language, firestore_down):
    """Placed: number, total and pickup time, and a text offered; with Firestore down the
    order is queued and the caller must hear it is only noted (staff will call), never that it
    is placed, and no text is offered for it. In the caller's language (the switch itself:
    tests/conversation/test_spanish.py)."""
    db = seeded_db
    call = await open_call(
        db,
        Call("start_order"),
        Call("add_item", {"item": "a large cap"}),
        "A large cappuccino. What name is the order under?",
        Call("set_customer", {"name": "Sam Rivera"}),
        Call("review_order"),
        Call("confirm"),
        "Noted. Anything else?",
    )
    call.userdata.language = language
    offer_texts_without_sending(call, db, tmp_path)
    if firestore_down:
        firestore_unreachable(monkeypatch, db, "_commit_order")
    await call.caller_says("A large cap please")
    await call.caller_says("Sam Rivera")
    said, is_error = tool_output(await call.caller_says("Yes"), "confirm")

    [oid] = call.userdata.ids_created
    assert not is_error
    if firestore_down:
        number = spoken_in(language).code(ids.order_number(oid))
        assert said == say(language, "order_queued", number=number) + TELL_EXACTLY, said
        assert f"order:{oid}" in [e.id for e in await db.outbox.entries()]
        assert not (await db.db.document(f"orders/{oid}").get()).exists
    else:
        order = (await db.db.document(f"orders/{oid}").get()).to_dict()
        assert said == placed_line(language, order, then=OFFER), said
    assert call.userdata.text_offered is not firestore_down
    opening = {("en", True): "The order is noted as number", ("es", True): "El pedido quedó",
               ("es", False): "Pedido hecho: número"}[language, firestore_down]
    assert said.startswith(opening), said
