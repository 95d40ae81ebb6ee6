"""Confirmed orders reach Square once, through the outbox, with the money compared to the cent.

The official `squareup` SDK talks HTTP to fakes/square.py (real paths, Bearer auth, Square's
error bodies, its idempotency); POS state is recorded in the real Firestore emulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from square import AsyncSquare

from actions.pos import POS_KIND, PosHandoff, idempotency_key, square_order
from domain.pos_catalog import import_catalog
from fakes import square as fake_square
from models import Order, OrderLine
from store import FirebaseManager
from store.outbox import Outbox
from store.pos_orders import pos_state
from testkit.square import FakeSquare, serve_square
from tests.conftest import ROOT, make_order

TAX = 0.0625


@pytest.fixture
async def square() -> AsyncIterator[FakeSquare]:
    async with serve_square() as fake:
        yield fake


def handoff(square: FakeSquare, db: FirebaseManager, tmp_path: Path, *,
            token: str = fake_square.DEFAULT_TOKEN,
            location: str = fake_square.DEFAULT_LOCATION, timeout_s: float = 2.0) -> PosHandoff:
    client = AsyncSquare(token=token, base_url=square.url)
    return PosHandoff(client, location, Outbox(tmp_path / "pos.jsonl"), db.for_restaurant,
                      timeout_s=timeout_s)


async def test_a_saved_order_becomes_one_square_order_with_matching_totals(
        square: FakeSquare, db: FirebaseManager, tmp_path: Path) -> None:
    pos = handoff(square, db, tmp_path)
    order = make_order("call-sq", quantity=2)
    await pos.enqueue(order, db.restaurant_id, TAX)
    assert await pos.send_pending() == 1
    [made] = square.orders()
    assert made["location_id"] == fake_square.DEFAULT_LOCATION
    assert made["reference_id"] == order.order_number
    [line] = made["line_items"]
    assert (line["name"], line["quantity"], line["variation_name"]) == ("Cappuccino", "2",
                                                                        "Medium")
    assert line["modifiers"] == [{"name": "Oat milk",
                                  "base_price_money": {"amount": 75, "currency": "USD"}}]
    pickup = made["fulfillments"][0]
    assert pickup["type"] == "PICKUP"
    assert pickup["pickup_details"]["recipient"] == {"display_name": "Ann Lee",
                                                     "phone_number": "+16175550101"}
    state = await pos_state(db, order.id)
    assert state is not None and state.state == "sent" and state.pos_order_id == made["id"]
    assert (state.pos_total_cents, state.pos_tax_cents) == (order.total_cents, order.tax_cents)
    assert not state.totals_differ
    assert len(pos.outbox) == 0


def _two_small_lines(call_id: str) -> Order:
    base = make_order(call_id, quantity=1)
    line = OrderLine(item_id="cookie", name="Cookie", quantity=1, unit_price_cents=105,
                     line_price_cents=105)
    # ours: 6.25% of 210 = 13.125 -> 13; Square, per line: 6.5625 -> 7, twice -> 14
    return base.model_copy(update={"lines": [line, line], "subtotal_cents": 210,
                                   "tax_cents": 13, "total_cents": 223})


async def test_a_cent_of_difference_is_flagged_with_both_figures_never_fixed(
        square: FakeSquare, db: FirebaseManager, tmp_path: Path) -> None:
    pos = handoff(square, db, tmp_path)
    order = _two_small_lines("call-cent")
    await pos.enqueue(order, db.restaurant_id, TAX)
    await pos.send_pending()
    state = await pos_state(db, order.id)
    assert state is not None and state.state == "sent" and state.totals_differ
    assert (state.our_total_cents, state.our_tax_cents) == (223, 13)
    assert (state.pos_total_cents, state.pos_tax_cents) == (224, 14)
    snap = await db.db.document(f"orders/{order.id}").get()
    assert not snap.exists  # the hand-off never rewrites our order


async def test_an_unknown_location_is_refused_with_squares_reason(
        square: FakeSquare, db: FirebaseManager, tmp_path: Path) -> None:
    pos = handoff(square, db, tmp_path, location="L-NOWHERE")
    order = make_order("call-loc")
    await pos.enqueue(order, db.restaurant_id, TAX)
    assert await pos.send_pending() == 1
    state = await pos_state(db, order.id)
    assert state is not None and state.state == "refused"
    assert "NOT_FOUND" in state.reason and "L-NOWHERE" in state.reason
    assert square.orders() == []


async def test_a_wrong_token_keeps_the_order_waiting_not_refused(
        square: FakeSquare, db: FirebaseManager, tmp_path: Path) -> None:
    pos = handoff(square, db, tmp_path, token="wrong")
    order = make_order("call-token")
    await pos.enqueue(order, db.restaurant_id, TAX)
    assert await pos.send_pending() == 0
    state = await pos_state(db, order.id)
    assert state is not None and state.state == "waiting" and "UNAUTHORIZED" in state.reason
    assert len(pos.outbox) == 1


@pytest.mark.parametrize("mode", ["down", "error500", "timeout"])
async def test_an_outage_or_a_lost_answer_still_gives_exactly_one_square_order(
        square: FakeSquare, db: FirebaseManager, tmp_path: Path, mode: str) -> None:
    pos = handoff(square, db, tmp_path, timeout_s=0.5)
    order = make_order(f"call-{mode}")
    await square.fault(mode, delay_s=2.0)
    await pos.enqueue(order, db.restaurant_id, TAX)
    assert await pos.send_pending() == 0
    state = await pos_state(db, order.id)
    assert state is not None and state.state == "waiting" and state.reason
    # "down" created nothing; "error500" and "timeout" created it but we never heard
    assert len(square.orders()) == (0 if mode == "down" else 1)
    await square.fault("ok")
    assert await pos.send_pending() == 1
    assert len(square.orders()) == 1
    key = idempotency_key(db.restaurant_id, order.id)
    assert square.state.calls[key] == 2
    state = await pos_state(db, order.id)
    assert state is not None and state.state == "sent" and state.attempts == 2
    assert state.pos_total_cents == order.total_cents


async def test_the_same_key_with_another_body_is_refused_by_square(
        square: FakeSquare, db: FirebaseManager, tmp_path: Path) -> None:
    client = AsyncSquare(token=fake_square.DEFAULT_TOKEN, base_url=square.url)
    order = make_order("call-reuse")
    body = square_order(order, fake_square.DEFAULT_LOCATION, TAX)
    await client.orders.create(order=body, idempotency_key="k1")
    again = await client.orders.create(order=body, idempotency_key="k1")
    assert len(square.orders()) == 1 and again.order is not None
    body["reference_id"] = "9999"
    with pytest.raises(Exception) as err:
        await client.orders.create(order=body, idempotency_key="k1",
                                   request_options={"max_retries": 0})
    assert "IDEMPOTENCY_KEY_REUSED" in str(err.value.body)  # type: ignore[attr-defined]


async def test_queueing_the_same_order_twice_keeps_one_entry(
        square: FakeSquare, db: FirebaseManager, tmp_path: Path) -> None:
    pos = handoff(square, db, tmp_path)
    order = make_order("call-twice")
    await pos.enqueue(order, db.restaurant_id, TAX)
    await pos.enqueue(order, db.restaurant_id, TAX)
    entries = await pos.outbox.entries()
    assert [e.kind for e in entries] == [POS_KIND]


async def test_a_price_changed_in_square_since_the_import_is_flagged(
        square: FakeSquare, db: FirebaseManager, tmp_path: Path) -> None:
    """Lines go by catalog id, so Square prices them from its catalog: a menu out of date by
    25 cents shows both totals on the order, and nothing is "fixed"."""
    catalog = json.loads((ROOT / "testkit" / "square_catalog.json").read_text())["objects"]
    square.state.catalog = catalog
    imported = import_catalog(catalog, fake_square.DEFAULT_LOCATION)
    churros = next(o for o in catalog if o["id"] == "ITEM038")
    ours = churros["item_data"]["variations"][0]["item_variation_data"]["price_money"]["amount"]
    churros["item_data"]["variations"][0]["item_variation_data"]["price_money"]["amount"] += 25
    line = OrderLine(item_id="churros", name="Churros", quantity=2, unit_price_cents=ours,
                     line_price_cents=2 * ours)
    base = make_order("call-price")
    order = base.model_copy(update={"lines": [line], "subtotal_cents": 2 * ours, "tax_cents": 0,
                                    "total_cents": 2 * ours})
    pos = PosHandoff(AsyncSquare(token=fake_square.DEFAULT_TOKEN, base_url=square.url),
                     fake_square.DEFAULT_LOCATION, Outbox(tmp_path / "pos.jsonl"),
                     db.for_restaurant, catalog=imported.catalog)
    await pos.enqueue(order, db.restaurant_id, 0.0)
    await pos.send_pending()
    [made] = square.orders()
    assert made["line_items"][0]["catalog_object_id"] == "ITEM038-V0"
    state = await pos_state(db, order.id)
    assert state is not None and state.state == "sent" and state.totals_differ
    assert (state.our_total_cents, state.pos_total_cents) == (2 * ours, 2 * ours + 50)


async def test_each_restaurant_orders_into_its_own_square_location(
        square: FakeSquare, db: FirebaseManager, tmp_path: Path) -> None:
    """Several restaurants on one line: each order goes to the location its restaurant's
    settings name (`square_location_id`), else to SQUARE_LOCATION_ID; a restaurant with neither
    does not use Square and nothing of it is queued."""
    square.state.locations["LCASA"] = "Casa Lupita"
    pos = handoff(square, db, tmp_path, location="")  # no SQUARE_LOCATION_ID
    main, casa, none = (make_order(f"call-loc-{n}") for n in ("main", "casa", "none"))
    await pos.enqueue(main, "main", TAX, fake_square.DEFAULT_LOCATION)
    await pos.enqueue(casa, "casa", TAX, "LCASA")
    await pos.enqueue(none, "elsewhere", TAX, None)
    assert len(pos.outbox) == 2
    assert await pos.send_pending() == 2
    where = {o["reference_id"]: o["location_id"] for o in square.orders()}
    assert where == {main.order_number: fake_square.DEFAULT_LOCATION,
                     casa.order_number: "LCASA"}
    # the deployment's location is the fallback of a restaurant that names none
    (tmp_path / "x").mkdir()
    fallback = handoff(square, db, tmp_path / "x", location=fake_square.DEFAULT_LOCATION)
    await fallback.enqueue(none, "elsewhere", TAX, None)
    assert await fallback.send_pending() == 1
    assert {o["reference_id"]: o["location_id"] for o in square.orders()}[
        none.order_number] == fake_square.DEFAULT_LOCATION
