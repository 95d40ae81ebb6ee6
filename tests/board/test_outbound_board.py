"""Staff call a guest back from the board, and see scheduled and made outbound calls."""

from __future__ import annotations

import secrets
from datetime import datetime

from domain import ids
from models import Message
from tests.board.conftest import api_client, screenshot, until


async def _message(db, phone: str, reason: str) -> Message:
    settings = await db.load_restaurant_settings()
    call_id = "call-cb-" + secrets.token_hex(4)
    msg = Message(id=ids.message_id(call_id, 1), call_id=call_id, name="Hana Caller",
                  phone=phone, reason=reason, created_at=datetime.now(settings.tz))
    await db.save_message(msg)
    return msg


async def test_staff_queue_a_call_back_and_see_it_among_outbound_calls(
        board_db, board_server, tablet):
    msg = await _message(board_db, "+16175550166", "Asks whether we cater a wedding")
    page = tablet
    await page.goto(board_server.url + "/messages")
    await until(page, "window.__board.ready")
    row = page.locator(f'#messages tr[data-id="{msg.id}"]')
    await row.locator("button[data-action=callback]").click()
    await page.locator("#callback-now").click()
    await row.locator("button[data-action=callback]:disabled").wait_for()
    doc = (await board_db.db.document(f"outbound_calls/callback-{msg.id}").get()).to_dict()
    assert doc["kind"] == "callback" and doc["phone"] == "+16175550166"
    assert doc["status"] == "pending" and "cater a wedding" in doc["reason"]

    await page.goto(board_server.url + "/calls")
    listed = page.locator(f'#outbound tr[data-id="callback-{msg.id}"]')
    await listed.wait_for()
    text = await listed.inner_text()
    assert "(617) 555-0166" in text and "cater a wedding" in text and "pending" in text
    await screenshot(page, "outbound-calls")


async def test_a_call_back_to_a_number_we_must_not_dial_is_refused(board_db, board_server):
    msg = await _message(board_db, "+19005550199", "Premium line left as a number")
    api = await api_client(board_server)
    try:
        made = await api.post(f"/api/messages/{msg.id}/callback", json={})
        assert made.status_code == 422 and "premium" in made.json()["error"], made.text
        listed = (await api.get("/api/outbound")).json()["calls"]
        assert f"callback-{msg.id}" not in [c["_id"] for c in listed]
    finally:
        await api.aclose()
