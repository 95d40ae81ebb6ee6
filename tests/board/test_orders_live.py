"""At the pass: an order a caller confirms shows up on the open board by itself, with a sound
and a flash, and the kitchen moves it to ready; two tablets never overwrite each other."""

from __future__ import annotations

from testkit.scripted_llm import Call
from tests.board.conftest import api_client, screenshot, sign_in, until, wait_for
from tests.conversation.harness import open_call


async def _confirmed_order_call(db, name: str):
    call = await open_call(
        db,
        Call("start_order"),
        Call("add_item", {"item": "a large cap", "options": ["oat milk"]}),
        "A large cappuccino with oat milk. What name is the order under?",
        Call("set_customer", {"name": name}),
        Call("review_order"),
        Call("confirm"),
        "Your order is placed. Anything else?",
    )
    await call.caller_says("A large cap with oat milk please")
    await call.caller_says(f"It's {name}")
    return call


async def test_a_confirmed_call_order_appears_live_and_staff_mark_it_ready(
        board_db, board_server, tablet):
    page = tablet
    await page.click("#sound")  # staff turn the sound on once (browsers need a tap for audio)
    beeps = await page.evaluate("window.__board.beeps || 0")
    await page.evaluate("window.__sameDocument = true")
    call = await _confirmed_order_call(board_db, "Dana Pass")

    await call.caller_says("Yes, that's right")
    (order_id,) = call.userdata.ids_created
    card = page.locator(f'#col-new article[data-id="{order_id}"]')
    await card.wait_for(timeout=10_000)
    assert not call.llm.overrun and not call.llm.steps

    assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    text = await card.inner_text()
    for expected in ("Dana Pass", "1 × Cappuccino", "Large", "Oat milk", "(617) 555-0199",
                     "pickup"):
        assert expected in text, (expected, text)
    order = (await board_db.db.document(f"orders/{order_id}").get()).to_dict()
    assert f"${order['total_cents'] / 100:.2f}" in text
    assert "fresh" in (await card.get_attribute("class") or ""), "no visual cue"
    assert await page.evaluate("window.__board.beeps") > beeps, "no audible cue"
    assert await page.locator("#badge-orders").inner_text() != "0"

    await card.locator("button[data-action=preparing]").click()
    await page.locator(f'#col-preparing article[data-id="{order_id}"]').wait_for()
    await page.locator(f'article[data-id="{order_id}"] button[data-action=ready]').click()
    ready = page.locator(f'#col-ready article[data-id="{order_id}"]')
    await ready.wait_for()
    await screenshot(page, "orders")

    saved = (await board_db.db.document(f"orders/{order_id}").get()).to_dict()
    assert saved["status"] == "ready" and saved["updated_by"] == board_server.owner[0]
    assert saved["total_cents"] == order["total_cents"], "staff changes touch the status only"

    ticket = await page.context.new_page()
    await ticket.goto(f"{board_server.url}/orders/{order_id}/ticket")
    body = await ticket.inner_text("body")
    assert f"#{order['order_number']}" in body and "Dana Pass" in body and "Oat milk" in body
    await screenshot(ticket, "ticket")
    await ticket.close()


async def test_two_tablets_on_one_order_the_second_sees_the_first_and_loses_nothing(
        board_db, board_server, browser):
    call = await _confirmed_order_call(board_db, "Eli Twice")
    await call.caller_says("Yes")
    (order_id,) = call.userdata.ids_created
    first = await sign_in(browser, board_server)
    second = await sign_in(browser, board_server)
    try:
        for page in (first, second):
            await page.locator(f'#col-new article[data-id="{order_id}"]').wait_for()
        seen_version = await second.evaluate(
            f"window.__board && document.querySelector('article[data-id=\"{order_id}\"]') "
            "&& true")
        assert seen_version
        stale = (await board_db.db.document(f"orders/{order_id}").get()).update_time.rfc3339()

        # Tablet one starts it; tablet two, without a reload, sees it move to Preparing.
        await first.locator(f'article[data-id="{order_id}"] button[data-action=preparing]').click()
        await second.locator(f'#col-preparing article[data-id="{order_id}"]').wait_for()

        # A write from the version tablet two had before is refused with the current order,
        # instead of silently undoing tablet one's change.
        api = await api_client(board_server)
        try:
            late = await api.post(f"/api/orders/{order_id}/status",
                                  json={"status": "cancelled", "reason": "dup", "version": stale})
        finally:
            await api.aclose()
        assert late.status_code == 409, late.text
        assert late.json()["current"]["status"] == "preparing"

        async def still_preparing() -> bool:
            doc = (await board_db.db.document(f"orders/{order_id}").get()).to_dict()
            return doc["status"] == "preparing"

        await wait_for(still_preparing)
        doc = (await board_db.db.document(f"orders/{order_id}").get()).to_dict()
        assert doc.get("cancel_reason", "") == ""
    finally:
        for page in (first, second):
            await page.context.close()


