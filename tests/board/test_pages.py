"""Messages, calls and numbers as staff and the owner see them (with a screenshot of each)."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from domain import ids
from models import CallLog, Message, TranscriptLine
from testkit.records import make_order
from tests.board.conftest import api_client, screenshot, sign_in, until


def _earlier_today(now: datetime, *, minutes: int) -> datetime:
    """`minutes` before `now`, but not before the restaurant's midnight: the calls page shows
    the day a call started on, and a test run just after midnight must still find its call."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return max(now - timedelta(minutes=minutes), midnight)


async def test_a_call_back_request_arrives_live_and_staff_mark_it_done(
        board_db, board_server, tablet):
    page = tablet
    await page.goto(board_server.url + "/messages")
    await until(page, "window.__board.ready")
    settings = await board_db.load_restaurant_settings()
    now = datetime.now(settings.tz)
    call_id = "call-msg-" + secrets.token_hex(4)
    msg = Message(id=ids.message_id(call_id, 1), call_id=call_id, name="Hana Caller",
                  phone="+16175550155", reason="Wants to book the back room for 20 people",
                  created_at=now)
    await board_db.save_message(msg)
    row = page.locator(f'#messages tr[data-id="{msg.id}"]')
    await row.wait_for()
    text = await row.inner_text()
    assert "Hana Caller" in text and "(617) 555-0155" in text and "back room" in text
    await screenshot(page, "messages")
    await row.locator("button[data-action=done]").click()
    await page.locator(f'#messages tr[data-id="{msg.id}"][data-status="handled"]').wait_for()
    doc = (await board_db.db.document(f"messages/{msg.id}").get()).to_dict()
    assert doc["status"] == "handled" and doc["handled_by"] == board_server.owner[0]


async def _some_history(db, tz, days: int = 10) -> list[CallLog]:
    """Calls and orders over the last days, written the way the worker writes them."""
    rng = random.Random(12)
    logs = []
    today = datetime.now(tz).replace(minute=0, second=0, microsecond=0)
    outcomes = ["order"] * 5 + ["reservation"] * 3 + ["info", "transfer", "message", "abandoned"]
    for back in range(days):
        for _ in range(rng.randint(3, 9)):
            start = (today - timedelta(days=back)).replace(hour=rng.randint(8, 20),
                                                           minute=rng.randint(0, 59))
            if start > datetime.now(tz):  # early in the morning: today's hours are still ahead
                start -= timedelta(days=1)
            call_id = f"call-hist-{secrets.token_hex(4)}"
            outcome = rng.choice(outcomes)
            created = []
            if outcome == "order":
                order = make_order(call_id, created_at=start, quantity=rng.randint(1, 4))
                await db.save_order(order, start.date())
                created.append(order.id)
            log = CallLog(
                call_id=call_id, caller=f"+1617555{rng.randint(1000, 9999)}",
                started_at=start, ended_at=start + timedelta(seconds=rng.randint(40, 240)),
                duration_s=float(rng.randint(40, 240)), outcome=outcome, ids_created=created,
                agents_visited=["intent_classifier", "order_agent"],
                transcript=[TranscriptLine(role="assistant", text="Thanks for calling!"),
                            TranscriptLine(role="user", text="Two cappuccinos please")],
                turn_latency_ms=[round(rng.uniform(450, 1400), 1) for _ in range(4)],
            )
            await db.write_call_log(log, start.date())
            logs.append(log)
    return logs


async def test_calls_list_with_outcome_filter_transcript_and_latency(
        board_db, board_server, tablet):
    page = tablet
    settings = await board_db.load_restaurant_settings()
    now = datetime.now(settings.tz)
    call_id = "call-list-" + secrets.token_hex(4)
    transfer = CallLog(
        call_id=call_id, caller="+16175550166", started_at=_earlier_today(now, minutes=3),
        ended_at=now, duration_s=180.0, outcome="transfer",
        agents_visited=["intent_classifier", "reservation_agent"],
        transcript=[TranscriptLine(role="assistant", text="Harbor Street Café, how can I help?"),
                    TranscriptLine(role="user", text="I need a table for twelve"),
                    TranscriptLine(role="assistant", text="Let me get you a person.")],
        turn_latency_ms=[612.5, 840.0])
    await page.goto(board_server.url + "/calls")
    await until(page, "window.__board.ready")
    await board_db.write_call_log(transfer, now.date())
    row = page.locator(f'#calls tr[data-id="{call_id}"]')
    await row.wait_for()  # a call that ends shows up on the open page
    text = await row.inner_text()
    assert "put through to staff" in text and "(617) 555-0166" in text and "180 s" in text
    assert "median 613 ms" in text or "median 612 ms" in text

    await _some_history(board_db, settings.tz, days=1)
    await page.select_option("#outcome", "transfer")
    await until(page, "[...document.querySelectorAll('#calls tr.call')]"
                      ".every((tr) => tr.dataset.outcome === 'transfer')")
    outcomes = await page.locator("#calls tr.call").evaluate_all(
        "(rows) => rows.map((r) => r.dataset.outcome)")
    assert outcomes and set(outcomes) == {"transfer"}
    # The detail speaks the restaurant's language: who called, what they wanted, what
    # happened; the agent names and latencies only inside the technical fold.
    await page.locator(f'#calls tr[data-id="{call_id}"] button').press("Enter")  # keyboard
    detail = page.locator(f'#calls tr[data-id="{call_id}"] + tr.detail')
    shown = await detail.inner_text()
    assert "I need a table for twelve" in shown
    assert "(617) 555-0166 was put through to staff" in shown
    assert "reservation_agent" not in shown and "intent_classifier" not in shown
    await detail.locator("summary").click()
    assert "Per-turn latency: 613 ms, 840 ms" in await detail.inner_text()
    assert "reservation_agent" in await detail.inner_text()
    await screenshot(page, "calls")
    # Another call ends while staff read this one: the list is drawn again with it, and what
    # staff opened (the call, its technical fold) stays open.
    await board_db.write_call_log(CallLog(
        call_id=f"{call_id}-next", caller="+16175550167", started_at=_earlier_today(now, minutes=1),
        ended_at=now, duration_s=30.0, outcome="transfer"), now.date())
    await page.locator(f'#calls tr[data-id="{call_id}-next"]').wait_for()
    assert await detail.is_visible(), "the call staff were reading closed when another ended"
    assert "Per-turn latency: 613 ms, 840 ms" in await detail.inner_text()
    assert await page.locator(f'#calls tr[data-id="{call_id}"] button').get_attribute(
        "aria-expanded") == "true"

    yesterday = (now - timedelta(days=1)).date().isoformat()
    api = await api_client(board_server)
    try:
        day_before = (await api.get(f"/api/calls?day={yesterday}")).json()["calls"]
    finally:
        await api.aclose()
    assert call_id not in {c["_id"] for c in day_before}


