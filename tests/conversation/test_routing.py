"""Routing, handoffs, corrections, people and hang-ups: what the caller notices."""

from __future__ import annotations

from datetime import datetime

from agents import ConfirmationAgent, IntentClassifier, OrderAgent, ReservationAgent
from testkit.scripted_llm import Call
from tests.conversation.harness import (
    NOW,
    SAVED_COLLECTIONS,
    Phone,
    count_docs,
    open_call,
    tool_output,
)


async def test_handoff_costs_one_llm_request_and_greeting_none(seeded_db):
    call = await open_call(seeded_db, Call("start_order"), "Sure! What would you like?")
    assert len(call.llm.requests) == 0
    await call.caller_says("I want to order")
    # one request by the classifier (the handoff call), one by the order agent (its answer):
    # the handoff itself adds exactly one, and no "let me transfer you" generation.
    assert len(call.llm.requests) == 2
    assert call.agent_id == "order_agent"
    assert all(r.parallel_tool_calls is False for r in call.llm.requests)


async def test_question_is_answered_from_data_without_handoff(seeded_db):
    call = await open_call(
        seeded_db, Call("menu_info", {"query": "vegan"}),
        "Yes: we have several vegan dishes.", Call("menu_info", {"query": "cappuccino"}),
        "A large cappuccino is five twenty-five.",
    )
    result = await call.caller_says("Do you have anything vegan?")
    output, _ = tool_output(result, "menu_info")
    vegan = [i.name for i in call.userdata.services.catalog.menu.items.values()
             if "vegan" in i.dietary]
    assert vegan and all(name in output for name in vegan)
    result = await call.caller_says("How much is a large cappuccino?")
    output, _ = tool_output(result, "menu_info")
    assert "large $5.25" in output and "allergens" in output
    assert call.agent_id == "intent_classifier"
    assert not any(e.type == "agent_handoff" for e in result.events)
    await call.hang_up()
    assert (await call.call_log())["outcome"] == "info"


async def test_correction_during_confirmation_does_not_start_over(seeded_db):
    db = seeded_db
    call = await open_call(
        db, Call("start_order"),
        Call("add_item", {"item": "cappuccino", "size": "large"}),
        Call("set_customer", {"name": "Jo"}), Call("review_order"),
        # "actually make it a medium"
        Call("change_item", {"line_number": 1, "size": "medium"}),
        "Sure: one medium cappuccino, four seventy-five ... shall I place it?",
        Call("confirm"), "Placed!",
    )
    await call.caller_says("A large cappuccino for Jo")
    assert isinstance(call.session.current_agent, ConfirmationAgent)
    result = await call.caller_says("Actually, make it a medium")
    output, is_error = tool_output(result, "change_item")
    assert not is_error and "1 medium Cappuccino" in output and "Shall I place" in output
    assert isinstance(call.session.current_agent, ConfirmationAgent)
    await call.caller_says("Yes")
    orders = [d.to_dict() async for d in db.db.collection("orders").stream()]
    assert len(orders) == 1 and orders[0]["lines"][0]["size"] == "medium"
    assert orders[0]["subtotal_cents"] == 475


async def test_decline_goes_back_to_the_order_agent_and_saves_nothing(seeded_db):
    db = seeded_db
    call = await open_call(
        db, Call("start_order"), Call("add_item", {"item": "latte"}),
        Call("set_customer", {"name": "Jo"}), Call("review_order"),
        Call("decline"), "No problem, what would you like to change?",
    )
    await call.caller_says("A latte for Jo")
    result = await call.caller_says("No, that's not right")
    result.expect.contains_agent_handoff(new_agent_type=OrderAgent)
    assert len(call.userdata.cart.lines) == 1, "the order is kept to be fixed, not thrown away"
    assert await count_docs(db, "orders") == {"orders": 0}


async def test_back_and_forth_reuses_the_same_agents_and_keeps_the_order(seeded_db):
    call = await open_call(
        seeded_db, Call("start_order"), Call("add_item", {"item": "croissant"}), "Got it.",
        Call("start_reservation"), "Sure, for when?",
        Call("start_order"), "Back to your order: one croissant so far.",
    )
    await call.caller_says("A croissant please")
    order_agent = call.session.current_agent
    await call.caller_says("Oh, can I also book a table?")
    assert isinstance(call.session.current_agent, ReservationAgent)
    await call.caller_says("Actually, let's finish the order first")
    assert call.session.current_agent is order_agent
    assert [line.item_id for line in call.userdata.cart.lines] == ["croissant"]
    summary = call.llm.requests[-1].messages
    assert any("croissant" in text.lower() for role, text in summary if role == "system")


