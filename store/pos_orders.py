"""Where each order stands in the point of sale: `restaurants/{rid}/pos_orders/{order id}`.

Kept beside the order, not in it: the POS answer can come before a queued order reaches
Firestore (the order's own document is created once, by `create`, and must not exist early),
and the order document stays the caller's order as confirmed. The board reads both by id.
A state is only ever replaced by a later attempt's result (`attempts` counts them); the
figures from both sides are kept so a difference of a cent is shown, never "fixed".
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

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

    @property
    def totals_differ(self) -> bool:
        return self.pos_total_cents is not None and (
            self.pos_total_cents != self.our_total_cents
            or self.pos_tax_cents != self.our_tax_cents)


async def record_pos_state(db: FirebaseManager, state: PosState) -> None:
    doc = {**state.model_dump(), "totals_differ": state.totals_differ}
    await db._with_retries(  # the repository's own bounded retry
        lambda: db.db.document(f"{POS_ORDERS}/{state.order_id}").set(doc))


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
