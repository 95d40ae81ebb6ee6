"""Without Square: the order as a signed JSON webhook a Toast or Clover middleware can take.
A receiver on loopback checks the signature and the body against the published JSON Schema."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from jsonschema import Draft202012Validator

from actions.pos import connect_pos
from actions.pos_webhook import OrderWebhook, event_id
from config import SquareSettings
from store import FirebaseManager
from store.pos_orders import pos_state
from testkit.records import make_order
from tests.conftest import ROOT

SECRET = "whsec-test-secret"
SCHEMA = json.loads((ROOT / "docs" / "schemas" / "order-webhook.schema.json").read_text())


@dataclass
class Receiver:
    url: str = ""
    answers: list[int] = field(default_factory=list)  # status per delivery, then 200
    taken: dict[str, dict] = field(default_factory=dict)
    deliveries: list[str] = field(default_factory=list)


def _verified(secret: str, header: str, body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return abs(time.time() - int(parts["t"])) < 300 and hmac.compare_digest(expected,
                                                                            parts["v1"])


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    validator = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)

    async def take(request: web.Request) -> web.Response:
        body = await request.read()
        if not _verified(SECRET, request.headers.get("X-Phoneline-Signature", ""), body):
            return web.Response(status=401, text="bad signature")
        event = json.loads(body)
        errors = [e.message for e in validator.iter_errors(event)]
        if errors:
            return web.Response(status=422, text="; ".join(errors))
        assert request.headers["Idempotency-Key"] == event["id"]
        rec.deliveries.append(event["id"])
        status = rec.answers.pop(0) if rec.answers else 200
        if status == 200:
            rec.taken.setdefault(event["id"], event)  # a repeat id is taken once
        return web.Response(status=status, text="ok" if status == 200 else "busy")

    app = web.Application()
    app.router.add_post("/orders", take)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/orders"  # type: ignore[union-attr]
    try:
        yield rec
    finally:
        await runner.cleanup()


def _hook(receiver: Receiver, db: FirebaseManager, tmp_path: Path, secret: str = SECRET
          ) -> OrderWebhook:
    pos = connect_pos(SquareSettings(pos_webhook_url=receiver.url, pos_webhook_secret=secret,
                                     pos_outbox_path=tmp_path / "pos.jsonl"), db)
    assert isinstance(pos, OrderWebhook)
    return pos


async def test_the_order_arrives_signed_valid_and_once_despite_a_retry(
        receiver: Receiver, db: FirebaseManager, tmp_path: Path) -> None:
    receiver.answers = [500]
    hook = _hook(receiver, db, tmp_path)
    order = make_order("call-hook-json")
    await hook.enqueue(order, db.restaurant_id, 0.0625)
    assert await hook.send_pending() == 0
    state = await pos_state(db, order.id)
    assert state is not None and state.state == "waiting" and state.reason.startswith("500")
    assert await hook.send_pending() == 1
    eid = event_id(db.restaurant_id, order.id)
    assert receiver.deliveries == [eid, eid]  # the retry carried the same id
    event = receiver.taken[eid]
    assert event["order"]["total_cents"] == order.total_cents
    assert event["order"]["lines"][0]["options"][0]["option_id"] == "oat"
    state = await pos_state(db, order.id)
    assert state is not None and (state.state, state.pos) == ("sent", "webhook")


async def test_a_wrong_secret_is_refused_by_the_receiver_and_shown(
        receiver: Receiver, db: FirebaseManager, tmp_path: Path) -> None:
    hook = _hook(receiver, db, tmp_path, secret="not-the-shared-secret")
    order = make_order("call-hook-secret")
    await hook.enqueue(order, db.restaurant_id, 0.0625)
    assert await hook.send_pending() == 1
    state = await pos_state(db, order.id)
    assert state is not None and state.state == "refused"
    assert state.reason == "401: bad signature"
    assert receiver.taken == {}
