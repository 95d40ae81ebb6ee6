"""Square's order events move the order's card, only when signed as Square signs them, once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from square import AsyncSquare

from actions.pos import PosHandoff
from config import SquareSettings, TwilioSettings
from domain import ids
from fakes import square as fake_square
from services.webhooks import create_app
from store import FirebaseManager
from store.outbox import Outbox
from store.pos_orders import pos_state
from testkit.records import make_order
from testkit.square import FakeSquare, serve_square

URL = "https://line.example.test/square/webhook"  # the subscription's notification URL
KEY = "fake-square-signature-key"
NOW = datetime(2026, 11, 20, 17, 5, tzinfo=UTC)


@pytest.fixture
async def square() -> AsyncIterator[FakeSquare]:
    async with serve_square() as fake:
        yield fake


@pytest.fixture
async def hook(db: FirebaseManager) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(TwilioSettings(), db, clock=lambda: NOW, square=SquareSettings(
        square_webhook_signature_key=SecretStr(KEY), square_webhook_url=URL))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://line.example.test") as client:
        yield client


async def _sent_order(square: FakeSquare, db: FirebaseManager, tmp_path: Path) -> tuple:
    order = make_order("call-hook")
    await db.save_order(order, order.created_at.date())
    pos = PosHandoff(AsyncSquare(token=square.state.token, base_url=square.url),
                     fake_square.DEFAULT_LOCATION, Outbox(tmp_path / "pos.jsonl"),
                     db.for_restaurant)
    await pos.enqueue(order, db.restaurant_id, 0.0625)
    await pos.send_pending()
    [made] = square.orders()
    return order, made["id"]


async def _status(db: FirebaseManager, order_id: str) -> str:
    return (await db.db.document(f"orders/{order_id}").get()).to_dict()["status"]


async def test_square_moves_the_card_preparing_ready_picked_up(square, db, hook, tmp_path):
    order, sid = await _sent_order(square, db, tmp_path)
    for square_state, ours in (("RESERVED", "preparing"), ("PREPARED", "ready"),
                               ("COMPLETED", "collected")):
        event = fake_square.fulfill(square.state, sid, square_state)
        r = await fake_square.deliver_webhook(URL, KEY, event, client=hook)
        assert (r.status_code, r.text) == (200, f"moved to {ours}")
        assert await _status(db, order.id) == ours
    doc = (await db.db.document(f"orders/{order.id}").get()).to_dict()
    assert doc["updated_by"] == "square"


async def test_a_replayed_or_late_event_changes_nothing(square, db, hook, tmp_path):
    order, sid = await _sent_order(square, db, tmp_path)
    ready = fake_square.fulfill(square.state, sid, "PREPARED")
    early = fake_square.fulfill(square.state, sid, "RESERVED")  # an older version, sent late
    early["data"]["object"]["order_fulfillment_updated"]["version"] = 1
    assert (await fake_square.deliver_webhook(URL, KEY, ready, client=hook)).text == \
        "moved to ready"
    assert (await fake_square.deliver_webhook(URL, KEY, ready, client=hook)).text == "replayed"
    assert (await fake_square.deliver_webhook(URL, KEY, early, client=hook)).text == "stale"
    assert await _status(db, order.id) == "ready"


@pytest.mark.parametrize("replay_first", [False, True])
async def test_an_order_saved_under_another_id_after_an_outage_keeps_its_own_card(
        square, db, hook, tmp_path, replay_first):
    """A call's order was queued while Firestore was down, and its id came to hold another
    order of the same call (a restarted agent's counter): the replay saves it as `<id>-2`
    under a new number. Square got it under its first number; the board's POS line and
    Square's updates must follow the order, not the other one that now has its old id."""
    other = make_order("call-outage", name="Other Guest", quantity=1)
    await db.save_order(other, other.created_at.date())
    queued = make_order("call-outage", name="Queued Guest", quantity=3)  # the same id
    await db.outbox.append("order", {"order": queued.model_dump(mode="json"),
                                     "analytics_day": queued.created_at.date().isoformat()},
                           record_id=queued.id)
    if replay_first:
        assert await db.replay_outbox() == 1
    pos = PosHandoff(AsyncSquare(token=square.state.token, base_url=square.url),
                     fake_square.DEFAULT_LOCATION, Outbox(tmp_path / "pos.jsonl"),
                     db.for_restaurant)
    await pos.enqueue(queued, db.restaurant_id, 0.0625)
    assert await pos.send_pending() == 1
    if not replay_first:
        assert await db.replay_outbox() == 1
    moved = f"{queued.id}-2"
    assert (await db.db.document(f"orders/{moved}").get()).to_dict()["customer_name"] == \
        "Queued Guest"
    [made] = square.orders()
    assert made["reference_id"] == queued.order_number  # what the till shows
    assert await pos_state(db, other.id) is None  # the other order was never sent
    card = await pos_state(db, moved)
    assert card is not None and card.state == "sent" and card.pos_order_id == made["id"]
    assert (card.order_number, card.sent_as) == (ids.order_number(moved), queued.order_number)
    assert not card.totals_differ
    event = fake_square.fulfill(square.state, made["id"], "PREPARED")
    assert (await fake_square.deliver_webhook(URL, KEY, event, client=hook)).text == \
        "moved to ready"
    assert (await _status(db, moved), await _status(db, other.id)) == ("ready", "confirmed")


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "other-url"])
async def test_an_unsigned_or_badly_signed_event_changes_nothing(square, db, hook, tmp_path,
                                                                 signature):
    order, sid = await _sent_order(square, db, tmp_path)
    event = fake_square.fulfill(square.state, sid, "COMPLETED")
    if signature == "other-url":  # signed, but for another subscription's URL
        signature = fake_square.sign_webhook(KEY, "https://evil.test/hook", json.dumps(event))
    r = await fake_square.deliver_webhook(URL, KEY, event, client=hook, signature=signature)
    assert r.status_code == 403
    assert await _status(db, order.id) == "confirmed"


