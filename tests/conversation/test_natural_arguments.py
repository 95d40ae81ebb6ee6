"""Arguments as a model naturally passes them: understood in the restaurant's time zone, or
refused with what to pass, and never a raw validation dump, whichever tool it is."""

from __future__ import annotations

import inspect
import typing

import pytest
from livekit.agents import FunctionTool

from testkit.scripted_llm import Call
from tests.conversation.harness import open_call, tool_output

# NOW in the harness is Friday 2026-11-20, 12:00 in Boston (open 7-21; Saturday 8-22).
DUMP = ("validation error", "input_value", "Input should", "pydantic", "Error parsing")


async def test_natural_date_time_and_party_are_understood(seeded_db):
    call = await open_call(
        seeded_db, Call("start_reservation", {"action": "new"}),
        Call("check_availability", {"date": "tomorrow", "time": "7pm", "party_size": "four"}),
        "Tomorrow at 7 is free.",
        Call("book_table", {"date": "Saturday", "time": "7:30 PM", "party_size": "two people",
                            "name": "Priya Shah", "phone": "six one seven five five five oh one "
                                                          "two three"}),
    )
    result = await call.caller_says("A table for four tomorrow at 7pm")
    output, is_error = tool_output(result, "check_availability")
    assert not is_error and output == "A table for 4 tomorrow at 7 PM is available."
    await call.caller_says("Actually two of us, seven thirty, Priya Shah, 617 555 0123")
    assert call.session.history.items[-1].text_content == (
        "Let me confirm: a table for 2 tomorrow at 7:30 PM, under Priya Shah, phone "
        "617 555 0123. Shall I book it?"
    )
    await call.hang_up()


@pytest.mark.parametrize(("args", "says"), [
    # Next Friday: 7 AM and 7 PM are both seating times, so "seven" is asked, not guessed
    # (today, at noon, 7 AM has passed: "seven" is 7 PM, issue 27)
    ({"date": "2026-11-27", "time": "seven", "party_size": 2}, "could be 7:00 AM or PM"),
    ({"date": "someday", "time": "19:00", "party_size": 2}, "Pass the date as YYYY-MM-DD"),
    ({"date": "tomorrow", "time": "dinner time", "party_size": 2}, "HH:MM on the 24-hour"),
    ({"date": "tomorrow", "time": "19:00", "party_size": "a few"}, "whole number"),
    ({"date": "a week from today", "time": "19:00", "party_size": 2}, "YYYY-MM-DD"),
])
async def test_unreadable_arguments_say_what_to_pass(seeded_db, args, says):
    call = await open_call(seeded_db, Call("start_reservation", {"action": "new"}),
                           Call("check_availability", args), "Sorry.")
    result = await call.caller_says("I want to book a table")
    output, is_error = tool_output(result, "check_availability")
    assert is_error and says in output
    await call.hang_up()


async def test_a_bare_hour_is_the_one_we_seat_at(seeded_db):
    # Saturday opens at 8: "seven" can only be 7 PM.
    call = await open_call(seeded_db, Call("start_reservation", {"action": "new"}),
                           Call("check_availability", {"date": "2026-11-21", "time": "seven",
                                                       "party_size": 3}), "Yes.")
    result = await call.caller_says("Saturday at seven for three")
    assert tool_output(result, "check_availability") == (
        "A table for 3 tomorrow at 7 PM is available.", False)
    await call.hang_up()


def _wrong(annotation: object) -> object:
    """A value no schema of this parameter accepts."""
    return 5 if "list" in str(annotation) else [[1, 2]]


def _bad_calls(agent) -> list[tuple[str, dict]]:
    calls = []
    for tool in agent.tools:
        if not isinstance(tool, FunctionTool):
            continue
        hints = typing.get_type_hints(tool, include_extras=False)
        params = [p for p in inspect.signature(tool).parameters if p != "context"]
        if params:
            calls.append((tool.id, {p: _wrong(hints.get(p)) for p in params}))
    return calls


@pytest.mark.parametrize("agent", ["intent_classifier", "order", "reservation"])
async def test_every_tools_argument_errors_reach_the_model_as_guidance(seeded_db, agent):
    opening = {"order": [Call("start_order"), "Sure."],
               "reservation": [Call("start_reservation", {"action": "new"}), "Sure."],
               "intent_classifier": []}[agent]
    call = await open_call(seeded_db, *opening)
    if opening:
        await call.caller_says("Hello")
    current = call.session.current_agent
    bad = _bad_calls(current)
    assert len(bad) >= 2, [getattr(t, 'id', t) for t in current.tools]
    for name, args in bad:
        call.llm.script(Call(name, args), "Sorry, could you say that again?")
        await call.caller_says("(something the model mangles)")
        told = call.llm.requests[-1].messages
        output = next(text for role, text in reversed(told) if role == "function_call_output")
        assert output.startswith(f"{name} was not run: `"), output
        assert "pass " in output and not any(d in output for d in DUMP), output
    await call.hang_up()


async def test_an_order_carries_every_word_or_names_what_it_could_not_place(seeded_db):
    call = await open_call(
        seeded_db, Call("start_order"),
        Call("add_item", {"item": "two large oat milk lattes with an extra shot, no foam"}),
        "Two large oat lattes with an extra shot. Anything else?",
        Call("add_item", {"item": "a croissant with ketchup"}),
        "Sorry, what did you want with the croissant?",
        Call("set_customer", {"name": "Sam", "phone": "six one seven five five five oh one "
                                                      "nine nine"}),
        Call("review_order"),
        Call("change_item", {"line_number": 1, "options": ["almond milk", "sprinkles"]}),
        "Sorry, we have no sprinkles.",
    )
    result = await call.caller_says("Two large oat milk lattes with an extra shot, no foam")
    output, is_error = tool_output(result, "add_item")
    assert not is_error
    assert output.startswith("Added 2 large Latte with oat milk, extra shot (no foam), $14.50.")
    result = await call.caller_says("And a croissant with ketchup")
    output, is_error = tool_output(result, "add_item")
    assert is_error and "'ketchup'" in output
    assert len(call.userdata.cart.lines) == 1  # nothing half-added
    await call.caller_says("Sam, six one seven five five five oh one nine nine")
    assert call.userdata.cart.customer_phone == "+16175550199"
    result = await call.caller_says("Make that almond milk with sprinkles")
    output, is_error = tool_output(result, "change_item")
    assert is_error and "'sprinkles'" in output
    assert {o.option_id for o in call.userdata.cart.lines[0].options} == {"oat", "extra-shot"}
    await call.hang_up()
