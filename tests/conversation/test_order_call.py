"""A caller orders for pickup: routed, matched, priced in code, read back, saved once."""

from __future__ import annotations

from actions.reservations import spell
from agents import ConfirmationAgent, OrderAgent
from domain import ids
from testkit.records import make_order
from testkit.scripted_llm import Call
from tests.conversation.harness import CALLER, open_call, tool_output


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
    result.expect.contains_function_call(name="confirm")
    orders = [d async for d in db.db.collection("orders").stream()]
    assert len(orders) == 1
    order = orders[0].to_dict()
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
