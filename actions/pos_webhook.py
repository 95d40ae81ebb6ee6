"""A restaurant without Square gets the same order as a signed JSON webhook (docs/pos.md), for
Toast or Clover middleware: the body follows docs/schemas/order-webhook.schema.json, the
`X-Phoneline-Signature` header is `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, and every
retry carries the same event id (derived from the order id) in the body, in
`X-Phoneline-Event-Id` and in `Idempotency-Key`, so the receiver takes each order once.

Same outbox and same rules as the Square hand-off: the call only appends; 2xx is sent, 4xx is
refused with the receiver's answer, 5xx and no answer are retried."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from actions.outbox_sender import OutboxSender
from domain import ids
from domain.duplicates import order_content
from models import Order
from store.outbox import Outbox, OutboxEntry
from store.pos_orders import PosState, order_home, record_pos_state
from store.repository import FirebaseManager

log = logging.getLogger(__name__)

WEBHOOK_KIND = "order_webhook"


def identity(order: Order) -> dict[str, Any]:
    """What tells this order from another saved under its id (order_home), for the outbox."""
    return {"content": order_content(order)}


async def record_answer(db: FirebaseManager, state: PosState, final: bool,
                        logger: logging.Logger, payload: dict[str, Any] | None = None) -> bool:
    """The POS's answer to one attempt on the order's card (store/pos_orders.py), for both
    hand-offs (Square in actions/pos.py, the webhook here); True when the entry is done. An
    answer that could not be recorded is not lost: the entry stays, and the same idempotency
    key brings the same answer back on the next pass. The card is the one of the order as
    saved (`order_home`: a replayed order may have moved to another id)."""
    try:
        p = payload or {}
        if "content" in p:  # entries queued before it was kept: recorded as they say
            home = await order_home(db, state.order_id, p["content"])
            if home != state.order_id:
                logger.info("order %s was saved as %s: its POS state goes there",
                            state.order_number, ids.order_number(home))
                state = state.model_copy(update={
                    "order_id": home, "order_number": ids.order_number(home),
                    "sent_as": state.order_number})
        await record_pos_state(db, state)
    except Exception:
        logger.exception("POS state of order %s could not be recorded; kept", state.order_number)
        return False
    return final


def event_id(restaurant_id: str, order_id: str) -> str:
    return "evt_" + hashlib.sha256(f"{restaurant_id}:{order_id}".encode()).hexdigest()[:40]


def signature(secret: str, body: bytes, at: int) -> str:
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def order_event(order: Order, restaurant_id: str, now: datetime) -> dict[str, Any]:
    lines = [{"item_id": ln.item_id, "name": ln.name, "quantity": ln.quantity,
              "unit_price_cents": ln.unit_price_cents, "line_price_cents": ln.line_price_cents,
              "size": ln.size, "note": ln.special_instructions,
              "options": [o.model_dump(mode="json") for o in ln.options]} for ln in order.lines]
    return {"id": event_id(restaurant_id, order.id), "type": "order.confirmed",
            "created_at": now.isoformat(), "restaurant_id": restaurant_id, "order": {
                "number": order.order_number, "lines": lines,
                "subtotal_cents": order.subtotal_cents, "tax_cents": order.tax_cents,
                "total_cents": order.total_cents, "currency": "USD",
                "customer": {"name": order.customer_name, "phone": order.customer_phone},
                "pickup_at": order.pickup_time.isoformat(), "notes": order.notes}}


class OrderWebhook(OutboxSender):
    """Same interface as PosHandoff (`enqueue`, `send_pending`, `run`)."""

    kind = WEBHOOK_KIND
    what = "order webhook"

    def __init__(self, url: str, secret: str, outbox: Outbox,
                 db_for: Callable[[str], FirebaseManager], *, timeout_s: float = 10.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(outbox)
        self.url, self.secret, self.db_for = url, secret, db_for
        self.timeout_s, self.clock = timeout_s, clock
        self._attempts: dict[str, int] = {}

    async def enqueue(self, order: Order, restaurant_id: str, tax_rate: float,
                      location_id: str | None = None) -> None:
        """`location_id` (a Square location) means nothing to a JSON webhook."""
        payload = {"restaurant_id": restaurant_id, "order_id": order.id,
                   "order_number": order.order_number, "our_total_cents": order.total_cents,
                   "our_tax_cents": order.tax_cents,
                   "event": order_event(order, restaurant_id, self.clock()),
                   **identity(order)}
        await self.outbox.append(WEBHOOK_KIND, payload, record_id=f"{restaurant_id}:{order.id}")
        self._wake.set()

    async def _send(self, entry: OutboxEntry) -> bool:
        p = entry.payload
        attempts = self._attempts[entry.id] = self._attempts.get(entry.id, 0) + 1
        body = json.dumps(p["event"], separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"content-type": "application/json",
                   "X-Phoneline-Signature": signature(self.secret, body, int(time.time())),
                   "X-Phoneline-Event-Id": p["event"]["id"], "Idempotency-Key": p["event"]["id"]}
        state = PosState(order_id=p["order_id"], order_number=p["order_number"], pos="webhook",
                         state="waiting", our_total_cents=p["our_total_cents"],
                         our_tax_cents=p["our_tax_cents"], attempts=attempts,
                         updated_at=self.clock())
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                r = await client.post(self.url, content=body, headers=headers)
            final = r.status_code < 500 and r.status_code not in (408, 429)
            state = state.model_copy(update={
                "state": "sent" if r.is_success else "refused" if final else "waiting",
                "reason": "" if r.is_success else f"{r.status_code}: {r.text[:200]}"})
        except httpx.HTTPError as e:
            final = False
            state = state.model_copy(update={"reason": f"no answer: {type(e).__name__}"})
        log.info("order %s to the webhook: %s (attempt %d)", state.order_number, state.state,
                 attempts)
        return await record_answer(self.db_for(p["restaurant_id"]), state, final, log, p)