async def test_a_call_that_ends_while_the_list_loads_stays_on_screen(
        board_db, board_server, tablet):
    # The day's list is fetched when the page connects; a call that ends meanwhile arrives
    # live first, and the fetch's older answer (held here, answered without it) must not
    # wipe it off the screen.
    page = tablet
    settings = await board_db.load_restaurant_settings()
    now = datetime.now(settings.tz)
    held: list = []
    await page.route("**/api/calls?*", lambda route: held.append(route))
    await page.goto(board_server.url + "/calls")
    await until(page, "window.__board.ready")
    call_id = "call-race-" + secrets.token_hex(4)
    await board_db.write_call_log(CallLog(
        call_id=call_id, caller="+16175550177", started_at=_earlier_today(now, minutes=1),
        ended_at=now, duration_s=60.0, outcome="order"), now.date())
    row = page.locator(f'#calls tr[data-id="{call_id}"]')
    await row.wait_for()  # live
    assert held, "the page did not fetch the day's calls"
    for route in held:
        await route.fulfill(json={"day": now.date().isoformat(), "calls": []})
    await page.unroute("**/api/calls?*")
    await until(page, "document.querySelector('#calls tbody') !== null")
    await page.wait_for_timeout(300)  # the answer is applied
    assert await row.count() == 1, "the answer fetched before the call ended wiped it"


async def test_numbers_plot_the_days_and_hours_and_hide_revenue_from_staff(
        board_db, board_server, browser):
    settings = await board_db.load_restaurant_settings()
    logs = await _some_history(board_db, settings.tz, days=10)
    owner = await sign_in(browser, board_server, path="/numbers")
    try:
        await until(owner, "window.__board.charts >= 8")
        titles = await owner.locator(".chart h2").all_inner_texts()
        for expected in ("Calls and orders per day", "Revenue per day ($)", "Covers per day",
                         "Outcomes per day", "Transfers to staff per day",
                         "Answer latency per day (ms)", "Calls and orders by hour",
                         "Answer latency by hour (ms)"):
            assert expected in titles, titles
        calls_total = int(await owner.locator('[data-total="calls"] b').inner_text())
        assert calls_total >= len(logs)
        await screenshot(owner, "numbers")
    finally:
        await owner.context.close()

    api = await api_client(board_server)
    staff = ("numbers" + secrets.token_hex(2), secrets.token_urlsafe(12))
    try:
        made = await api.post("/api/users", json={"username": staff[0], "password": staff[1],
                                                  "role": "staff"})
        assert made.status_code == 201
    finally:
        await api.aclose()
    page = await sign_in(browser, board_server, staff, path="/numbers")
    try:
        await until(page, "window.__board.charts >= 7")
        titles = await page.locator(".chart h2").all_inner_texts()
        assert "Revenue per day ($)" not in titles
        assert await page.locator('[data-total="revenue"]').count() == 0
        assert await page.locator('nav a[href="/users"]').count() == 0
    finally:
        await page.context.close()



async def test_the_owner_adds_a_staff_account_on_the_staff_page(board_server, browser,
                                                                 board_db):
    anonymous = await browser.new_context(viewport={"width": 820, "height": 1180})
    login = await anonymous.new_page()
    await login.goto(board_server.url + "/orders")
    await screenshot(login, "sign-in")
    await anonymous.close()

    page = await sign_in(browser, board_server, path="/users")
    try:
        name = "server" + secrets.token_hex(2)
        form = page.locator("#new-user")
        await form.locator("input[name=username]").fill(name)
        await form.locator("input[name=password]").fill(secrets.token_urlsafe(12))
        await form.locator("button").click()
        await page.locator(f'#users tr[data-user="{name}"]').wait_for()
        stored = (await board_db.db.document(f"staff_users/{name}").get()).to_dict()
        assert stored["role"] == "staff" and not stored["disabled"]
        await screenshot(page, "staff-accounts")
    finally:
        await page.context.close()