async def test_cancelling_an_order_asks_for_the_reason_and_keeps_it(board_db, board_server,
                                                                      tablet):
    page = tablet
    call = await _confirmed_order_call(board_db, "Flo Cancel")
    await call.caller_says("Yes")
    (order_id,) = call.userdata.ids_created
    card = page.locator(f'#col-new article[data-id="{order_id}"]')
    await card.wait_for()

    await card.locator("button[data-action=cancelled]").click()
    await page.locator("#cancel-close").click()  # staff change their mind: nothing happens
    assert (await board_db.db.document(f"orders/{order_id}").get()).to_dict()["status"] \
        == "confirmed"
    await card.locator("button[data-action=cancelled]").click()
    await page.fill("#cancel-form input[name=reason]", "Caller rang back: no longer needed")
    await page.locator("#cancel-save").click()
    done = page.locator(f'#col-done article[data-id="{order_id}"][data-status="cancelled"]')
    await done.wait_for(state="attached")
    saved = (await board_db.db.document(f"orders/{order_id}").get()).to_dict()
    assert saved["status"] == "cancelled"
    assert saved["cancel_reason"] == "Caller rang back: no longer needed"

    api = await api_client(board_server)
    try:  # a cancelled order stays cancelled, and a reason is required
        version = (await board_db.db.document(f"orders/{order_id}").get()).update_time.rfc3339()
        back = await api.post(f"/api/orders/{order_id}/status",
                              json={"status": "ready", "version": version})
        assert back.status_code == 422 and "cancelled" in back.json()["error"]
    finally:
        await api.aclose()


async def test_callers_words_are_shown_as_text_never_as_markup(board_db, board_server, tablet):
    from datetime import datetime

    from domain import ids
    from models import Message

    page = tablet
    await page.goto(board_server.url + "/messages")
    await until(page, "window.__board.ready")
    settings = await board_db.load_restaurant_settings()
    msg = Message(id=ids.message_id("call-xss", 1), call_id="call-xss", name="Mallory",
                  phone="+16175550111", reason='<img src=x onerror="window.__pwned=1"><b>hi</b>',
                  created_at=datetime.now(settings.tz))
    await board_db.save_message(msg)
    row = page.locator(f'#messages tr[data-id="{msg.id}"]')
    await row.wait_for()
    assert '<img src=x onerror="window.__pwned=1"><b>hi</b>' in await row.inner_text()
    assert await row.locator("img, b").count() == 0
    assert not await page.evaluate("window.__pwned === 1")


async def test_staff_see_when_the_line_will_not_call_an_orders_number_back(
        board_db, board_server, tablet):
    """Issue 26 §5: a visitor's UK mobile is the order's number; the card says the line will
    not call it back (international calls are off), so staff know to do it themselves."""
    call = await open_call(
        board_db,
        Call("start_order"),
        Call("add_item", {"item": "a large cap", "options": ["oat milk"]}),
        Call("set_customer", {"name": "Olivia Abroad", "phone": "+44 7911 123456"}),
        Call("review_order"),
        Call("confirm"),
        "Your order is placed.",
        caller=None,
    )
    await call.caller_says("A large cap with oat milk for Olivia Abroad, +44 7911 123456")
    await call.caller_says("Yes")
    (order_id,) = call.userdata.ids_created
    card = tablet.locator(f'article[data-id="{order_id}"]')
    await card.wait_for(timeout=10_000)
    note = await card.locator(".no-callback").inner_text()
    assert note.startswith("Not called back by the line: +447911123456 is an international")
    assert "+447911123456" in await card.inner_text()
