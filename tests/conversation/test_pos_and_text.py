"""A phone order that reaches Square and the caller's phone: the real agents, a scripted LLM,
the real emulator, the official squareup and twilio SDKs against the fakes, and the senders
running as main.py runs them. The timeline (ms from the caller's "yes") is printed for
docs/pos.md."""

from __future__ import annotations

import asyncio
import contextlib
import time

from square import AsyncSquare

from actions.pos import PosHandoff
from actions.texts import Texts
from fakes import square as fake_square
from store.outbox import Outbox
from store.pos_orders import pos_state
from testkit.scripted_llm import Call
from testkit.square import serve_square, serve_twilio
from tests.conversation.harness import CALLER, open_call, tool_output


async def _until(check, within_s: float = 10.0) -> None:
    for _ in range(int(within_s / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not in time")


async def test_yes_saves_sends_to_square_and_texts_the_caller(seeded_db, tmp_path):
    db = seeded_db
    async with serve_square() as square, serve_twilio() as twilio:
        call = await open_call(
            db,
            Call("start_order"),
            Call("add_item", {"item": "a large cap", "options": ["oat milk"]}),
            "A large cappuccino with oat milk. What name is the order under?",
            Call("set_customer", {"name": "Sam Rivera"}),
            Call("review_order"),
            Call("confirm"),
            "Order placed, number ready. Want a text with your order? Anything else?",
            Call("send_text"),
            "It's on its way. Anything else?",
        )
        sq = AsyncSquare(token=fake_square.DEFAULT_TOKEN, base_url=square.url)
        services = call.userdata.services
        services.pos = PosHandoff(sq, fake_square.DEFAULT_LOCATION,
                                  Outbox(tmp_path / "pos.jsonl"), db.for_restaurant)
        tw = twilio.client()
        services.texts = Texts(tw, Outbox(tmp_path / "sms.jsonl"), db.for_restaurant)
        senders = [asyncio.create_task(services.pos.run(15.0)),
                   asyncio.create_task(services.texts.run(15.0))]
        try:
            await call.caller_says("A large cap with oat milk please")
            await call.caller_says("It's Sam Rivera")
            t_yes = time.time()
            result = await call.caller_says("Yes")
            said, is_error = tool_output(result, "confirm")
            assert not is_error and "text with the order" in said and "send_text" in said
            [order_doc] = [d async for d in db.db.collection("orders").stream()]
            t_saved = order_doc.create_time.timestamp()
            await _until(lambda: square.orders())
            [made] = square.orders()
            t_square = square.state.made_at[made["id"]]
            t_yes_text = time.time()
            result = await call.caller_says("Yes please, text me")
            said, is_error = tool_output(result, "send_text")
            assert not is_error and "on its way" in said
            await _until(lambda: twilio.state.messages)
            [sms] = twilio.state.messages
            t_text = twilio.state.sent_at[sms["sid"]]
        finally:
            for task in senders:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await tw.http_client.close()
    order = order_doc.to_dict()
    assert made["reference_id"] == order["order_number"]
    assert made["total_money"]["amount"] == order["total_cents"]
    state = await pos_state(db, order_doc.id)
    assert state is not None and state.state == "sent" and not state.totals_differ
    assert sms["to"] == CALLER and order["order_number"] in sms["body"]
    consent = (await db.db.document(f"customers/{CALLER}").get()).to_dict()
    assert consent["sms_consent"] is True and consent["sms_language"] == "en"
    assert not call.llm.overrun and not call.llm.steps  # the conftest checks it too
    ms = {"order saved": t_saved - t_yes, "Square order created": t_square - t_yes,
          "caller says yes to the text": t_yes_text - t_yes, "text sent": t_text - t_yes}
    print("\n" + "\n".join(f"| {k} | {v * 1000:.0f} ms |" for k, v in ms.items()))
    assert ms["order saved"] < ms["Square order created"] < ms["text sent"]


async def test_a_pos_outbox_that_cannot_be_written_never_fails_the_callers_order(
        seeded_db, tmp_path):
    """The order is saved first; a broken POS hand-off is logged for staff, and the caller
    still hears the order placed (the board shows it was never sent)."""
    db = seeded_db
    call = await open_call(
        db,
        Call("start_order"),
        Call("add_item", {"item": "a large cap"}),
        "A large cappuccino. What name is the order under?",
        Call("set_customer", {"name": "Sam Rivera"}),
        Call("review_order"),
        Call("confirm"),
        "Order placed. Anything else?",
    )
    broken = tmp_path / "not-a-file"
    broken.mkdir()  # appending to a directory fails with an OSError
    sq = AsyncSquare(token=fake_square.DEFAULT_TOKEN, base_url="http://127.0.0.1:9")
    call.userdata.services.pos = PosHandoff(sq, fake_square.DEFAULT_LOCATION, Outbox(broken),
                                            db.for_restaurant)
    await call.caller_says("A large cap please")
    await call.caller_says("It's Sam Rivera")
    result = await call.caller_says("Yes")
    said, is_error = tool_output(result, "confirm")
    assert not is_error and said.startswith("Order placed"), said
    [order] = [d async for d in db.db.collection("orders").stream()]
    assert await pos_state(db, order.id) is None  # never sent: staff can resend it


def _order_steps(name: str, *after) -> list:
    return [Call("start_order"), Call("add_item", {"item": "a large cap"}),
            "A large cappuccino. What name is the order under?",
            Call("set_customer", {"name": name}), Call("review_order"), Call("confirm"),
            "Order placed. Want a text with your order? Anything else?", *after]


async def _ordered(db, twilio, tmp_path, steps, caller: str):
    call = await open_call(db, *steps, caller=caller)
    call.userdata.services.texts = Texts(twilio.client(), Outbox(tmp_path / "sms.jsonl"),
                                         db.for_restaurant)
    await call.caller_says("A large cap please")
    await call.caller_says("It's Noa")
    return call, await call.caller_says("Yes")


async def test_a_no_to_the_text_is_kept_with_the_caller_who_is_not_asked_again(
        seeded_db, tmp_path):
    db, caller = seeded_db, "+16175550177"
    async with serve_twilio() as twilio:
        call, result = await _ordered(db, twilio, tmp_path, _order_steps(
            "Noa", Call("no_text"), "No text then. Anything else?"), caller)
        said, _ = tool_output(result, "confirm")
        assert "no_text" in said  # the offer was made
        said, is_error = tool_output(await call.caller_says("No thanks"), "no_text")
        assert not is_error and "will not ask again" in said
        kept = (await db.db.document(f"customers/{caller}").get()).to_dict()
        assert kept["sms_consent"] is False and kept["sms_language"] == "en"
        assert kept["sms_consent_at"] is not None

        # The same caller orders again: the confirmation offers no text.
        again, result = await _ordered(db, twilio, tmp_path, _order_steps("Noa"), caller)
        said, is_error = tool_output(result, "confirm")
        assert not is_error and "send_text" not in said and "no_text" not in said, said
        await call.userdata.services.texts.send_pending()
        await again.userdata.services.texts.send_pending()
        await call.userdata.services.texts.client.http_client.close()
        await again.userdata.services.texts.client.http_client.close()
    assert twilio.state.messages == [], "a no sends nothing"
    queued = tmp_path / "sms.jsonl"
    assert not queued.exists() or not queued.read_text().strip(), "a no queues nothing"


async def test_a_plain_no_after_the_offer_read_as_decline_is_stored_as_no_text(
        seeded_db, tmp_path):
    """"No, that's all" answers both questions; the model may take it for a no to the read-back
    (decline): the saved order is kept and the no to the text is stored all the same."""
    db, caller = seeded_db, "+16175550178"
    async with serve_twilio() as twilio:
        call, _ = await _ordered(db, twilio, tmp_path, _order_steps(
            "Noa", Call("decline"), "Alright, bye!"), caller)
        said, is_error = tool_output(await call.caller_says("No, that's all"), "decline")
        assert not is_error and "stored: no text" in said, said
        await call.userdata.services.texts.client.http_client.close()
    kept = (await db.db.document(f"customers/{caller}").get()).to_dict()
    assert kept["sms_consent"] is False
    assert len([d async for d in db.db.collection("orders").stream()]) == 1
    assert twilio.state.messages == []


async def test_a_call_orders_into_the_square_location_its_restaurant_names(seeded_db, tmp_path):
    """The restaurant's settings name its Square location (several restaurants on one line):
    the call's order goes there, without SQUARE_LOCATION_ID."""
    db = seeded_db
    await db.db.document("settings/restaurant").set({"square_location_id": "LHARBOR"},
                                                     merge=True)
    async with serve_square() as square:
        square.state.locations["LHARBOR"] = "Harbor Street"
        call = await open_call(db, *_order_steps("Noa"))
        call.userdata.services.pos = PosHandoff(
            AsyncSquare(token=fake_square.DEFAULT_TOKEN, base_url=square.url), "",
            Outbox(tmp_path / "pos.jsonl"), db.for_restaurant)
        await call.caller_says("A large cap please")
        await call.caller_says("It's Noa")
        said, is_error = tool_output(await call.caller_says("Yes"), "confirm")
        assert not is_error and said.startswith("Order placed"), said
        assert await call.userdata.services.pos.send_pending() == 1
        [made] = square.orders()
    assert made["location_id"] == "LHARBOR"