async def test_asking_for_a_person_transfers_to_staff(seeded_db):
    phone = Phone()
    call = await open_call(
        seeded_db, Call("transfer_to_staff", {"reason": "wants a manager"}), phone=phone
    )
    await call.caller_says("Can I talk to a real person?")
    assert phone.transfers == [call.userdata.settings.staff_transfer_to]
    await call.hang_up()
    assert (await call.call_log())["outcome"] == "transfer"


async def test_failed_transfer_takes_a_message(seeded_db):
    db = seeded_db
    call = await open_call(
        db, Call("transfer_to_staff", {"reason": "catering"}),
        "I'm sorry, nobody is free. Can I take a message?",
        Call("take_message", {"name": "Ravi", "phone": "617-555-0134",
                              "reason": "catering for 40 on Friday"}),
        "Thanks Ravi, someone will call you back.",
        phone=Phone(fail=True),
    )
    result = await call.caller_says("I need to talk to someone about catering")
    output, _ = tool_output(result, "transfer_to_staff")
    assert "transfer failed" in output
    await call.caller_says("Sure, it's Ravi, 617 555 0134, catering for 40 on Friday")
    messages = [d.to_dict() async for d in db.db.collection("messages").stream()]
    assert len(messages) == 1
    assert messages[0]["phone"] == "+16175550134" and messages[0]["name"] == "Ravi"
    await call.hang_up()
    assert (await call.call_log())["outcome"] == "message"


async def test_when_closed_no_transfer_is_tried(seeded_db):
    phone = Phone()
    late = datetime(2026, 11, 20, 22, 30, tzinfo=NOW.tzinfo)
    call = await open_call(
        seeded_db, Call("transfer_to_staff", {"reason": "question"}), "We're closed now.",
        phone=phone, now=late,
    )
    result = await call.caller_says("Can I speak to someone?")
    output, _ = tool_output(result, "transfer_to_staff")
    assert "closed" in output and "take_message" in output
    assert phone.transfers == []


async def test_large_party_gets_the_large_party_answer(seeded_db):
    call = await open_call(
        seeded_db, Call("start_reservation", {"action": "new"}),
        Call("check_availability", {"date": "2026-11-21", "time": "19:00", "party_size": 12}),
        "For 12 people our manager arranges it. Shall I connect you?",
    )
    result = await call.caller_says("A table for 12 tomorrow at 7")
    output, is_error = tool_output(result, "check_availability")
    assert is_error and "transfer" in output


async def test_caller_hanging_up_mid_order_keeps_log_and_saves_nothing(seeded_db):
    db = seeded_db
    call = await open_call(
        db, Call("start_order"), Call("add_item", {"item": "bagel"}), "Anything else?"
    )
    await call.caller_says("I'll have a bagel")
    await call.hang_up()
    log = await call.call_log()
    assert log["outcome"] == "abandoned"
    assert any("bagel" in line["text"] for line in log["transcript"])
    counts = await count_docs(db, *SAVED_COLLECTIONS)
    assert counts == dict.fromkeys(SAVED_COLLECTIONS, 0)


async def test_returning_caller_is_greeted_by_name(seeded_db):
    db = seeded_db
    first = await open_call(
        db, Call("start_order"), Call("add_item", {"item": "croissant"}),
        Call("set_customer", {"name": "Maya Lopez"}), Call("review_order"), Call("confirm"),
        "Done!",
    )
    await first.caller_says("A croissant for Maya Lopez")
    await first.caller_says("Yes")
    again = await open_call(db)
    assert again.greeting.startswith("Hi Maya, welcome back")
    assert again.userdata.cart.customer_name == "Maya Lopez"
    anonymous = await open_call(db, caller="anonymous")
    assert anonymous.userdata.caller_phone is None
    assert anonymous.greeting.startswith("Thanks for calling")


async def test_first_agent_is_the_classifier(seeded_db):
    call = await open_call(seeded_db)
    assert isinstance(call.session.current_agent, IntentClassifier)
    assert set(call.userdata.agents) == {"classifier", "order", "reservation", "confirmation"}


