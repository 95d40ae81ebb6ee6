"""The migration of a single-restaurant database into restaurants/main/: dry run, idempotent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from config import FirestoreSettings
from scripts.migrate_restaurants import main as migrate
from store import FirebaseManager, close_sync_client, make_sync_client
from store.menu_file import load_menu_file
from testkit.firestore import MENU_PATH
from testkit.records import make_order, make_reservation

CUSTOMER = {"phone": "+16175550101", "name": "Ann Lee", "first_seen_ms": 1_763_000_000_000,
            "last_seen_ms": 1_763_000_000_000, "order_count": 1, "reservation_count": 0}


def _old_layout(settings: FirestoreSettings) -> None:
    """What a deployment from before restaurants holds: everything at the top level."""
    client = make_sync_client(settings)
    try:
        menu = load_menu_file(MENU_PATH)
        client.document("settings/restaurant").set(menu.restaurant.to_doc())
        for item in menu.items:
            client.document(f"menu_items/{item.id}").set(item.to_doc())
        order = make_order()
        client.document(f"orders/{order.id}").set(order.to_doc())
        res = make_reservation(code="OLD123")
        client.document("reservations/OLD123").set(res.to_doc())
        client.document(f"customers/{order.customer_phone}").set(CUSTOMER)
    finally:
        close_sync_client(client)


def _top_level(settings: FirestoreSettings) -> dict[str, int]:
    client = make_sync_client(settings)
    try:
        return {c.id: len(list(c.stream())) for c in client.collections()}
    finally:
        close_sync_client(client)


async def test_dry_run_then_apply_then_again_changes_nothing_more(
    db: FirebaseManager, firestore_settings: FirestoreSettings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await asyncio.to_thread(_old_layout, firestore_settings)
    before = await asyncio.to_thread(_top_level, firestore_settings)

    assert await asyncio.to_thread(migrate, []) == 0
    out = capsys.readouterr().out
    assert "would copy" in out and "dry run: nothing written" in out
    assert await asyncio.to_thread(_top_level, firestore_settings) == before
    assert await db.load_restaurant_settings() is None  # the worker's view is still empty

    assert await asyncio.to_thread(migrate, ["--apply"]) == 0
    assert (await db.load_restaurant_settings()).name == "Harbor Street Café"  # type: ignore[union-attr]
    assert len(await db.load_menu()) == len(load_menu_file(MENU_PATH).items)
    assert (await db.get_reservation("OLD123")) is not None
    assert (await db.get_customer("+16175550101")).name == "Ann Lee"  # type: ignore[union-attr]

    assert await asyncio.to_thread(migrate, ["--apply"]) == 0  # idempotent
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("copy 0, already moved") and "conflicts 0" in last

    assert await asyncio.to_thread(migrate, ["--apply", "--delete-source"]) == 0
    assert await asyncio.to_thread(_top_level, firestore_settings) == {"restaurants": 1}
    assert len(await db.load_menu()) == len(load_menu_file(MENU_PATH).items)


async def test_a_copy_changed_since_is_a_conflict_and_nothing_is_overwritten(
    db: FirebaseManager, firestore_settings: FirestoreSettings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await asyncio.to_thread(_old_layout, firestore_settings)
    newer: dict[str, Any] = {**CUSTOMER, "name": "Ann Lee-Park"}
    await db.db.document("customers/+16175550101").set(newer)
    assert await asyncio.to_thread(migrate, ["--apply", "--delete-source"]) == 1
    assert "CONFLICT   customers/+16175550101" in capsys.readouterr().out
    assert (await db.db.document("customers/+16175550101").get()).to_dict() == newer
    top = await asyncio.to_thread(_top_level, firestore_settings)
    assert top["customers"] == 1, "the conflicting source is kept"
    assert "orders" not in top, "the rest moved"


def test_delete_source_needs_apply(capsys: pytest.CaptureFixture[str]) -> None:
    assert migrate(["--delete-source"]) == 2
    assert "--apply" in capsys.readouterr().err


async def test_an_unmigrated_database_is_detected(
    db: FirebaseManager, firestore_settings: FirestoreSettings
) -> None:
    from store.directory import unmigrated

    assert not await unmigrated(db.client)  # empty: nothing to move
    await asyncio.to_thread(_old_layout, firestore_settings)
    assert await unmigrated(db.client)
    assert await asyncio.to_thread(migrate, ["--apply"]) == 0
    assert not await unmigrated(db.client)
