"""One restaurant's corner of the database: every path the store builds is inside it.

All of a restaurant's documents live under `restaurants/{rid}/…` (menu, settings, orders,
reservations, slots, customers, messages, call logs, analytics). A `RestaurantScope` wraps a
Firestore client and only hands out references under its own prefix, and it does not offer
the client's unscoped entry points (`collection_group`, `collections`): code holding a scope
cannot name another restaurant's data, whatever ids or phone numbers a caller gives it.
"""

from __future__ import annotations

from typing import Any

from models import (
    DEFAULT_RESTAURANT_ID,
    RESTAURANT_COLLECTIONS,
    RESTAURANTS,
    check_restaurant_id,
)

__all__ = [
    "DEFAULT_RESTAURANT_ID", "RESTAURANTS", "RESTAURANT_COLLECTIONS", "RestaurantScope",
    "check_restaurant_id", "restaurant_root", "scoped",
]


def restaurant_root(rid: str) -> str:
    return f"{RESTAURANTS}/{check_restaurant_id(rid)}"


class RestaurantScope:
    """A Firestore client (async or sync) seen through one restaurant's prefix."""

    # What callers may use unchanged: none of these can address a document by path.
    _PASSTHROUGH = frozenset({"batch", "transaction", "get_all", "write_option", "project",
                              "_target", "_transport", "close"})

    def __init__(self, client: Any, restaurant_id: str) -> None:
        self.client = client
        self.restaurant_id = check_restaurant_id(restaurant_id)
        self.prefix = restaurant_root(restaurant_id)

    def document(self, path: str) -> Any:
        return self.client.document(f"{self.prefix}/{_relative(path)}")

    def collection(self, name: str) -> Any:
        return self.client.collection(f"{self.prefix}/{_relative(name)}")

    def directory_entry(self) -> Any:
        """This restaurant's own directory document `restaurants/{rid}` (name, numbers)."""
        return self.client.document(self.prefix)

    def __getattr__(self, name: str) -> Any:
        if name in self._PASSTHROUGH:
            return getattr(self.client, name)
        raise AttributeError(
            f"RestaurantScope offers no {name!r}: only paths inside {self.prefix} are reachable"
        )


def _relative(path: str) -> str:
    parts = path.strip("/").split("/")
    if not path or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{path!r} is not a path inside a restaurant")
    if parts[0] not in RESTAURANT_COLLECTIONS:
        raise ValueError(f"{path!r} is not one of a restaurant's collections "
                         f"{list(RESTAURANT_COLLECTIONS)}")
    return "/".join(parts)


def scoped(client: Any, restaurant_id: str = DEFAULT_RESTAURANT_ID) -> RestaurantScope:
    """`client` seen through `restaurant_id`'s prefix (a scope is returned as it is)."""
    return client if isinstance(client, RestaurantScope) else RestaurantScope(client, restaurant_id)
