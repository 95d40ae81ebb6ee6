"""Orders and reservations as the agents build them, for persistence tests and benchmarks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from domain import ids
from models import ChosenOption, Order, OrderLine, Reservation


def make_order(call_id: str = "call-a", seq: int = 1, *, phone: str = "+16175550101",
               name: str = "Ann Lee", created_at: datetime | None = None,
               quantity: int = 2) -> Order:
    """Two medium oat cappuccinos (or `quantity`), priced the way the order agent does."""
    created = created_at or datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    unit = 425 + 50 + 75
    line = OrderLine(
        item_id="cappuccino", name="Cappuccino", size="medium", size_name="Medium",
        options=[ChosenOption(group_id="milk", option_id="oat", name="Oat milk",
                              price_delta_cents=75)],
        quantity=quantity, unit_price_cents=unit, line_price_cents=unit * quantity,
    )
    subtotal = line.line_price_cents
    tax = round(subtotal * 0.0625)
    oid = ids.order_id(call_id, seq)
    return Order(
        id=oid, order_number=ids.order_number(oid), call_id=call_id, lines=[line],
        subtotal_cents=subtotal, tax_cents=tax, total_cents=subtotal + tax,
        customer_name=name, customer_phone=phone,
        pickup_time=created + timedelta(minutes=15), created_at=created,
    )


def make_reservation(call_id: str = "call-r", seq: int = 1, *, day: date = date(2026, 11, 27),
                     at: time = time(19, 0), party: int = 2, phone: str = "+16175550102",
                     name: str = "Bo Chen", code: str | None = None,
                     language: str | None = None) -> Reservation:
    created = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    return Reservation(
        code=code or ids.reservation_code(call_id, seq), date=day, time=at, party_size=party,
        name=name, phone=phone, call_id=call_id, created_at=created, updated_at=created,
        language=language,
    )
