"""A confirmed order into the restaurant's point of sale (Square), never lost and never twice.

The call only appends the order to a local, fsynced outbox (`enqueue`, a few ms) and goes on;
the sender takes it from there. Each order has ONE Square request, built once when queued and
stored in the outbox, with an idempotency key derived from our order id: whatever happens
between us and Square (a 5xx, a timeout after Square created the order, this process killed
before the answer), sending it again gives back the order Square already made. An entry leaves
the outbox only when Square has answered for good (created, or refused with a 4xx) and that
answer is recorded on the order's POS state (store/pos_orders.py).

Square computes its own totals and tax; they are stored next to ours, and any difference of
even a cent is flagged for staff (`PosState.totals_differ`), never silently "fixed".
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from square import AsyncSquare
from square.core.api_error import ApiError

from actions.outbox_sender import OutboxSender
from actions.pos_webhook import OrderWebhook, identity, record_answer
from config import SquareSettings
from domain.pos_catalog import read_id_map
from models import Order, OrderLine
from store.outbox import Outbox, OutboxEntry
from store.pos_orders import PosState
from store.repository import FirebaseManager

log = logging.getLogger(__name__)

POS_KIND = "square_order"


def idempotency_key(restaurant_id: str, order_id: str) -> str:
    """The same key for the same order on every attempt, from any process. Hashed: the order id
    holds the call's room name, which must not leave for a third party."""
    digest = hashlib.sha256(f"{restaurant_id}:{order_id}".encode()).hexdigest()
    return f"phoneline-{digest[:40]}"


def _money(cents: int) -> dict[str, Any]:
    return {"amount": cents, "currency": "USD"}


def _percentage(rate: float) -> str:
    return format((Decimal(repr(rate)) * 100).normalize(), "f")


def _catalog_line(line: OrderLine, ids: dict[str, dict[str, str]] | None
                  ) -> dict[str, Any] | None:
    """The line by Square catalog ids (variation, modifiers), or None when any part has none."""
    known = (ids or {}).get(line.item_id)
    if not known:
        return None
    variation = known["variations"].get(line.size or "")
    modifiers = [known["modifiers"].get(f"{o.group_id}/{o.option_id}") for o in line.options]
    if variation is None or None in modifiers:
        return None
    return {"catalog_object_id": variation, "quantity": str(line.quantity),
            "modifiers": [{"catalog_object_id": m, "quantity": "1"} for m in modifiers]}


def _ad_hoc_line(line: OrderLine) -> dict[str, Any]:
    extras = sum(o.price_delta_cents for o in line.options)
    item: dict[str, Any] = {
        "name": line.name,
        "quantity": str(line.quantity),
        "base_price_money": _money(line.unit_price_cents - extras),
        "modifiers": [{"name": o.name, "base_price_money": _money(o.price_delta_cents)}
                      for o in line.options],
    }
    if line.size_name:
        item["variation_name"] = line.size_name
    return item


def square_order(order: Order, location_id: str, tax_rate: float,
                 catalog: dict[str, dict[str, dict[str, str]]] | None = None) -> dict[str, Any]:
    """Our order as Square's CreateOrder `order`: each line by its catalog variation and
    modifier ids when the menu came from Square (Square prices them itself), else ad hoc with
    our per-unit prices; the sales tax as an ORDER-scoped percentage Square applies itself; a
    PICKUP fulfillment with the recipient."""
    lines = []
    for line in order.lines:
        item = _catalog_line(line, catalog) or _ad_hoc_line(line)
        if line.special_instructions:
            item["note"] = line.special_instructions[:2000]
        lines.append(item)
    body: dict[str, Any] = {
        "location_id": location_id,
        "reference_id": order.order_number,
        "source": {"name": "Phone line"},
        "line_items": lines,
        "fulfillments": [{"type": "PICKUP", "state": "PROPOSED", "pickup_details": {
            "recipient": {"display_name": order.customer_name,
                          "phone_number": order.customer_phone},
            "pickup_at": order.pickup_time.isoformat(),
            **({"note": order.notes[:500]} if order.notes else {}),
        }}],
    }
    if tax_rate > 0:
        body["taxes"] = [{"uid": "sales-tax", "name": "Sales tax", "scope": "ORDER",
                          "percentage": _percentage(tax_rate), "type": "ADDITIVE"}]
    return body


def _reason(e: ApiError) -> str:
    errors = (e.body or {}).get("errors") if isinstance(e.body, dict) else None
    if errors:
        first = errors[0]
        return f"{e.status_code} {first.get('code', '')}: {first.get('detail', '')}"[:300]
    return f"{e.status_code}: {str(e.body)[:200]}"


