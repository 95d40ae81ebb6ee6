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
from typing import TYPE_CHECKING, Any

from domain.pos_catalog import import_catalog
from store.pos_orders import record_square_event, set_menu_availability
from store.repository import FirebaseManager

if TYPE_CHECKING:
    from square import AsyncSquare

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
    outcome, number = await record_square_event(
        db, square_id, str(event.get("event_id", "")), version, status, now, _RANK,
        KEEP_EVENT_IDS)
    if number is None or outcome in ("replayed", "stale"):
        return outcome
    log.info("Square event for order %s: %s", number, outcome)
    return outcome


# ------------------------------------------------------------------ sold out in Square


async def catalog_objects(client: AsyncSquare) -> list[dict[str, Any]]:
    """The merchant's catalog, every page, through the squareup async SDK (one catalog for all
    of its locations: each restaurant's sold-out is read from it at its own location)."""
    pager = await client.catalog.list(types="ITEM,MODIFIER_LIST,CATEGORY")
    return [o.model_dump(mode="json", exclude_none=True) async for o in pager]


async def sync_sold_out(db: FirebaseManager, objects: list[dict[str, Any]], location: str,
                        id_map: dict[str, str]) -> dict[str, bool]:
    """After `catalog.version.updated`: set `available` on every menu item of `db`'s
    restaurant whose sold-out state changed at `location` in Square's catalog `objects`. The
    live menu (store/menu_watch.py) carries the change to calls in progress, as the board's
    sold-out does. Returns {item id: available} of what changed."""
    imported = import_catalog(objects, location, id_map)
    wanted = {item["id"]: bool(item["available"]) for item in imported.items}
    changed = await set_menu_availability(db, wanted)
    if changed:
        log.info("sold out in Square: %s", changed)
    return changed
