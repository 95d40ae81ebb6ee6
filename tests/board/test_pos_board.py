"""Staff see each order's POS state and resend it: `python -m services.board` with Square set to
the fake (official SDK), over its signed-in API and on the orders page in chromium; a resend
never makes a second Square order."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from actions.pos import connect_pos
from config import FirestoreSettings, SquareSettings
from fakes import square as fake_square
from services.board.auth import Accounts
from store import connect
from store.pos_orders import PosState, pos_state, record_pos_state
from testkit.emulator import Emulator
from testkit.firestore import seed_menu_file
from testkit.records import make_order
from testkit.square import serve_square
from tests.board.conftest import PROJECT, api_client, run_board, screenshot, sign_in, until


async def test_staff_see_the_pos_state_and_resend_without_a_twin(
        firestore_emulator: Emulator, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = FirestoreSettings(firestore_emulator_host=firestore_emulator.host,
                                 google_cloud_project=PROJECT, outbox_path=tmp_path / "o.jsonl")
    await asyncio.to_thread(seed_menu_file, settings)
    async with serve_square() as square:
        for key, value in square.env(str(tmp_path / "pos.jsonl")).items():
            monkeypatch.setenv(key, value)
        db = await connect(settings)
        # Its own owner account: the restaurant's first owner may already exist (other board
        # tests share the emulator), and then BOARD_OWNER_* creates nobody.
        owner = (f"pos-owner-{uuid.uuid4().hex[:8]}", "pos-owner-pw-1")
        await Accounts(db.db, 12).create_user(*owner, "owner")
        order = make_order("call-board-pos")
        await db.save_order(order, order.created_at.date())
        await square.fault("down")
        with run_board(firestore_emulator, settings, tmp_path, owner) as server:
            client = await api_client(server)
            try:
                r = await client.post(f"/api/pos/{order.id}/resend")
                assert r.status_code == 200, r.text
                assert r.json()["pos"]["state"] == "waiting"
                assert "503 SERVICE_UNAVAILABLE" in r.json()["pos"]["reason"]
                await square.fault("ok")
                for _ in range(2):  # staff press it twice
                    r = await client.post(f"/api/pos/{order.id}/resend")
                    assert r.json()["pos"]["state"] == "sent"
                listed = (await client.get("/api/pos")).json()["pos"]
                mine = next(p for p in listed if p["order_id"] == order.id)
                assert mine["pos_total_cents"] == order.total_cents
                assert not mine["totals_differ"]
                assert (await client.post("/api/pos/no-such-order/resend")).status_code == 404
            finally:
                await client.aclose()
        await db.close()
    assert len(square.orders()) == 1
    assert square.orders()[0]["reference_id"] == order.order_number
    assert fake_square.DEFAULT_LOCATION == square.orders()[0]["location_id"]


async def test_each_card_shows_its_pos_state_live_and_staff_resend_from_it(
        firestore_emulator: Emulator, browser, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In chromium: a card says where its order stands in Square and changes by itself when the
    worker's sender records an answer; Resend (CSRF, as every board write) turns "waiting" into
    "sent"; Square's refusal shows its reason; a cent's difference shows both totals."""
    settings = FirestoreSettings(firestore_emulator_host=firestore_emulator.host,
                                 google_cloud_project=PROJECT, outbox_path=tmp_path / "o.jsonl")
    await asyncio.to_thread(seed_menu_file, settings)
    now = datetime.now(UTC)
    async with serve_square() as square:
        for key, value in square.env(str(tmp_path / "pos.jsonl")).items():
            monkeypatch.setenv(key, value)
        db = await connect(settings)
        owner = (f"pos-owner-{uuid.uuid4().hex[:8]}", "pos-owner-pw-1")
        await Accounts(db.db, 12).create_user(*owner, "owner")
        tag = uuid.uuid4().hex[:6]
        waiting = make_order(f"call-pos-wait-{tag}", created_at=now, name="Wanda Wait")
        refused = make_order(f"call-pos-refuse-{tag}", created_at=now, name="Rex Refused")
        plain = make_order(f"call-pos-cent-{tag}", created_at=now, name="Cee Cent")
        # One cent more tax than Square computes (as a rounding rule that differed would):
        # shown with both figures, never "fixed".
        cent = plain.model_copy(update={"tax_cents": plain.tax_cents + 1,
                                        "total_cents": plain.total_cents + 1})
        for order in (waiting, refused, cent):
            await db.save_order(order, order.created_at.date())
        with run_board(firestore_emulator, settings, tmp_path, owner) as server:
            page = await sign_in(browser, server, owner)
            try:
                await _drive_the_cards(page, db, square, tmp_path, (waiting, refused, cent))
                await screenshot(page, "orders-pos")
            finally:
                await page.context.close()
        await db.close()
    made = {o["reference_id"]: o for o in square.orders()}
    assert set(made) == {waiting.order_number, cent.order_number}, "one Square order each"
    assert made[cent.order_number]["total_money"]["amount"] == cent.total_cents - 1


