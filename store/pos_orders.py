"""Where each order stands in the point of sale: `restaurants/{rid}/pos_orders/{order id}`.

Kept beside the order, not in it: the POS answer can come before a queued order reaches
Firestore (the order's own document is created once, by `create`, and must not exist early),
and the order document stays the caller's order as confirmed. The board reads both by id.
A state is only ever replaced by a later attempt's result (`attempts` counts them); the
figures from both sides are kept so a difference of a cent is shown, never "fixed".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import BaseModel, ConfigDict

from domain import ids
from domain.duplicates import order_content
from models import MENU, Order
from store.repository import FirebaseManager

POS_ORDERS = "pos_orders"
PosStateName = Literal["waiting", "sent", "refused"]


class PosState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: str
    order_number: str
    state: PosStateName
    pos: str = "square"
    pos_order_id: str = ""  # Square's order id once sent
    reason: str = ""  # Square's error code and detail when waiting or refused
    our_total_cents: int
    our_tax_cents: int
    pos_total_cents: int | None = None
    pos_tax_cents: int | None = None
    attempts: int = 0
    updated_at: datetime
    # The number the POS knows the order by, when it is not ours: a queued order that the
    # replay saved under another id (order_home) went to the POS under its first number.
    sent_as: str = ""

    @property
    def totals_differ(self) -> bool:
        return self.pos_total_cents is not None and (
            self.pos_total_cents != self.our_total_cents
            or self.pos_tax_cents != self.our_tax_cents)


async def record_pos_state(db: FirebaseManager, state: PosState) -> None:
    doc = {**state.model_dump(), "totals_differ": state.totals_differ}
    await db._with_retries(  # the repository's own bounded retry
        lambda: db.db.document(f"{POS_ORDERS}/{state.order_id}").set(doc))


async def order_home(db: FirebaseManager, order_id: str, content: dict[str, Any]) -> str:
    """The id the order handed to the POS is saved under, or will be: its own, unless that id
    held another order when the order's queued save was replayed (FirebaseManager.
    _replay_order then walks the same ids to the first free one). The POS state is recorded
    there, so the board and Square's webhooks move this order's card, not the other's."""
    for attempt in range(ids.MAX_ID_ATTEMPTS):
        oid = ids.replayed_order_id(order_id, attempt)
        snap = await db.db.document(f"orders/{oid}").get()
        if not snap.exists:
            return oid  # not saved yet: its replay will take this first free id
        if order_content(Order.from_doc(snap.to_dict() or {})) == content:
            return oid  # the same order (domain/duplicates.py: a rebuilt one is the same too)
    return order_id


async def pos_state(db: FirebaseManager, order_id: str) -> PosState | None:
    snap = await db.db.document(f"{POS_ORDERS}/{order_id}").get()
    if not snap.exists:
        return None
    data = snap.to_dict() or {}
    data.pop("totals_differ", None)
    return PosState.model_validate(data)


async def pos_states(db: FirebaseManager) -> list[PosState]:
    out = []
    async for snap in db.db.collection(POS_ORDERS).stream():
        data = snap.to_dict() or {}
        data.pop("totals_differ", None)
        out.append(PosState.model_validate(data))
    return sorted(out, key=lambda s: s.updated_at)


async def record_square_event(
    db: FirebaseManager, square_id: str, event_id: str, version: int, status: str | None,
    now: datetime, rank: dict[str, int], keep_event_ids: int,
) -> tuple[str, str | None]:
    """Apply one of Square's order events to our POS entry and order, once, in one commit:
    (what it did, our order's number), the number None when no entry has that Square order.
    A replayed event or an older version changes nothing; an order only moves forward."""
    query = db.db.collection(POS_ORDERS).where(
        filter=FieldFilter("pos_order_id", "==", square_id)).limit(1)
    found = [s async for s in query.stream()]
    if not found:
        return "unknown order", None
    pos_snap = found[0]
    pos = pos_snap.to_dict() or {}
    number = str(pos.get("order_number"))
    if event_id and event_id in (pos.get("event_ids") or []):
        return "replayed", number
    if version <= int(pos.get("square_version", 0)):
        return "stale", number
    order_ref = db.db.document(f"orders/{pos['order_id']}")
    order_snap = await order_ref.get()
    batch = db.db.batch()
    seen = {"event_ids": [*(pos.get("event_ids") or []), event_id][-keep_event_ids:],
            "square_version": version}
    batch.update(pos_snap.reference, seen,
                 option=db.db.write_option(last_update_time=pos_snap.update_time))
    outcome = "no move"
    current = (order_snap.to_dict() or {}).get("status", "confirmed") if order_snap.exists else None
    if status and current is not None and rank[status] > rank.get(current, 0):
        fields: dict[str, Any] = {"status": status, "updated_at": now, "updated_by": "square"}
        if status == "cancelled":
            fields["cancel_reason"] = "cancelled in Square"
        batch.update(order_ref, fields,
                     option=db.db.write_option(last_update_time=order_snap.update_time))
        outcome = f"moved to {status}"
    await batch.commit(retry=None, timeout=db.rpc_timeout_s)
    return outcome, number


async def set_menu_availability(db: FirebaseManager, wanted: dict[str, bool]) -> dict[str, bool]:
    """Set `available` on the menu items whose state differs from `wanted`; what changed."""
    changed: dict[str, bool] = {}
    async for snap in db.db.collection(MENU).stream():
        now = (snap.to_dict() or {}).get("available", True)
        if snap.id in wanted and wanted[snap.id] != now:
            await snap.reference.update({"available": wanted[snap.id]})
            changed[snap.id] = wanted[snap.id]
    return changed