async def test_a_second_yes_saves_nothing_new(seeded_db):
    db = seeded_db
    call = await open_call(
        db, Call("start_order"), Call("add_item", {"item": "croissant"}),
        Call("set_customer", {"name": "Kim"}), Call("review_order"),
        Call("confirm"), "Placed! Number ...", Call("confirm"), "Yes, it's placed.",
    )
    await call.caller_says("A croissant for Kim")
    first = await call.caller_says("Yes")
    second = await call.caller_says("Yes, I said yes")
    number = tool_output(first, "confirm")[0].split("number ")[1][:7]
    again, is_error = tool_output(second, "confirm")
    assert not is_error and "nothing new saved" in again and number in again
    assert await count_docs(db, "orders") == {"orders": 1}


async def test_returning_caller_orders_the_usual_at_todays_prices(seeded_db):
    db = seeded_db
    first = await open_call(
        db, Call("start_order"),
        Call("add_item", {"item": "large latte", "options": ["oat milk"]}),
        Call("add_item", {"item": "croissant", "quantity": 2}),
        Call("set_customer", {"name": "Maya"}), Call("review_order"), Call("confirm"), "Done!",
    )
    await first.caller_says("A large oat latte and two croissants for Maya")
    await first.caller_says("Yes")
    await first.hang_up()

    again = await open_call(db, Call("start_order"), Call("order_the_usual"), "Your usual.")
    result = await again.caller_says("Hi, the usual please")
    output, is_error = tool_output(result, "order_the_usual")
    assert not is_error
    assert "1 large Latte with oat milk" in output and "2 Butter Croissant" in output
    assert [(x.item_id, x.size, x.quantity) for x in again.userdata.cart.lines] == [
        ("latte", "large", 1), ("croissant", None, 2)]

    stranger = await open_call(db, Call("start_order"), Call("order_the_usual"), "Hmm.",
                               caller="+16175550111")
    result = await stranger.caller_says("The usual")
    output, is_error = tool_output(result, "order_the_usual")
    assert is_error and "no previous order" in output


async def test_no_request_shows_a_call_to_a_tool_the_model_was_not_offered(seeded_db):
    """Hand-overs carry the conversation, not the previous agent's tool calls: small models
    imitate tools they see used, even ones they do not have."""
    call = await open_call(
        seeded_db,
        Call("menu_info", {"query": "croissant"}), "It's vegetarian.",
        Call("start_order"), Call("add_item", {"item": "croissant"}), "One croissant. Name?",
        Call("set_customer", {"name": "Kim"}), Call("review_order"),
        Call("confirm"), "Placed! Anything else?",
        Call("start_reservation", {"action": "new"}),
        Call("check_availability", {"date": "2026-11-21", "time": "19:00", "party_size": 2}),
        "Seven tomorrow is free.",
    )
    await call.caller_says("Is the croissant vegan?")
    await call.caller_says("I'll order one then")
    await call.caller_says("It's Kim")
    await call.caller_says("Yes")
    await call.caller_says("And a table for two tomorrow at seven")
    assert len(call.llm.requests) == 12
    for n, request in enumerate(call.llm.requests):
        unknown = set(request.tools_called_in_context) - set(request.tool_names)
        assert not unknown, f"request {n} shows calls to tools it was not offered: {unknown}"
    # The first request of each receiving agent (order, confirmation, reservation) shows no
    # tool call at all: the previous agent's calls stay with it, the call state is summarised.
    for n in (3, 7, 10):
        assert call.llm.requests[n].tools_called_in_context == [], (n, call.llm.requests[n])
    # ... while what the caller said is carried over.
    assert any("order one" in text for _, text in call.llm.requests[3].messages)
    assert any("table for two" in text for _, text in call.llm.requests[10].messages)


async def test_call_log_usage_counts_every_llm_request_from_session_usage(seeded_db):
    call = await open_call(
        seeded_db, Call("start_order"), Call("add_item", {"item": "croissant"}),
        "One croissant. Anything else?", Call("end_call"),
    )
    await call.caller_says("A croissant please")
    await call.caller_says("That's all, bye")
    log = await call.hung_up_by_agent()
    usage = log["usage"]
    assert usage["llm_requests"] == len(call.llm.requests) == 4
    assert usage["llm_prompt_tokens"] > 0 and usage["llm_completion_tokens"] > 0
