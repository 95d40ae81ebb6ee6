"""The small things staff meet all evening: a call back when the guest asked for it, the
chime after a reload, a sign-in form left open, the ticket tab, the clock and phone formats."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from domain import ids
from models import Message
from testkit.records import make_order
from tests.board.conftest import api_client, screenshot, until

CLOCK = re.compile(r"\b(1[0-2]|[1-9]):[0-5]\d [AP]M\b")  # 1:25 PM, never 01:25 PM or 13:25


async def _message(db, name: str, reason: str) -> Message:
    settings = await db.load_restaurant_settings()
    call_id = "call-cbd-" + secrets.token_hex(4)
    msg = Message(id=ids.message_id(call_id, 1), call_id=call_id, name=name,
                  phone="+16175550144", reason=reason, created_at=datetime.now(settings.tz))
    await db.save_message(msg)
    return msg


async def test_call_back_now_at_a_time_or_by_staff_themselves(board_db, board_server, tablet):
    page = tablet
    settings = await board_db.load_restaurant_settings()
    later = await _message(board_db, "Gil After Five", "Call back after 5 about the menu")
    myself = await _message(board_db, "Hal Personal", "Wants the manager to call")
    await page.goto(board_server.url + "/messages")
    await until(page, "window.__board.ready")
    row = page.locator(f'#messages tr[data-id="{later.id}"]')
    await row.locator("button[data-action=callback]").click()
    when = (datetime.now(settings.tz) + timedelta(days=1)).replace(hour=17, minute=0, second=0,
                                                                   microsecond=0)
    await page.fill("#callback-form input[name=at]", when.strftime("%Y-%m-%dT%H:%M"))
    await screenshot(page, "call-back")
    await page.locator("#callback-at").click()
    await row.locator("[data-callback=pending]").wait_for()
    doc = (await board_db.db.document(f"outbound_calls/callback-{later.id}").get()).to_dict()
    assert doc["next_try_at"] == when, "the automated call waits for the time staff chose"
    assert "5:00 PM" in await row.inner_text()

    # Another message changing re-draws the list; the queued call-back stays said.
    await _message(board_db, "Ivy Other", "Another message arrives")
    await page.locator("#messages tr", has_text="Ivy Other").wait_for()
    assert "Call-back queued for 5:00 PM" in await row.inner_text()
    assert await row.locator("button[data-action=callback]").is_disabled()

    mine = page.locator(f'#messages tr[data-id="{myself.id}"]')
    await mine.locator("button[data-action=callback]").click()
    await page.locator("#callback-self").click()
    await page.locator(f'#messages tr[data-id="{myself.id}"][data-status="handled"]').wait_for()
    saved = (await board_db.db.document(f"messages/{myself.id}").get()).to_dict()
    assert saved["handled_by"] == board_server.owner[0]
    assert not (await board_db.db.document(f"outbound_calls/callback-{myself.id}").get()).exists
    await page.locator("#toast #undo").click()  # a mis-tap: the message is open again
    await page.locator(f'#messages tr[data-id="{myself.id}"][data-status="new"]').wait_for()

    api = await api_client(board_server)
    try:  # the server checks the time too
        past = await api.post(f"/api/messages/{myself.id}/callback",
                              json={"at": (datetime.now(settings.tz) - timedelta(hours=1))
                                    .strftime("%Y-%m-%dT%H:%M")})
        assert past.status_code == 422 and "passed" in past.json()["error"]
    finally:
        await api.aclose()


async def test_the_chime_wakes_on_the_first_touch_after_a_reload(board_db, board_server,
                                                                  tablet):
    page = tablet
    await page.click("#sound")
    await page.reload()
    await until(page, "window.__board.ready")
    assert await page.locator("#sound").get_attribute("aria-pressed") == "true"
    assert not await page.evaluate("window.__board.woken")
    await page.locator("main").tap(position={"x": 5, "y": 5})  # any touch, not the Sound button
    await until(page, "window.__board.woken === 1 && window.__board.audio === 'running'")
    settings = await board_db.load_restaurant_settings()
    order = make_order("call-chime-" + secrets.token_hex(3), name="Chime After Reload",
                       created_at=datetime.now(settings.tz))
    await board_db.save_order(order, datetime.now(settings.tz).date())
    await page.locator(f'article[data-id="{order.id}"]').wait_for()
    assert await page.evaluate("window.__board.beeps") >= 1


async def test_a_sign_in_form_left_open_for_hours_still_signs_in(board_server):
    import httpx

    async with httpx.AsyncClient(base_url=board_server.url) as client:
        form = await client.get("/login")
    cookie = next(v for k, v in form.headers.multi_items()
                  if k == "set-cookie" and v.startswith("board_login="))
    age = int(re.search(r"Max-Age=(\d+)", cookie, re.I).group(1))
    assert age >= 16 * 3600, f"the sign-in form expires after {age} s: a tablet left overnight"


async def test_the_ticket_tab_prints_on_a_tap_and_closes_back_to_the_board(
        board_db, board_server, tablet):
    page = tablet
    settings = await board_db.load_restaurant_settings()
    order = make_order("call-tkt-" + secrets.token_hex(3), name="Tia Ticket",
                       phone="+16175550203", created_at=datetime.now(settings.tz))
    await board_db.save_order(order, datetime.now(settings.tz).date())
    card = page.locator(f'article[data-id="{order.id}"]')
    await card.wait_for()
    assert CLOCK.search(await card.inner_text()), await card.inner_text()
    assert not re.search(r"\b0\d:\d\d\b", await card.inner_text())
    await page.context.add_init_script(
        "window.__prints = 0; window.print = () => { window.__prints += 1; };")
    async with page.context.expect_page() as opened:
        await card.locator("a.ticket").click()
    ticket = await opened.value
    await ticket.wait_for_load_state("load")
    await ticket.wait_for_timeout(300)
    assert await ticket.evaluate("window.__prints") == 0, "the ticket printed by itself"
    body = await ticket.inner_text("body")
    assert "(617) 555-0203" in body and "+1617" not in body, body
    assert CLOCK.search(body), body
    assert await ticket.locator("a[href='/orders']").count() == 0, "a second live board"
    await ticket.locator("#print").click()
    assert await ticket.evaluate("window.__prints") == 1
    tabs = len(page.context.pages)
    async with ticket.expect_navigation():  # the same tab again, not one more each time
        await card.locator("a.ticket").click()
    assert len(page.context.pages) == tabs
    async with ticket.expect_event("close", timeout=5000):  # back to the board's own tab
        await ticket.locator("#close").click()
    assert ticket.is_closed()
