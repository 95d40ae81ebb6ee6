"""The pickup order being built on a call: its lines, who it is for, totals and readiness."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.booking import check_pickup
from domain.pricing import describe_line, money, pickup_time, totals
from domain.refusal import Refusal
from models import Order, OrderLine, RestaurantSettings


@dataclass
class Cart:
    lines: list[OrderLine] = field(default_factory=list)
    customer_name: str | None = None
    # The number the order is under; also the number a caller gave for their bookings.
    customer_phone: str | None = None
    pending_order: Order | None = None  # built once, so a retried confirm reuses its id

    def __bool__(self) -> bool:
        """True while there is something to order."""
        return bool(self.lines)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def totals(self, tax_rate: float) -> tuple[int, int, int]:
        """(subtotal, tax, total) in cents."""
        return totals(self.lines, tax_rate)

    def estimated_pickup(self, settings: RestaurantSettings, now: datetime) -> datetime:
        return pickup_time(now, settings.prep_minutes, self.item_count)

    def check_ready(self, settings: RestaurantSettings, now: datetime) -> None:
        """Raises Refusal naming what is missing before the order can be read back."""
        if not self.lines:
            raise Refusal("The order is empty: ask what the caller would like.")
        if not self.customer_name:
            raise Refusal("Ask for the name to put the order under, then call set_customer.")
        if not self.customer_phone:
            raise Refusal("Ask for a phone number for the order, then call set_customer.")
        check_pickup(settings, now, self.estimated_pickup(settings, now))

    def summary(self, tax_rate: float) -> str:
        if not self.lines:
            return "empty"
        total = self.totals(tax_rate)[2]
        lines = "; ".join(f"#{n} {describe_line(line)}" for n, line in enumerate(self.lines, 1))
        return f"{lines} (total {money(total)} incl. tax)"

    def placed(self) -> None:
        """The order is saved: start a new one, keeping who it was for."""
        self.lines = []
        self.pending_order = None
