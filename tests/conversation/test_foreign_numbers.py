"""A visitor with a mobile from abroad (a UK number) orders and books like anyone: the number
identifies the order; only a call-back or a text must be one the line may dial, and staff see
when the line will not call it (issue 26 §5)."""

from __future__ import annotations

import pytest

from actions.messages import take_message
from actions.texts import Texts
from domain.contact import any_e164, number_or_caller_id
from domain.refusal import Refusal
from store.outbox import Outbox
from testkit.scripted_llm import Call
from testkit.square import serve_twilio
from tests.conversation.harness import open_call, tool_output

UK_MOBILE = "+447911123456"


@pytest.mark.parametrize("said", [
    "+44 7911 123456", "44 7911 123456", "plus four four seven nine one one one two three four "
    "five six", "0044 7911 123456"])
def test_a_mobile_from_abroad_is_read_in_every_form_a_caller_gives_it(said):
    assert any_e164(said) == UK_MOBILE
    assert number_or_caller_id(said, None, "ask", abroad=True) == UK_MOBILE
    with pytest.raises(Refusal, match="is not a US number and staff cannot call it back"):
        number_or_caller_id(said, None, "ask")  # a call-back number must be dialable


def test_a_number_that_is_no_number_is_still_asked_again():
    with pytest.raises(Refusal, match="country code for a number abroad"):
        any_e164("four four seven nine")


async def test_a_visitor_orders_with_a_uk_mobile_and_staff_see_the_line_wont_call_it(seeded_db):
    db = seeded_db
    call = await open_call(
        db,
        Call("start_order"),
        Call("add_item", {"item": "blt", "options": ["rye"]}),
        "A BLT on rye. Name and number?",
        Call("set_customer", {"name": "Olivia Hart", "phone": "+44 7911 123456"}),
        Call("review_order"),
        Call("confirm"),
        "Placed.",
        caller=None,  # a withheld caller ID: the number said is the only one
    )
    await call.caller_says("A BLT on rye to pick up")
    result = await call.caller_says("Olivia Hart, my mobile is plus 44 7911 123456")
    output, is_error = tool_output(result, "set_customer")
    assert not is_error
    assert output.startswith("Order under Olivia Hart, phone +44 7911 123456. Note: the line "
                             "will not call or text this number back")
    assert "is an international number" in output
    assert "phone +44 7911 123456. Shall I place the order?" in (
        call.session.history.items[-1].text_content)
    await call.caller_says("Yes")
    await call.hang_up()
    [order] = [d.to_dict() async for d in db.db.collection("orders").stream()]
    assert order["customer_phone"] == UK_MOBILE
    assert "international calls are off for this restaurant" in order["callback_note"]


async def test_a_us_number_has_no_note_and_a_message_still_needs_a_dialable_number(seeded_db):
    call = await open_call(
        seeded_db,
        Call("start_order"),
        Call("add_item", {"item": "blt", "options": ["rye"]}),
        "A BLT on rye. Name?",
        Call("set_customer", {"name": "Sam Rivera"}),
        "Thanks.",
    )
    await call.caller_says("A BLT on rye")
    result = await call.caller_says("Sam Rivera")
    assert tool_output(result, "set_customer") == (
        "Order under Sam Rivera, phone 617 555 0199.", False)
    with pytest.raises(Refusal, match="is not a US number"):
        await take_message(call.userdata, "Olivia Hart", "call me back", "+44 7911 123456")
    await call.hang_up()


async def test_no_text_goes_to_a_number_the_line_does_not_text(seeded_db, tmp_path):
    async with serve_twilio() as twilio:
        call = await open_call(
            seeded_db,
            Call("start_order"),
            Call("add_item", {"item": "blt", "options": ["rye"]}),
            Call("set_customer", {"name": "Olivia Hart", "phone": "+44 7911 123456"}),
            Call("review_order"),
            Call("confirm"),
            "Placed. Shall I text it to you?",
            Call("send_text"),
            "Sorry, we can't text that number.",
            caller=None,
        )
        tw = twilio.client()
        call.userdata.services.texts = Texts(tw, Outbox(tmp_path / "sms.jsonl"),
                                             seeded_db.for_restaurant)
        try:
            await call.caller_says("A BLT on rye for Olivia Hart, +44 7911 123456")
            await call.caller_says("Yes")
            result = await call.caller_says("Yes, text me")
            said, is_error = tool_output(result, "send_text")
            assert is_error and said.startswith("We cannot text +447911123456")
        finally:
            await tw.http_client.close()
        await call.hang_up()
        assert twilio.state.messages == []
        consent = await seeded_db.db.document(f"customers/{UK_MOBILE}").get()
        assert "sms_consent" not in (consent.to_dict() or {})
