"""A worker process's POS side, for the kill test: save an order, queue it, send it.

`python -m tests.reliability.pos_worker CALL_ID` with FIRESTORE_EMULATOR_HOST, SQUARE_* and
POS_OUTBOX_PATH set: the order is saved in Firestore and queued exactly as actions/orders.py
does, and the hand-off main.py builds (`connect_pos`) sends it. The test kills this process
while Square holds the request without answering."""

from __future__ import annotations

import asyncio
import sys

from actions.pos import connect_pos
from config import FirestoreSettings, SquareSettings
from store import connect
from testkit.records import make_order

TAX = 0.0625


async def main(call_id: str) -> None:
    db = await connect(FirestoreSettings())
    pos = connect_pos(SquareSettings(), db)
    assert pos is not None, "SQUARE_ACCESS_TOKEN and SQUARE_LOCATION_ID must be set"
    order = make_order(call_id)
    await db.save_order(order, order.created_at.date())
    await pos.enqueue(order, db.restaurant_id, TAX)
    print("queued", flush=True)
    await pos.send_pending()
    print("answered", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
