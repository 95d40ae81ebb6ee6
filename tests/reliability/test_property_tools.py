"""Bad arguments through the real tools of a live session (fewer examples than the domain
properties: each is a full turn). Every one is refused with a ToolError that says what to ask,
and Firestore stays empty."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testkit.scripted_llm import Call
from tests.conversation.harness import NOW, SAVED_COLLECTIONS, count_docs, open_call, tool_output
from tests.reliability import tally
from tests.reliability.test_property_domain import GUIDANCE, card_said

SOME = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
EMPTY = dict.fromkeys(SAVED_COLLECTIONS, 0)
_calls: dict[tuple[int, str], object] = {}


@pytest.fixture(autouse=True)
async def _close_calls(settle_tasks) -> AsyncIterator[None]:
    """The call a test reused for all its examples ends with the test (before the tasks
    it left are settled)."""
    yield
    for call in _calls.values():
        await call.session.aclose()  # type: ignore[attr-defined]
    _calls.clear()


async def _call_on(db, agent: str):
    """One call per test, on the agent whose tools are tried; reused by every example."""
    key = (id(db), agent)
    if key not in _calls:
        opening = {"order": [Call("start_order"), "Sure."],
                   "reservation": [Call("start_reservation", {"action": "new"}), "Sure."],
                   "classifier": ["How can I help?"]}[agent]
        call = await open_call(db, *opening)
        await call.caller_says("Hello")
        _calls[key] = call
    return _calls[key]


async def _refused(db, agent: str, tool: str, args: dict) -> str:
    call = await _call_on(db, agent)
    call.llm.script(Call(tool, args), "Sorry about that.")
    result = await call.caller_says("(the caller asks for something we cannot do)")
    output, is_error = tool_output(result, tool)
    tally.TRIED[tool] += 1
    assert is_error, f"{tool}({args}) was accepted: {output}"
    assert GUIDANCE.search(output), f"{tool} refusal without guidance: {output}"
    tally.REFUSED[tool] += 1
    assert await count_docs(db, *SAVED_COLLECTIONS) == EMPTY
    return output


# ---------------------------------------------------------------- strategies (always invalid)

letters = "bcdfghjkmnpqrstvwxz"
nonsense = st.text(letters, min_size=6, max_size=20)  # no vowels: nothing on the menu
sized = st.sampled_from(["cappuccino", "latte", "americano"])
plain = st.sampled_from(["croissant", "bagel", "blueberry muffin"])
bad_qty = st.one_of(st.integers(-10_000, 0), st.integers(21, 10_000))
add_item_args = st.one_of(
    st.builds(lambda i: {"item": i}, nonsense),
    st.builds(lambda q: {"item": "pumpkin loaf", "quantity": q}, st.integers(1, 5)),
    st.builds(lambda i, q: {"item": i, "quantity": q}, st.one_of(sized, plain), bad_qty),
    st.builds(lambda i, s: {"item": i, "size": s}, sized, nonsense),
    st.builds(lambda i, o: {"item": i, "options": [o]}, sized, nonsense),
    st.just({"item": "blt"}),  # needs a bread
    st.builds(lambda i, n: {"item": i, "special_instructions": n}, plain,
              st.text(min_size=201, max_size=400).filter(lambda t: len(" ".join(t.split())) > 200)),
    st.builds(lambda i, c: {"item": i, "special_instructions": f"pay with {c}"}, plain, card_said),
)

foreign = st.sampled_from(["GB", "DE", "FR", "IN", "BR", "JP"]).map(
    lambda r: phonenumbers.format_number(phonenumbers.example_number(r),
                                         phonenumbers.PhoneNumberFormat.INTERNATIONAL))
# Not a phone number at all. A valid number abroad is no bad phone for an order or a booking
# (it says who the guest is); only a call-back needs one the line may dial (take_message).
bad_phone = st.one_of(st.text("0123456789", max_size=6).filter(bool),
                      st.sampled_from(["none", "911", "+1 555", "12 34"]))
bad_name = st.one_of(
    st.text(" .-'0123456789", max_size=20),
    st.text("abc", min_size=61, max_size=120),
    st.builds(lambda n, ch: f"{n}{ch}", st.sampled_from(["Ann", "Bo"]), st.sampled_from(
        [*"<>{}[]\\|`$@#", "\x00", "\u202e"])),
    st.builds(lambda c: f"Ann {c}", card_said),
)
contact_args = st.one_of(
    st.builds(lambda p: {"name": "Ann Lee", "phone": p}, bad_phone),
    st.builds(lambda n: {"name": n, "phone": "617 555 0123"}, bad_name),
)
callback_args = st.one_of(contact_args,
                          st.builds(lambda p: {"name": "Ann Lee", "phone": p}, foreign))

today = NOW.date()
good_day = st.integers(1, 30).map(lambda d: today + timedelta(days=d)).filter(
    lambda d: d.weekday() != 6)
booking_args = st.one_of(
    st.builds(lambda d, p: {"date": d.isoformat(), "time": "19:00", "party_size": p},
              good_day, st.one_of(st.integers(-100, 0), st.integers(9, 500))),
    st.builds(lambda d: {"date": (today - timedelta(days=d)).isoformat(), "time": "19:00",
                         "party_size": 2}, st.integers(1, 3000)),
    st.builds(lambda d: {"date": (today + timedelta(days=d)).isoformat(), "time": "19:00",
                         "party_size": 2}, st.integers(61, 3000)),
    st.builds(lambda d, h, m: {"date": d.isoformat(), "time": f"{h:02d}:{m:02d}",
                               "party_size": 2},
              good_day, st.sampled_from([0, 1, 2, 3, 4, 5, 6, 22, 23]), st.sampled_from([0, 30])),
    st.builds(lambda d, m: {"date": d.isoformat(), "time": f"19:{m:02d}", "party_size": 2},
              good_day, st.sampled_from([5, 10, 15, 20, 45, 59])),
    st.builds(lambda w: {"date": (date(2026, 11, 22) + timedelta(weeks=w)).isoformat(),
                         "time": "18:00", "party_size": 2}, st.integers(0, 7)),  # Sundays
)


# ---------------------------------------------------------------- the tools


@SOME
@given(args=add_item_args)
async def test_add_item_refuses(seeded_db, args):
    await _refused(seeded_db, "order", "add_item", args)


@SOME
@given(args=contact_args)
async def test_set_customer_refuses(seeded_db, args):
    await _refused(seeded_db, "order", "set_customer", args)


@SOME
@given(args=booking_args)
async def test_check_availability_refuses(seeded_db, args):
    await _refused(seeded_db, "reservation", "check_availability", args)


@SOME
@given(args=booking_args)
async def test_book_table_refuses(seeded_db, args):
    await _refused(seeded_db, "reservation", "book_table", {**args, "name": "Ann Lee"})


@SOME
@given(args=callback_args)
async def test_take_message_refuses(seeded_db, args):
    await _refused(seeded_db, "classifier", "take_message",
                   {**args, "reason": "Please call me back about a cake"})
