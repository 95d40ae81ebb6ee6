"""Shared fixtures: one real Firestore emulator per test session, a clean database per test.

Set FIRESTORE_EMULATOR_HOST to reuse an emulator you already run; the tests always use the
project "demo-test", so your own project's data there is left alone.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

import ids
from config import FirestoreSettings
from firebase_manager import FirebaseManager, close_sync_client, connect, make_sync_client
from menu_file import load_menu_file
from models import ChosenOption, Order, OrderLine, Reservation
from scripts.seed_menu import apply_menu
from seating import SeatingPlan
from tests import emulator
from tests.emulator import Emulator

PROJECT = "demo-test"
ROOT = Path(__file__).resolve().parent.parent
MENU_PATH = ROOT / "data" / "menu.yaml"


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[Emulator]:
    os.environ["GOOGLE_CLOUD_PROJECT"] = PROJECT
    existing = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if existing and emulator.is_ready(existing):
        yield Emulator(host=existing, process=None)
        return
    log_path = Path(tempfile.gettempdir()) / "firestore-emulator-tests.log"
    emu = emulator.start(log_path=log_path)
    os.environ["FIRESTORE_EMULATOR_HOST"] = emu.host
    try:
        yield emu
    finally:
        emu.stop()
        if os.environ.get("FIRESTORE_EMULATOR_HOST") == emu.host:
            del os.environ["FIRESTORE_EMULATOR_HOST"]


@pytest.fixture
def firestore_settings(firestore_emulator: Emulator, tmp_path: Path) -> FirestoreSettings:
    return FirestoreSettings(
        firestore_emulator_host=firestore_emulator.host,
        google_cloud_project=PROJECT,
        outbox_path=tmp_path / "outbox.jsonl",
    )


@pytest.fixture
async def db(
    firestore_emulator: Emulator, firestore_settings: FirestoreSettings
) -> AsyncIterator[FirebaseManager]:
    """A connected manager over an emptied database (and a per-test outbox file)."""
    await asyncio.to_thread(firestore_emulator.reset, PROJECT)
    manager = await connect(firestore_settings)
    try:
        yield manager
    finally:
        await manager.close()


def seed_menu_file(settings: FirestoreSettings, path: Path = MENU_PATH) -> None:
    """Seed exactly as `scripts/seed_menu.py` does (same validation, same writes)."""
    client = make_sync_client(settings)
    try:
        apply_menu(client, load_menu_file(path))
    finally:
        close_sync_client(client)


@pytest.fixture
async def seeded_db(
    db: FirebaseManager, firestore_settings: FirestoreSettings
) -> FirebaseManager:
    """`db` with data/menu.yaml seeded through the seed script's code."""
    await asyncio.to_thread(seed_menu_file, firestore_settings)
    return db


# ---------------------------------------------------------------- record builders


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
                     name: str = "Bo Chen", code: str | None = None) -> Reservation:
    created = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    return Reservation(
        code=code or ids.reservation_code(call_id, seq), date=day, time=at, party_size=party,
        name=name, phone=phone, call_id=call_id, created_at=created, updated_at=created,
    )


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