async def _drive_the_cards(page, db, square, tmp_path, orders) -> None:
    waiting, refused, cent = orders

    def card(order):
        return page.locator(f'article[data-id="{order.id}"]')

    async def pos_of(order) -> str:
        return await card(order).locator("[data-pos]").get_attribute("data-pos") or ""

    for order in (waiting, refused, cent):
        await card(order).wait_for()
        assert await pos_of(order) == "unsent"
        assert "Square: not sent yet" in await card(order).inner_text()

    # Square is down: staff resend, the card says it is waiting and why.
    await square.fault("down")
    await card(waiting).locator("button[data-action=resend]").click()
    await until(page, f'document.querySelector(\'article[data-id="{waiting.id}"] '
                      '[data-pos="waiting"]\') !== null')
    text = await card(waiting).inner_text()
    assert "503 SERVICE_UNAVAILABLE" in text and "1 try" in text, text
    await square.fault("ok")
    await card(waiting).locator("button[data-action=resend]").click()
    await until(page, f'document.querySelector(\'article[data-id="{waiting.id}"] '
                      '[data-pos="sent"]\') !== null')
    assert await card(waiting).locator("button[data-action=resend]").count() == 0
    assert "Square: sent" in await card(waiting).inner_text()

    # The worker's sender (not the board) meets a refusal: the open card changes by itself.
    await page.evaluate("window.__sameDocument = true")
    wrong = connect_pos(SquareSettings(
        square_access_token=square.state.token, square_base_url=square.url,
        square_location_id="NO-SUCH-LOCATION", pos_outbox_path=tmp_path / "worker.jsonl"), db)
    assert wrong is not None
    await wrong.enqueue(refused, db.restaurant_id, 0.0625)
    await wrong.send_pending()
    await until(page, f'document.querySelector(\'article[data-id="{refused.id}"] '
                      '[data-pos="refused"]\') !== null')
    assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    text = await card(refused).inner_text()
    assert "Square refused it: 404 NOT_FOUND" in text, text
    assert await card(refused).locator("button[data-action=resend]").count() == 1

    # A cent apart: sent, and flagged with both figures.
    await card(cent).locator("button[data-action=resend]").click()
    flag = card(cent).locator("[data-mismatch]")
    await flag.wait_for()
    words = await flag.inner_text()
    ours, theirs = cent.total_cents, cent.total_cents - 1
    assert f"ours ${ours / 100:.2f}" in words and f"Square's ${theirs / 100:.2f}" in words, words
    assert await card(waiting).locator("[data-mismatch]").count() == 0

    # Saved under a new number after an outage (store/pos_orders.order_home): the card says
    # which number the till has the order under.
    sent = await pos_state(db, waiting.id)
    assert sent is not None
    await record_pos_state(db, sent.model_copy(update={"sent_as": "1234"}))
    await until(page, f'document.querySelector(\'article[data-id="{waiting.id}"] '
                      '[data-pos="sent"]\').textContent.includes("Square: sent as #1234")')


async def test_staff_see_and_resend_only_todays_orders_in_the_pos(
        firestore_emulator: Emulator, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A POS state carries the order's totals: staff (not owners) see today's only, as they see
    today's orders only, and cannot resend a past day's order."""
    settings = FirestoreSettings(firestore_emulator_host=firestore_emulator.host,
                                 google_cloud_project=PROJECT, outbox_path=tmp_path / "o.jsonl")
    await asyncio.to_thread(seed_menu_file, settings)
    now = datetime.now(UTC)
    async with serve_square() as square:
        for key, value in square.env(str(tmp_path / "pos.jsonl")).items():
            monkeypatch.setenv(key, value)
        db = await connect(settings)
        tag = uuid.uuid4().hex[:8]
        owner, staff = (f"pos-o-{tag}", "pos-owner-pw-1"), (f"pos-s-{tag}", "pos-staff-pw-1")
        await Accounts(db.db, 12).create_user(*owner, "owner")
        await Accounts(db.db, 12).create_user(*staff, "staff")
        old = make_order(f"call-pos-old-{tag}", created_at=now - timedelta(days=3))
        new = make_order(f"call-pos-new-{tag}", created_at=now)
        for order, when in ((old, now - timedelta(days=3)), (new, now)):
            await db.save_order(order, order.created_at.date())
            await record_pos_state(db, PosState(
                order_id=order.id, order_number=order.order_number, state="waiting",
                reason="503 SERVICE_UNAVAILABLE: x", our_total_cents=order.total_cents,
                our_tax_cents=order.tax_cents, attempts=1, updated_at=when))
        with run_board(firestore_emulator, settings, tmp_path, owner) as server:
            as_staff, as_owner = await api_client(server, staff), await api_client(server, owner)
            try:
                seen = {p["order_id"] for p in (await as_staff.get("/api/pos")).json()["pos"]}
                assert new.id in seen and old.id not in seen
                owned = {p["order_id"] for p in (await as_owner.get("/api/pos")).json()["pos"]}
                assert {new.id, old.id} <= owned
                assert (await as_staff.post(f"/api/pos/{old.id}/resend")).status_code == 403
                r = await as_staff.post(f"/api/pos/{new.id}/resend")
                assert r.status_code == 200 and r.json()["pos"]["state"] == "sent", r.text
            finally:
                await as_staff.aclose()
                await as_owner.aclose()
        await db.close()
    assert [o["reference_id"] for o in square.orders()] == [new.order_number]
