"""Every page of the board on a host's phone (390×844) and a small tablet (1024×768): nothing
wider than the screen, every target at least 44×44 px, and no serious or critical axe-core
violation. A screenshot of each page at each size goes to docs/board/ (make screenshots), with
the axe results beside them (axe-<size>.json)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from datetime import datetime, timedelta
from typing import Any

import pytest

from domain import booking, ids
from models import CallLog, Message, TranscriptLine
from testkit.records import make_order
from tests.board.checks import axe, overflow, serious, small_targets, summary_line
from tests.board.conftest import (
    DOCS_SHOTS,
    SHOTS,
    SIZES,
    api_client,
    screenshot,
    sign_in,
    until,
)


async def _seed(db, server) -> dict[str, Any]:
    """A little of everything, so no page is checked empty: orders, bookings, messages, calls."""
    settings = await db.load_restaurant_settings()
    now = datetime.now(settings.tz)
    tag = secrets.token_hex(3)
    orders = []
    for n, name in enumerate(["Ann Layout", "Ben Layout", "Cy Layout"]):
        order = make_order(f"call-lay-{tag}-{n}", name=name,
                           created_at=now - timedelta(minutes=3 - n), quantity=n + 1)
        await db.save_order(order, now.date())
        orders.append(order)
    day = now.date() + timedelta(days=8)
    while not booking.seating_times(settings, day):
        day += timedelta(days=1)
    times = booking.seating_times(settings, day)
    api = await api_client(server)
    try:
        for at, party, name in ((times[1], 2, "Dee Layout"), (times[-3], 4, "Eve Layout")):
            made = await api.post("/api/bookings", json={
                "date": day.isoformat(), "time": at.strftime("%H:%M"), "party": party,
                "name": name, "phone": "617 555 0142"})
            assert made.status_code == 201, made.text
    finally:
        await api.aclose()
    call_id = f"call-lay-msg-{tag}"
    await db.save_message(Message(
        id=ids.message_id(call_id, 1), call_id=call_id, name="Fay Layout",
        phone="+16175550155", reason="Please call back after 5 about a birthday cake",
        created_at=now))
    log = CallLog(call_id=f"call-lay-log-{tag}", caller="+16175550166",
                  started_at=max(now - timedelta(minutes=2),
                                 now.replace(hour=0, minute=0, second=0, microsecond=0)),
                  ended_at=now, duration_s=95.0, outcome="order", ids_created=[orders[0].id],
                  close_reason="participant_disconnected",
                  agents_visited=["intent_classifier", "order_agent"],
                  transcript=[TranscriptLine(role="assistant", text="Harbor Street Café!"),
                              TranscriptLine(role="user", text="Two cappuccinos please")],
                  turn_latency_ms=[640.0, 720.5])
    await db.write_call_log(log, now.date())
    return {"orders": orders, "day": day, "call": log}


async def _check(page: Any, name: str, problems: list[str], verdicts: dict[str, Any]) -> None:
    await page.wait_for_timeout(150)  # fonts and the last render settle
    problems += [f"{name}: {p}" for p in await overflow(page)]
    problems += [f"{name}: target {t}" for t in await small_targets(page)]
    verdict = await axe(page)
    verdicts[name] = verdict
    problems += [f"{name}: axe {v}" for v in serious(verdict)]
    await screenshot(page, name)


def _keep_axe(size: str, verdicts: dict[str, Any]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(verdicts, indent=1, sort_keys=True)
    (SHOTS / f"axe-{size}.json").write_text(text)
    if os.environ.get("BOARD_SCREENSHOTS_TO_DOCS"):
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        (DOCS_SHOTS / f"axe-{size}.json").write_text(text)


@pytest.mark.parametrize("size", sorted(SIZES))
async def test_every_page_fits_has_big_targets_and_passes_axe(
        size, board_db, board_server, browser):
    seeded = await _seed(board_db, board_server)
    viewport = SIZES[size]
    problems: list[str] = []
    verdicts: dict[str, Any] = {}

    anonymous = await browser.new_context(viewport=viewport, has_touch=True,
                                          is_mobile=viewport["width"] < 600)
    login = await anonymous.new_page()
    await login.goto(board_server.url + "/orders")
    await _check(login, f"sign-in-{size}", problems, verdicts)
    await anonymous.close()

    page = await sign_in(browser, board_server, viewport=viewport)
    try:
        order = seeded["orders"][-1]
        await page.locator(f'article[data-id="{order.id}"]').wait_for()
        await _check(page, f"orders-{size}", problems, verdicts)

        await page.goto(board_server.url + "/bookings")
        await until(page, "window.__board.ready")
        await page.fill("#day", seeded["day"].isoformat())
        await page.dispatch_event("#day", "change")
        await page.locator("#bookings tr", has_text="Eve Layout").first.wait_for()
        await until(page, "document.querySelectorAll('#timeline .slot').length > 0")
        await _check(page, f"bookings-{size}", problems, verdicts)
        await page.click("#add-booking")
        await page.locator("#booking-form select[name=time] option").first.wait_for(
            state="attached")
        await _check(page, f"booking-form-{size}", problems, verdicts)
        save = await page.locator("#booking-save").bounding_box()
        assert save and save["x"] + save["width"] <= viewport["width"] \
            and save["y"] + save["height"] <= viewport["height"], f"Save is off-screen: {save}"
        await page.click("#booking-close")

        await page.goto(board_server.url + "/messages")
        await until(page, "window.__board.ready")
        await page.locator("#messages tr", has_text="Fay Layout").first.wait_for()
        await _check(page, f"messages-{size}", problems, verdicts)
        await page.locator("#messages tr", has_text="Fay Layout").first.locator(
            "button[data-action=callback]").click()
        await _check(page, f"call-back-{size}", problems, verdicts)
        await page.click("#callback-close")

        await page.goto(board_server.url + "/calls")
        await until(page, "window.__board.ready")
        row = page.locator(f'#calls tr[data-id="{seeded["call"].call_id}"]')
        await row.click()
        await _check(page, f"calls-{size}", problems, verdicts)

        for name in ("menu", "numbers", "users"):
            await page.goto(f"{board_server.url}/{name}")
            await until(page, "window.__board.ready")
            if name == "numbers":
                await until(page, "window.__board.charts >= 7")
            if name == "users":
                await page.locator("#users tbody tr").first.wait_for()
            await _check(page, f"{'staff-accounts' if name == 'users' else name}-{size}",
                         problems, verdicts)

        await page.goto(f"{board_server.url}/orders/{order.id}/ticket")
        await _check(page, f"ticket-{size}", problems, verdicts)
    finally:
        await page.context.close()
        await asyncio.to_thread(_keep_axe, size, verdicts)
    print("\n".join(summary_line(k, v) for k, v in sorted(verdicts.items())))
    assert not problems, "\n".join(problems)
