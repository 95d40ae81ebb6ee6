"""Dining rooms for tests: plain seats, a day's holds by start time, a catalog with another room."""

from __future__ import annotations

from datetime import date

from domain.menu import Catalog
from domain.seating import SeatingPlan
from store import FirebaseManager


def seats(n: int) -> SeatingPlan:
    """A dining room without table management: n seats, each party's for its whole meal."""
    return SeatingPlan(seats=n)


async def seated_at(db: FirebaseManager, day: date) -> dict[str, int]:
    """"HH:MM" -> guests whose booking starts then, from what the day's bookings hold."""
    out: dict[str, int] = {}
    for hold in await db.holds_on(day):
        key = f"{hold.start // 60:02d}:{hold.start % 60:02d}"
        out[key] = out.get(key, 0) + hold.party_size
    return dict(sorted(out.items()))


def with_room(catalog: Catalog, seating: SeatingPlan) -> Catalog:
    """The same menu and settings with another dining room (tables, durations, pacing)."""
    return Catalog(catalog.menu, catalog.settings.model_copy(update={"seating": seating}))