class PosHandoff(OutboxSender):
    """The Square side of the line: one per worker process, shared by its calls."""

    kind = POS_KIND
    what = "POS send"

    def __init__(
        self, client: AsyncSquare, location_id: str, outbox: Outbox,
        db_for: Callable[[str], FirebaseManager], *, timeout_s: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        catalog: dict[str, dict[str, dict[str, str]]] | None = None,
    ) -> None:
        self.client = client
        self.catalog = catalog  # the catalog import's ids (domain/pos_catalog.py)
        self.location_id = location_id
        super().__init__(outbox)
        self.db_for = db_for
        self.timeout_s = timeout_s
        self.clock = clock
        self._attempts: dict[str, int] = {}

    async def enqueue(self, order: Order, restaurant_id: str, tax_rate: float,
                      location_id: str | None = None) -> None:
        """Durably queue the order for Square (fsynced) and wake the sender; no network.
        `location_id`: the restaurant's own Square location (its settings'
        `square_location_id`), else the deployment's SQUARE_LOCATION_ID; a restaurant with
        neither does not use Square, and its order is not queued."""
        location = location_id or self.location_id
        if not location:
            log.info("restaurant %s has no Square location: order %s not sent to Square",
                     restaurant_id, order.order_number)
            return
        payload = {
            "restaurant_id": restaurant_id,
            "order_id": order.id, "order_number": order.order_number,
            "our_total_cents": order.total_cents, "our_tax_cents": order.tax_cents,
            "idempotency_key": idempotency_key(restaurant_id, order.id),
            "request": square_order(order, location, tax_rate, self.catalog),
            **identity(order),
        }
        await self.outbox.append(POS_KIND, payload, record_id=f"{restaurant_id}:{order.id}")
        self._wake.set()

    async def _send(self, entry: OutboxEntry) -> bool:
        p = entry.payload
        attempts = self._attempts[entry.id] = self._attempts.get(entry.id, 0) + 1
        state = PosState(order_id=p["order_id"], order_number=p["order_number"],
                         state="waiting", our_total_cents=p["our_total_cents"],
                         our_tax_cents=p["our_tax_cents"], attempts=attempts,
                         updated_at=self.clock())
        final = True
        try:
            response = await self.client.orders.create(
                order=p["request"], idempotency_key=p["idempotency_key"],
                request_options={"max_retries": 0, "timeout_in_seconds": self.timeout_s})
            made = response.order
            assert made is not None and made.total_money is not None
            state = state.model_copy(update={
                "state": "sent", "pos_order_id": made.id or "",
                "pos_total_cents": made.total_money.amount,
                "pos_tax_cents": made.total_tax_money.amount if made.total_tax_money else 0})
        except ApiError as e:
            # A 4xx is Square's final word on this request, except those that are not about
            # the order: a bad token or permissions (fixable by the owner), throttling.
            final = e.status_code is not None and 400 <= e.status_code < 500 \
                and e.status_code not in (401, 403, 408, 429)
            state = state.model_copy(update={"state": "refused" if final else "waiting",
                                             "reason": _reason(e)})
        except httpx.HTTPError as e:
            final = False
            state = state.model_copy(update={"reason": f"no answer: {type(e).__name__}"})
        log.info("order %s to Square: %s%s (attempt %d)", state.order_number, state.state,
                 f" ({state.reason})" if state.reason else "", attempts)
        if state.totals_differ:
            log.warning("order %s: Square's total %s / tax %s differ from ours %s / %s",
                        state.order_number, state.pos_total_cents, state.pos_tax_cents,
                        state.our_total_cents, state.our_tax_cents)
        return await record_answer(self.db_for(p["restaurant_id"]), state, final, log, p)


def connect_pos(settings: SquareSettings, db: FirebaseManager) -> PosHandoff | OrderWebhook | None:
    """The worker's hand-off: Square, else the signed JSON webhook, else None (no POS)."""
    if not settings.square_enabled:
        if settings.pos_webhook_url and settings.pos_webhook_secret is not None:
            return OrderWebhook(settings.pos_webhook_url,
                                settings.pos_webhook_secret.get_secret_value(),
                                Outbox(settings.pos_outbox_path), db.for_restaurant,
                                timeout_s=settings.square_timeout_s)
        return None
    assert settings.square_access_token is not None
    client = AsyncSquare(token=settings.square_access_token.get_secret_value(),
                         base_url=settings.square_base_url or "https://connect.squareup.com",
                         timeout=settings.square_timeout_s)
    path = settings.square_id_map_path
    catalog = (read_id_map(json.loads(path.read_text()))[1] if path is not None and path.is_file()
               else None)
    return PosHandoff(client, settings.square_location_id, Outbox(settings.pos_outbox_path),
                      db.for_restaurant, timeout_s=settings.square_timeout_s, catalog=catalog)
