"""Texts: sent once through the official twilio SDK to fakes/twilio.py, never to a number that
said STOP; inbound texts checked as Twilio signs them (the real emulator behind both)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from actions.texts import SMS_KIND, Texts, text_id
from config import TwilioSettings
from domain.seating import SeatingPlan
from domain.texts import booking_text, order_text
from fakes import twilio as fake_twilio
from services.webhooks import create_app
from store import FirebaseManager
from store.outbox import Outbox
from store.texts import set_text_consent, text_record
from testkit.records import make_order, make_reservation
from testkit.square import FakeTwilio, serve_twilio

OURS = "+16175550142"  # the café's number, on the fake Twilio account
GUEST = "+16175550101"
HOOK = "https://line.example.test/twilio/sms"  # the public URL Twilio signs
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with serve_twilio() as fake:
        yield fake


@pytest.fixture
async def texts(twilio: FakeTwilio, db: FirebaseManager, tmp_path: Path
                ) -> AsyncIterator[Texts]:
    client = twilio.client()
    yield Texts(client, Outbox(tmp_path / "sms.jsonl"), db.for_restaurant, clock=lambda: NOW)
    await client.http_client.close()


@pytest.fixture
async def webhook(seeded_db: FirebaseManager) -> AsyncIterator[httpx.AsyncClient]:
    settings = TwilioSettings(twilio_account_sid=fake_twilio.DEFAULT_SID,
                              twilio_auth_token=SecretStr(fake_twilio.DEFAULT_TOKEN),
                              twilio_webhook_url=HOOK)
    app = create_app(settings, seeded_db, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://line.example.test") as client:
        yield client


async def _order_text(texts: Texts, db: FirebaseManager, lang: str = "en") -> str:
    order = make_order("call-txt")
    body = order_text(order, lang, "Harbor Street Café", order.pickup_time)
    await texts.queue(db, phone=GUEST, sender=OURS, body=body, about=order.id)
    return body


async def test_an_order_text_is_sent_once_from_the_restaurants_number(
        twilio: FakeTwilio, texts: Texts, db: FirebaseManager) -> None:
    body = await _order_text(texts, db)
    assert await texts.send_pending() == 1
    assert await texts.send_pending() == 0
    [sent] = twilio.state.messages
    assert (sent["to"], sent["from"]) == (GUEST, OURS)
    order = make_order("call-txt")
    assert f"order {order.order_number}" in sent["body"] and "2 x Cappuccino (Medium)" in body
    assert "$11.69" in sent["body"] and "5:15 PM" in sent["body"]
    record = await text_record(db, text_id(db.restaurant_id, order.id))
    assert record is not None and record.state == "sent" and record.sid == sent["sid"]


def test_the_text_is_in_the_calls_language() -> None:
    order = make_order("call-es")
    es = order_text(order, "es", "Casa Lupita", order.pickup_time)
    assert es.startswith("Casa Lupita: pedido") and "17:15" in es and "recoger" in es
    res = make_reservation(day=date(2026, 11, 27), party=4)
    assert "4 personas" in booking_text(res, "es", "Casa Lupita")
    assert f"CANCEL {res.code}" in booking_text(res, "en", "Casa Lupita")


async def test_a_sender_that_died_waiting_for_twilio_does_not_text_twice(
        twilio: FakeTwilio, texts: Texts, db: FirebaseManager) -> None:
    body = await _order_text(texts, db)
    # The dead sender's trace: the record said "sending", and Twilio did take the text.
    entry = (await texts.outbox.entries())[0]
    await texts._create(entry.payload)
    from store.texts import TextRecord, record_text
    await record_text(db, TextRecord(id=entry.payload["id"], direction="out", phone=GUEST,
                                     state="sending", body=body, at=NOW))
    assert await texts.send_pending() == 1
    assert len(twilio.state.messages) == 1
    record = await text_record(db, entry.payload["id"])
    assert record is not None and record.state == "sent"
    assert record.sid == twilio.state.messages[0]["sid"]


async def test_a_landline_fails_with_twilios_reason_and_staff_are_told(
        twilio: FakeTwilio, texts: Texts, db: FirebaseManager) -> None:
    twilio.state.landlines.add(GUEST)
    await _order_text(texts, db)
    assert await texts.send_pending() == 1  # Twilio's final word: not retried for ever
    assert twilio.state.messages == []
    [msg] = [d.to_dict() async for d in db.db.collection("messages").stream()]
    assert "21614" in msg["reason"] and "not a valid mobile number" in msg["reason"]


async def test_stop_by_text_means_never_texted_again_and_start_undoes_it(
        twilio: FakeTwilio, texts: Texts, seeded_db: FirebaseManager,
        webhook: httpx.AsyncClient) -> None:
    db = seeded_db
    r = await fake_twilio.deliver_inbound(twilio.state, HOOK, GUEST, OURS, "STOP",
                                          client=webhook)
    assert r.status_code == 200 and "no more texts" in r.text
    await _order_text(texts, db)
    assert await texts.send_pending() == 1
    assert twilio.state.messages == []
    record = await text_record(db, text_id(db.restaurant_id, make_order("call-txt").id))
    assert record is not None and record.state == "failed"
    assert record.reason == "the number opted out (STOP)"  # our list, Twilio never asked
    r = await fake_twilio.deliver_inbound(twilio.state, HOOK, GUEST, OURS, "START",
                                          client=webhook)
    assert "back on" in r.text
    r = await fake_twilio.deliver_inbound(twilio.state, HOOK, GUEST, OURS, "HELP",
                                          client=webhook)
    assert "Reply STOP" in r.text and "Harbor Street Café" in r.text


async def test_a_bad_or_missing_signature_changes_nothing(
        twilio: FakeTwilio, seeded_db: FirebaseManager, webhook: httpx.AsyncClient) -> None:
    for sig in ("", "bm90IGEgc2lnbmF0dXJl"):
        r = await fake_twilio.deliver_inbound(twilio.state, HOOK, GUEST, OURS, "STOP",
                                              signature=sig, client=webhook)
        assert r.status_code == 403
    assert not (await seeded_db.db.document(f"customers/{GUEST}").get()).exists
    # signed for another URL (a replay against our host from elsewhere): refused too
    r = await fake_twilio.deliver_inbound(
        twilio.state, HOOK, GUEST, OURS, "STOP", client=webhook,
        signature=fake_twilio.sign(fake_twilio.DEFAULT_TOKEN, "https://evil.test/x",
                                   {"Body": "STOP"}))
    assert r.status_code == 403


async def test_cancel_by_text_only_from_the_bookings_own_number(
        twilio: FakeTwilio, seeded_db: FirebaseManager, webhook: httpx.AsyncClient) -> None:
    db = seeded_db
    res = make_reservation(phone=GUEST, day=date(2026, 11, 27))
    await db.book_reservation(res, SeatingPlan(seats=20), date(2026, 11, 20))
    assert len(await db.holds_on(res.date)) == 1
    r = await fake_twilio.deliver_inbound(twilio.state, HOOK, "+16175550177", OURS,
                                          f"CANCEL {res.code}", client=webhook)
    assert "could not cancel" in r.text
    assert (await db.get_reservation(res.code)).status == "confirmed"  # type: ignore[union-attr]
    r = await fake_twilio.deliver_inbound(twilio.state, HOOK, GUEST, OURS,
                                          f"cancel {res.code.lower()}", client=webhook)
    assert f"booking {res.code} is cancelled" in r.text
    assert (await db.get_reservation(res.code)).status == "cancelled"  # type: ignore[union-attr]
    assert await db.holds_on(res.date) == []  # the table is free again


async def test_anything_else_lands_on_the_board_for_staff(
        twilio: FakeTwilio, seeded_db: FirebaseManager, webhook: httpx.AsyncClient) -> None:
    db = seeded_db
    await set_text_consent(db, GUEST, True, NOW, "en")
    await fake_twilio.deliver_inbound(twilio.state, HOOK, "+16175550188", OURS,
                                      "Do you have gluten free bread?", client=webhook)
    r = await fake_twilio.deliver_inbound(twilio.state, HOOK, GUEST, OURS,
                                          "Running 10 min late", client=webhook)
    assert "passed your message" in r.text
    msgs = sorted([d.to_dict()["reason"] async for d in db.db.collection("messages").stream()])
    assert msgs == ["Text from a guest: Running 10 min late",
                    "Text from an unknown number: Do you have gluten free bread?"]
    stored = [d.to_dict() async for d in db.db.collection("texts").stream()]
    assert len(stored) == 2 and all(t["direction"] == "in" for t in stored)


async def test_a_queued_text_survives_in_the_outbox_while_twilio_is_unreachable(
        texts: Texts, db: FirebaseManager, twilio: FakeTwilio) -> None:
    texts.client.api.base_url = "http://127.0.0.1:9"  # nothing listens: connection refused
    await _order_text(texts, db)
    assert await texts.send_pending() == 0
    assert [e.kind for e in await texts.outbox.entries()] == [SMS_KIND]
    texts.client.api.base_url = twilio.url
    assert await texts.send_pending() == 1
    assert len(twilio.state.messages) == 1
    await asyncio.sleep(0)