async def test_sold_out_in_square_reaches_the_menu_calls_use(
        square, db, firestore_settings, tmp_path, monkeypatch) -> None:
    from scripts import import_square_catalog as importer
    from testkit.firestore import seed_menu_file
    from tests.conftest import ROOT

    square.state.catalog = json.loads(
        (ROOT / "testkit" / "square_catalog.json").read_text())["objects"]
    for key, value in square.env(str(tmp_path / "pos.jsonl")).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ENV_FILE", "/nonexistent")
    menu = tmp_path / "square-menu.yaml"
    assert await asyncio.to_thread(importer.main, [
        "--location", fake_square.DEFAULT_LOCATION, "--out", str(menu)]) == 0
    await asyncio.to_thread(seed_menu_file, firestore_settings, menu)
    churros = next(o for o in square.state.catalog
                   if o["type"] == "ITEM" and o["item_data"]["name"] == "Churros")
    churros["item_data"]["variations"][0]["item_variation_data"]["location_overrides"] = [
        {"location_id": fake_square.DEFAULT_LOCATION, "sold_out": True}]
    app = create_app(TwilioSettings(), db, clock=lambda: NOW, square=SquareSettings(
        square_webhook_signature_key=SecretStr(KEY), square_webhook_url=URL,
        square_access_token=SecretStr(square.state.token), square_base_url=square.url,
        square_location_id=fake_square.DEFAULT_LOCATION,
        square_id_map_path=Path(str(menu) + ".square-ids.json")))
    event = {"merchant_id": "MLFAKE", "type": "catalog.version.updated", "event_id": "e-cat-1",
             "created_at": "2026-11-20T17:05:00Z", "data": {
                 "type": "catalog_version", "id": "", "object": {
                     "catalog_version": {"updated_at": "2026-11-20T17:05:00Z"}}}}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://line.example.test") as client:
        r = await fake_square.deliver_webhook(URL, KEY, event, client=client)
        assert (r.status_code, r.text) == (200, "menu: main: churros sold out")
        doc = (await db.db.document("menu_items/churros").get()).to_dict()
        assert doc["available"] is False
        assert (await db.db.document("menu_items/wet-burrito").get()).to_dict()[
            "available"] is False  # already sold out at import: no change reported
        r = await fake_square.deliver_webhook(URL, KEY, event, client=client)
        assert r.text == "menu: main: no change"


async def test_each_restaurant_follows_sold_out_at_its_own_square_location(
        square, db, firestore_settings, tmp_path, monkeypatch) -> None:
    """Two restaurants on one line, one Square account: `main` at SQUARE_LOCATION_ID, `casa`
    at the location its settings name. Churros sold out at casa's location only: casa's menu
    says so, main's keeps them; a restaurant is never given another's sold-out."""
    import yaml

    from scripts import import_square_catalog as importer
    from testkit.firestore import seed_menu_file
    from tests.conftest import ROOT

    square.state.catalog = json.loads(
        (ROOT / "testkit" / "square_catalog.json").read_text())["objects"]
    square.state.locations["LCASA"] = "Casa"
    for key, value in square.env(str(tmp_path / "pos.jsonl")).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ENV_FILE", "/nonexistent")
    menu = tmp_path / "square-menu.yaml"
    assert await asyncio.to_thread(importer.main, [
        "--location", fake_square.DEFAULT_LOCATION, "--out", str(menu)]) == 0
    await asyncio.to_thread(seed_menu_file, firestore_settings, menu)
    casa_file = tmp_path / "casa.yaml"
    data = yaml.safe_load(menu.read_text())
    data["restaurant"].update({"name": "Casa", "numbers": ["+16175550999"],
                               "square_location_id": "LCASA"})
    casa_file.write_text(yaml.safe_dump(data, sort_keys=False))
    await asyncio.to_thread(seed_menu_file, firestore_settings, casa_file, restaurant_id="casa")
    churros = next(o for o in square.state.catalog
                   if o["type"] == "ITEM" and o["item_data"]["name"] == "Churros")
    churros["item_data"]["variations"][0]["item_variation_data"]["location_overrides"] = [
        {"location_id": "LCASA", "sold_out": True}]
    app = create_app(TwilioSettings(), db, clock=lambda: NOW, square=SquareSettings(
        square_webhook_signature_key=SecretStr(KEY), square_webhook_url=URL,
        square_access_token=SecretStr(square.state.token), square_base_url=square.url,
        square_location_id=fake_square.DEFAULT_LOCATION,
        square_id_map_path=Path(str(menu) + ".square-ids.json")))
    event = {"merchant_id": "MLFAKE", "type": "catalog.version.updated", "event_id": "e-cat-2",
             "created_at": "2026-11-20T17:05:00Z", "data": {
                 "type": "catalog_version", "id": "", "object": {
                     "catalog_version": {"updated_at": "2026-11-20T17:05:00Z"}}}}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://line.example.test") as client:
        r = await fake_square.deliver_webhook(URL, KEY, event, client=client)
    # casa's menu was seeded from main's import, where the wet burrito is sold out; at casa's
    # location it is not, so casa gets it back
    assert (r.status_code, r.text) == (
        200, "menu: casa: churros sold out, wet-burrito available; main: no change")

    async def available(rid: str) -> bool:
        doc = await db.for_restaurant(rid).db.document("menu_items/churros").get()
        return doc.to_dict()["available"]

    assert await available("casa") is False and await available("main") is True
