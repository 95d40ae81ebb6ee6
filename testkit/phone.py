"""A call's surroundings in tests and benchmarks: a frozen clock, a caller, the SIP leg."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.menu import Catalog, Menu
from store import FirebaseManager

TZ = ZoneInfo("America/New_York")
# A Friday lunchtime: the café is open (Mon-Fri 07:00-21:00, Sat 08:00-22:00, Sun 08:00-16:00).
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=TZ)
CALLER = "+16175550199"


@dataclass
class Phone:
    """Stands in for the SIP leg: records cold transfers, or fails them."""

    fail: bool = False
    transfers: list[str] = field(default_factory=list)

    async def transfer(self, destination: str) -> None:
        self.transfers.append(destination)
        if self.fail:
            raise RuntimeError("SIP REFER rejected: 486 Busy Here")


async def catalog_from(db: FirebaseManager) -> Catalog:
    settings = await db.load_restaurant_settings()
    assert settings is not None, "seed the menu first"
    return Catalog(Menu(await db.load_menu()), settings)
