"""MenuWatch: staff changes reach a running worker within seconds, bad docs never stop it."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from config import FirestoreSettings
from models import MenuItem, RestaurantSettings
from store import FirebaseManager, MenuWatch, close_sync_client, make_sync_client
from store.scope import scoped
from testkit.emulator import Emulator
from tests.conftest import PROJECT, ROOT


class Seen:
    """What the worker's callbacks received, from the watch thread."""

    def __init__(self) -> None:
        self.menus: list[dict[str, MenuItem]] = []
        self.settings: list[RestaurantSettings | None] = []
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def on_menu(self, items: list[MenuItem]) -> None:
        with self._lock:
            self.menus.append({i.id: i for i in items})
            self.threads.add(threading.current_thread().name)

    def on_settings(self, settings: RestaurantSettings | None) -> None:
        with self._lock:
            self.settings.append(settings)

    def wait_for(self, check: Callable[[Seen], bool], within_s: float = 10.0) -> None:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            with self._lock:
                if check(self):
                    return
            time.sleep(0.05)
        raise AssertionError("the watch did not deliver the change in time")


@pytest.fixture
def watch(seeded_db: FirebaseManager, firestore_settings: FirestoreSettings) -> Iterator[
    tuple[MenuWatch, Seen]
]:
    client = make_sync_client(firestore_settings)
    seen = Seen()
    menu_watch = MenuWatch(client, on_menu=seen.on_menu, on_settings=seen.on_settings)
    try:
        yield menu_watch, seen
    finally:
        menu_watch.close()
        close_sync_client(client)


def test_sold_out_from_the_seed_script_reaches_the_callback(
    watch: tuple[MenuWatch, Seen], firestore_emulator: Emulator
) -> None:
    menu_watch, seen = watch
    assert menu_watch.wait_ready(10)
    assert seen.menus[-1]["cappuccino"].available is True
    assert seen.settings[-1] is not None and seen.settings[-1].tax_rate == 0.0625
    assert threading.main_thread().name not in seen.threads  # callbacks run on the watch thread

    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": firestore_emulator.host,
           "GOOGLE_CLOUD_PROJECT": PROJECT}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "scripts/seed_menu.py", "--sold-out", "cappuccino"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr

    seen.wait_for(lambda s: s.menus[-1]["cappuccino"].available is False, within_s=5)
    assert time.monotonic() - started < 10
    latest = seen.menus[-1]
    assert latest["latte"].available is True and len(latest) >= 28


async def test_invalid_docs_are_logged_and_skipped_and_settings_can_vanish(
    watch: tuple[MenuWatch, Seen], seeded_db: FirebaseManager, caplog: pytest.LogCaptureFixture
) -> None:
    menu_watch, seen = watch
    assert menu_watch.wait_ready(10)
    caplog.set_level(logging.ERROR, logger="store")

    await seeded_db.db.document("menu_items/mystery-soup").set(
        {"id": "mystery-soup", "name": "Mystery Soup", "category": "soups", "price_cents": -100})
    await seeded_db.db.document("menu_items/tea-cake").set(
        {"id": "tea-cake", "name": "Tea Cake", "category": "pastries", "price_cents": 300})

    await asyncio.to_thread(seen.wait_for, lambda s: "tea-cake" in s.menus[-1])
    assert "mystery-soup" not in seen.menus[-1] and "cappuccino" in seen.menus[-1]
    assert any("menu_items/mystery-soup" in r.getMessage() for r in caplog.records)

    await seeded_db.db.document("settings/restaurant").update({"tax_rate": 7})  # invalid
    await seeded_db.db.document("settings/restaurant").delete()
    await asyncio.to_thread(seen.wait_for, lambda s: s.settings[-1] is None)
    # The invalid version was skipped, not delivered: only valid settings or None arrive.
    assert all(s is None or s.tax_rate < 0.5 for s in seen.settings)


def test_a_callback_that_raises_does_not_stop_the_watch(
    seeded_db: FirebaseManager, firestore_settings: FirestoreSettings
) -> None:
    client = make_sync_client(firestore_settings)
    calls: list[int] = []

    def flaky(items: list[MenuItem]) -> None:
        calls.append(len(items))
        if len(calls) == 1:
            raise RuntimeError("catalog swap failed")

    menu_watch = MenuWatch(client, on_menu=flaky, on_settings=lambda s: None)
    try:
        assert menu_watch.wait_ready(10)
        writer = make_sync_client(firestore_settings)
        scoped(writer).document("menu_items/croissant").update({"available": False})
        close_sync_client(writer)
        deadline = time.monotonic() + 10
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(calls) >= 2
    finally:
        menu_watch.close()
        close_sync_client(client)
