"""The live menu and settings, pushed by Firestore listeners on the sync client's thread."""

from __future__ import annotations

import logging
import threading
import time as _time
from collections.abc import Callable, Iterable
from typing import Any

from google.cloud import firestore

from models import MENU, SETTINGS_DOC, MenuItem, RestaurantSettings
from store.parsing import parse_menu_item, parse_settings
from store.scope import DEFAULT_RESTAURANT_ID, RestaurantScope

log = logging.getLogger(__name__)


class MenuWatch:
    """One restaurant's live menu + settings via Firestore listeners (a sync client; callbacks
    on its thread).

    Listening starts as soon as it is constructed; `close()` stops it.

    `on_menu` gets the full list of valid items after every change; `on_settings` gets the
    settings (None if the document is missing). Invalid documents are logged and skipped.
    """

    def __init__(
        self,
        client: firestore.Client,
        on_menu: Callable[[list[MenuItem]], None],
        on_settings: Callable[[RestaurantSettings | None], None],
        restaurant_id: str = DEFAULT_RESTAURANT_ID,
    ) -> None:
        self._client = RestaurantScope(client, restaurant_id)
        self.restaurant_id = restaurant_id
        self._on_menu = on_menu
        self._on_settings = on_settings
        self._menu_ready = threading.Event()
        self._settings_ready = threading.Event()
        self._watches: list[Any] = []
        self._closed = False
        self.start()

    def start(self) -> MenuWatch:
        """Listening starts in the constructor; calling this again is a no-op."""
        if not self._watches and not self._closed:
            self._watches = [
                self._client.collection(MENU).on_snapshot(self._menu_snapshot),
                self._client.document(SETTINGS_DOC).on_snapshot(self._settings_snapshot),
            ]
        return self

    def wait_ready(self, timeout: float | None = None) -> bool:
        """True once both the menu and the settings have been delivered at least once."""
        deadline = None if timeout is None else _time.monotonic() + timeout
        if not self._menu_ready.wait(timeout):
            return False
        left = None if deadline is None else max(0.0, deadline - _time.monotonic())
        return self._settings_ready.wait(left)

    def close(self) -> None:
        self._closed = True
        for watch in self._watches:
            try:
                watch.unsubscribe()
            except Exception:
                log.exception("closing a Firestore listener failed")
        self._watches = []

    def __enter__(self) -> MenuWatch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _menu_snapshot(self, docs: Iterable[Any], changes: Any, read_time: Any) -> None:
        items = [i for d in docs if (i := parse_menu_item(d.id, d.to_dict() or {})) is not None]
        self._deliver(self._on_menu, items, "on_menu")
        self._menu_ready.set()

    def _settings_snapshot(self, docs: Iterable[Any], changes: Any, read_time: Any) -> None:
        snap = next(iter(docs), None)
        if snap is not None and snap.exists:
            parsed = parse_settings(snap.to_dict())
            if parsed is None:
                self._settings_ready.set()
                return  # invalid: keep whatever the caller has
            self._deliver(self._on_settings, parsed, "on_settings")
        else:
            self._deliver(self._on_settings, None, "on_settings")
        self._settings_ready.set()

    @staticmethod
    def _deliver(callback: Callable[[Any], None], value: Any, name: str) -> None:
        # An exception escaping into the listener thread would stop the watch for good.
        try:
            callback(value)
        except Exception:
            log.exception("MenuWatch %s callback failed", name)
