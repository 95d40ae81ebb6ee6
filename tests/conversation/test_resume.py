"""A call picked up by a second agent after the first one died (the re-dispatch case).

The first agent keeps the call's state in Firestore as it goes (conversation/call_snapshot.py); a
second agent in the same call (same call id) starts from that state, apologises and says where the
caller was, and never takes a saved order again. Real agents, real emulator, scripted LLM."""

from __future__ import annotations

import asyncio

from livekit.agents import AgentSession

from actions.reservations import spell
from agents.call import SESSION_OPTIONS, new_call, start_call
from conversation.call_snapshot import CallSnapshot, load_for, restore
from conversation.state import CallServices
from domain import ids
from testkit.scripted_llm import Call as ToolCall
from testkit.scripted_llm import ScriptedLLM
from tests.conversation.harness import (
    NOW,
    OPENED,
    Call,
    Phone,
    catalog_from,
    open_call,
    tool_output,
)


async def _saved_state(call: Call, stage: str, within: float = 5.0) -> CallSnapshot:
    """The state the first agent wrote, once it is at `stage` with what the call had then
    (the snapshot right after a handoff can come before the tool that filled the cart)."""
    db = call.userdata.services.db
    want = list(call.userdata.cart.lines)
    async with asyncio.timeout(within):
        while True:
            state = await load_for(db, call.userdata.call_id)
            if state is not None and state.stage == stage and state.cart == want:
                return state
            await asyncio.sleep(0.05)


async def _resume(first: Call, state: CallSnapshot, *steps: object) -> Call:
    """A second agent for the same call, started from `state` (as main.py does)."""
    db = first.userdata.services.db
    llm = ScriptedLLM(list(steps))  # type: ignore[arg-type]
    OPENED.append(llm)
    services = CallServices(db=db, catalog=await catalog_from(db), clock=lambda: NOW,
                            transfer=Phone().transfer)
    userdata = await new_call(first.userdata.call_id, services, first.userdata.caller_phone,
                              look_up_caller=False)
    restore(state, userdata)
    session: AgentSession = AgentSession(llm=llm, userdata=userdata, **SESSION_OPTIONS)
    closed = asyncio.Event()
    session.on("close", lambda _: closed.set())
    handle = await start_call(session, userdata, resume=state)
    if handle is not None:
        await handle
    async with asyncio.timeout(5):  # at the read-back, the confirmation agent speaks on entry
        while True:
            if any(i.type == "message" and i.role == "assistant"
                   for i in session.history.items):
                break
            await asyncio.sleep(0.02)
    if session.current_speech is not None:
        await session.current_speech
    said = [i.text_content or "" for i in session.history.items if i.type == "message"]
    return Call(session=session, llm=llm, userdata=userdata, phone=Phone(),
                greeting=said[-1] if said else "", closed=closed)


async def test_a_call_resumed_mid_order_keeps_the_cart_and_says_so(seeded_db):
    db = seeded_db
    first = await open_call(
        db, ToolCall("start_order"), ToolCall("add_item", {"item": "a large cap"}),
        "A large cappuccino. What name is the order under?",
    )
    await first.caller_says("A large cap please")
    state = await _saved_state(first, "order")  # the job dies here
    assert [line.item_id for line in state.cart] == ["cappuccino"]

    second = await _resume(
        first, state,
        ToolCall("set_customer", {"name": "Sam Rivera"}), ToolCall("review_order"),
        ToolCall("confirm"), "Placed. Anything else?",
    )
    assert second.greeting.startswith("Sorry about that, we were cut off. You have 1 large "
                                      "Cappuccino so far."), second.greeting
    assert second.agent_id == "order_agent"
    assert second.userdata.resumed == 1
    # the new agent's model is told what happened before the crash
    await second.caller_says("It's Sam Rivera")
    told = " ".join(text for _, text in second.llm.requests[0].messages)
    assert "large cap please" in told and "cut off" in told
    result = await second.caller_says("Yes")
    said, _ = tool_output(result, "confirm")
    orders = [d.to_dict() async for d in db.db.collection("orders").stream()]
    assert len(orders) == 1 and orders[0]["customer_name"] == "Sam Rivera"
    assert orders[0]["id"] == ids.order_id(first.userdata.call_id, 1)  # deterministic
    assert spell(orders[0]["order_number"]) in said
    await second.hang_up()
    log = await second.call_log()
    assert (log["status"], log["outcome"], log["resumed"]) == ("completed", "order", 1)
    assert log["transcript"][1]["text"] == "A large cap please"  # said to the first agent
    assert await load_for(db, first.userdata.call_id) is None, "the state outlived the call"


async def test_an_order_saved_just_before_the_crash_is_announced_not_taken_again(seeded_db):
    db = seeded_db
    first = await open_call(
        db, ToolCall("start_order"), ToolCall("add_item", {"item": "a large cap"}),
        "A large cappuccino. What name is the order under?",
        ToolCall("set_customer", {"name": "Sam Rivera"}), ToolCall("review_order"),
        ToolCall("confirm"), "Placed. Anything else?",
    )
    await first.caller_says("A large cap please")
    await first.caller_says("It's Sam Rivera")
    # the job dies after the order is committed but before its state says so
    before_yes = await _saved_state(first, "confirmation")
    result = await first.caller_says("Yes")
    placed, _ = tool_output(result, "confirm")

    second = await _resume(first, before_yes)
    orders = [d.to_dict() async for d in db.db.collection("orders").stream()]
    assert len(orders) == 1, "the order was taken twice"
    number = spell(orders[0]["order_number"])
    assert number in placed
    assert second.greeting.startswith("Sorry about that, we were cut off. Order placed: "
                                      f"number {number}"), second.greeting
    assert not second.userdata.cart and second.userdata.ids_created == [orders[0]["id"]]
    assert (await db.get_analytics(orders[0]["created_at"].date())).orders == 1


async def test_a_call_resumed_at_the_read_back_reads_it_again_after_the_apology(seeded_db):
    db = seeded_db
    first = await open_call(
        db, ToolCall("start_order"), ToolCall("add_item", {"item": "a large cap"}),
        "A large cappuccino. What name is the order under?",
        ToolCall("set_customer", {"name": "Sam Rivera"}), ToolCall("review_order"),
    )
    await first.caller_says("A large cap please")
    await first.caller_says("It's Sam Rivera")
    state = await _saved_state(first, "confirmation")
    second = await _resume(first, state)
    assert second.agent_id == "confirmation_agent"
    assert second.greeting.startswith("Sorry about that, we were cut off. Let me read that "
                                      "back: 1 large Cappuccino."), second.greeting
    assert [d async for d in db.db.collection("orders").stream()] == []
