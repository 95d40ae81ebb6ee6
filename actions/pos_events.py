"""Square's webhooks move the order's card: preparing, ready, picked up (or cancelled in Square).

The signature is checked with the squareup SDK's own `verify_signature` (HMAC-SHA256 of the
notification URL followed by the raw body, keyed with the subscription's signature key, in the
`x-square-hmacsha256-signature` header); the caller of `apply_event` has done that. An event
changes an order at most once: its `event_id` is remembered on the order's POS state, and an
event older than the order version already applied changes nothing (Square may deliver late
or twice). Moves only go forward (confirmed -> preparing -> ready -> collected, or cancelled).

`catalog.version.updated` (sold out or back in Square) sets `available` on our menu items
(`sync_sold_out`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from domain.pos_catalog import import_catalog
from models import MENU
from store.pos_orders import POS_ORDERS
from store.repository import FirebaseManager

log = logging.getLogger(__name__)

# Square's fulfillment and order states -> our order status
FULFILLMENT_STATUS = {"RESERVED": "preparing", "PREPARED": "ready", "COMPLETED": "collected",
                      "CANCELED": "cancelled", "FAILED": "cancelled"}
ORDER_STATUS = {"COMPLETED": "collected", "CANCELED": "cancelled"}
_RANK = {"confirmed": 0, "pending_staff_confirmation": 0, "preparing": 1, "ready": 2,
         "collected": 3, "cancelled": 4}
KEEP_EVENT_IDS = 50


def event_change(event: dict[str, Any]) -> tuple[str, int, str | None] | None:
    """(Square order id, order version, our new status or None) of an order event we handle."""
    obj = ((event.get("data") or {}).get("object")) or {}
    if event.get("type") == "order.fulfillment.updated":
        body = obj.get("order_fulfillment_updated") or {}
        updates = body.get("fulfillment_update") or []
        new = updates[-1].get("new_state") if updates else None
        return body.get("order_id", ""), int(body.get("version", 0)), FULFILLMENT_STATUS.get(
            new or "")
    if event.get("type") == "order.updated":
        body = obj.get("order_updated") or {}
        return body.get("order_id", ""), int(body.get("version", 0)), ORDER_STATUS.get(
            body.get("state", ""))
    return None


async def apply_event(db: FirebaseManager, event: dict[str, Any], now: datetime) -> str:
    """What the event did: "moved to <status>", "replayed", "stale", "ignored", "unknown order"."""
    change = event_change(event)
    if change is None:
        return "ignored"
    square_id, version, status = change
    query = db.db.collection(POS_ORDERS).where(
        filter=FieldFilter("pos_order_id", "==", square_id)).limit(1)
    found = [s async for s in query.stream()]
    if not found:
        return "unknown order"
    pos_snap = found[0]
    pos = pos_snap.to_dict() or {}
    event_id = str(event.get("event_id", ""))
    if event_id and event_id in (pos.get("event_ids") or []):
        return "replayed"
    if version <= int(pos.get("square_version", 0)):
        return "stale"
    order_ref = db.db.document(f"orders/{pos['order_id']}")
    order_snap = await order_ref.get()
    batch = db.db.batch()
    seen = {"event_ids": [*(pos.get("event_ids") or []), event_id][-KEEP_EVENT_IDS:],
            "square_version": version}
    batch.update(pos_snap.reference, seen,
                 option=db.db.write_option(last_update_time=pos_snap.update_time))
    outcome = "no move"
    current = (order_snap.to_dict() or {}).get("status", "confirmed") if order_snap.exists else None
    if status and current is not None and _RANK[status] > _RANK.get(current, 0):
        fields: dict[str, Any] = {"status": status, "updated_at": now, "updated_by": "square"}
        if status == "cancelled":
            fields["cancel_reason"] = "cancelled in Square"
        batch.update(order_ref, fields,
                     option=db.db.write_option(last_update_time=order_snap.update_time))
        outcome = f"moved to {status}"
    await batch.commit(retry=None, timeout=db.rpc_timeout_s)
    log.info("Square event for order %s: %s", pos.get("order_number"), outcome)
    return outcome


# ------------------------------------------------------------------ sold out in Square


async def sync_sold_out(db: FirebaseManager, client: Any, location: str,
                        id_map: dict[str, str]) -> dict[str, bool]:
    """After `catalog.version.updated`: read Square's catalog (the squareup async SDK) and set
    `available` on every menu item whose sold-out state changed at `location`. The live menu
    (store/menu_watch.py) carries the change to calls in progress, as the board's sold-out does.
    Returns {item id: available} of what changed."""
    pager = await client.catalog.list(types="ITEM,MODIFIER_LIST,CATEGORY")
    objects = [o.model_dump(mode="json", exclude_none=True) async for o in pager]
    imported = import_catalog(objects, location, id_map)
    wanted = {item["id"]: bool(item["available"]) for item in imported.items}
    changed: dict[str, bool] = {}
    async for snap in db.db.collection(MENU).stream():
        now = (snap.to_dict() or {}).get("available", True)
        if snap.id in wanted and wanted[snap.id] != now:
            await snap.reference.update({"available": wanted[snap.id]})
            changed[snap.id] = wanted[snap.id]
    if changed:
        log.info("sold out in Square: %s", changed)
    return changed
