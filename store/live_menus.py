"""The live menus of the restaurants that have calls in progress in this process.

A restaurant's menu watch (two Firestore listeners) starts with its first call here and stops
when its last call ends: a host with fifty restaurants keeps listeners only for the ones
ringing, and a sold-out change at one restaurant reaches only that restaurant's calls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.menu import Catalog, Menu
from models import RestaurantSettings
from store.menu_watch import MenuWatch

log = logging.getLogger(__name__)


@dataclass
class _Live:
    catalog: Catalog
    watch: MenuWatch
    calls: int = 0


class LiveMenus:
    """Reference-counted menu watches, one per restaurant with calls (sync client's threads)."""

    def __init__(
        self,
        sync_client: Any,
        settings_for: Callable[[RestaurantSettings | None], RestaurantSettings],
        ready_timeout_s: float = 15.0,
    ) -> None:
        self._client = sync_client
        self._settings_for = settings_for  # applies the environment overrides
        self._ready_timeout_s = ready_timeout_s
        self._live: dict[str, _Live] = {}
        self._lock = asyncio.Lock()

    def watching(self) -> list[str]:
        return sorted(self._live)

    async def acquire(self, restaurant_id: str) -> Catalog:
        """The restaurant's live catalog; starts its watch if this is its first call here."""
        async with self._lock:
            live = self._live.get(restaurant_id)
            if live is None:
                live = await asyncio.to_thread(self._open, restaurant_id)
                self._live[restaurant_id] = live
            live.calls += 1
        if not live.watch.wait_ready(0) and not await asyncio.to_thread(
                live.watch.wait_ready, self._ready_timeout_s):
            log.error("menu of restaurant %s not loaded after %.0fs",
                      restaurant_id, self._ready_timeout_s)
        return live.catalog

    def warm(self, restaurant_id: str) -> None:
        """Start a restaurant's watch before its call (blocking: prewarm, not the call loop).

        A LiveKit job process takes one call; in a single-restaurant deployment its restaurant
        is known before the phone rings, so the ~0.3 s of loading the menu runs while the
        process waits for its call instead of before the greeting. It does not wait for the
        first snapshot (LiveKit gives prewarm 10 s); the call's `acquire` does, if still needed.
        The watch stops when that call ends.
        """
        if restaurant_id not in self._live:
            self._live[restaurant_id] = self._open(restaurant_id)

    def release(self, restaurant_id: str) -> None:
        """A call of this restaurant ended; its watch stops with its last call."""
        live = self._live.get(restaurant_id)
        if live is None:
            return
        live.calls -= 1
        if live.calls <= 0:
            del self._live[restaurant_id]
            live.watch.close()

    def close(self) -> None:
        for live in self._live.values():
            live.watch.close()
        self._live.clear()

    def _open(self, restaurant_id: str) -> _Live:
        # Blocking (opens the listeners): a thread or prewarm, never the call's loop.
        catalog = Catalog(Menu([]), self._settings_for(None))
        watch = MenuWatch(
            self._client,
            on_menu=catalog.replace_menu,
            on_settings=lambda s: catalog.replace_settings(self._settings_for(s)),
            restaurant_id=restaurant_id,
        )
        return _Live(catalog, watch)
