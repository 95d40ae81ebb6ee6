"""Is a record that collides with a stored one the same record again, or a different one?

Ids are derived from the call (domain/ids.py), so a retried or replayed save hits the stored copy.
That copy is "already saved" only when it holds the same content; a different order or booking
that happens to get the same id (a re-dispatched agent whose per-call counter started over, a
lost call state) must be saved under another id, never announced as the stored one.
"""

from __future__ import annotations

from typing import Any

from models import Order, Reservation


def order_content(order: Order) -> dict[str, Any]:
    """What the caller agreed to. Timestamps are left out: a re-dispatched agent that builds
    the same confirmation again stamps it later, and it is still the same order."""
    return {
        "call_id": order.call_id,
        "lines": [line.model_dump(mode="json") for line in order.lines],
        "subtotal_cents": order.subtotal_cents,
        "tax_cents": order.tax_cents,
        "total_cents": order.total_cents,
        "customer_name": order.customer_name,
        "customer_phone": order.customer_phone,
    }


def same_order(stored: Order, new: Order) -> bool:
    return order_content(stored) == order_content(new)


def booked_content(res: Reservation) -> tuple[Any, ...]:
    """What the caller booked, as first saved: a later change keeps the original in its
    history (`before`), so a replay of the booking is recognised after a change too."""
    day, at, party = res.date.isoformat(), res.time.isoformat(), res.party_size
    first_change = next((c for c in res.history if c.action == "changed" and c.before), None)
    if first_change is not None:
        before = first_change.before
        day = str(before.get("date", day))
        at = str(before.get("time", at))
        party = int(before.get("party_size", party))
    return (res.call_id, day, at, party, res.name, res.phone)


def same_booking(stored: Reservation, new: Reservation) -> bool:
    return booked_content(stored) == booked_content(new)
