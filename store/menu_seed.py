"""Writing a menu file into Firestore, for one restaurant: the upsert of settings, items and
the directory entry (`apply_menu`), and staff's sold-out / available switch (`set_availability`).
Shared by the menu script (scripts/seed_menu.py) and the staff board; sync client, never on
the worker's loop.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from models import DEFAULT_RESTAURANT_ID
from store.menu_file import (
    MENU,
    SETTINGS_DOC,
    MenuFile,
    SeedPlan,
    plan_availability,
    plan_seed,
    unknown_ids,
)

if TYPE_CHECKING:
    from google.api_core.retry import Retry
    from google.cloud import firestore

    from store.scope import RestaurantScope

TIMEOUT = 10.0
BATCH_LIMIT = 450  # Firestore allows 500 writes per commit


class UnknownItems(Exception):
    pass


def _retry() -> Retry:
    from google.api_core.retry import Retry, if_transient_error

    # A CLI may wait a little for an emulator that is still starting, but not forever.
    return Retry(predicate=if_transient_error, initial=0.2, maximum=2.0, timeout=20.0)


# ---------------------------------------------------------------- Firestore side (sync client)


def scoped(client: Any, restaurant_id: str = DEFAULT_RESTAURANT_ID) -> RestaurantScope:
    """One restaurant's view of the client (imported late: Firestore loads slowly)."""
    from store.scope import scoped as scope_of

    return scope_of(client, restaurant_id)


def read_menu_docs(client: firestore.Client | RestaurantScope) -> dict[str, dict[str, Any]]:
    client = scoped(client)
    return {s.id: s.to_dict() or {}
            for s in client.collection(MENU).stream(retry=_retry(), timeout=TIMEOUT)}


def read_settings_doc(client: firestore.Client | RestaurantScope) -> dict[str, Any] | None:
    snap = scoped(client).document(SETTINGS_DOC).get(retry=_retry(), timeout=TIMEOUT)
    return snap.to_dict() if snap.exists else None


def menu_is_empty(client: firestore.Client | RestaurantScope) -> bool:
    first = scoped(client).collection(MENU).limit(1)
    return not list(first.stream(retry=_retry(), timeout=TIMEOUT))


def write_plan(client: firestore.Client | RestaurantScope, plan: SeedPlan) -> None:
    """Full-doc `set` for added/changed docs, field update for availability flips."""
    client = scoped(client)
    writes = plan.writes
    for start in range(0, len(writes), BATCH_LIMIT):
        batch = client.batch()
        for change in writes[start:start + BATCH_LIMIT]:
            ref = client.document(change.path)
            if change.partial:
                batch.update(ref, change.doc or {})
            else:
                batch.set(ref, change.doc or {})  # whole doc: fields dropped from the file go
        batch.commit(retry=_retry(), timeout=TIMEOUT)


def apply_menu(
    client: firestore.Client | RestaurantScope, menu: MenuFile, *, prune: bool = False,
    dry_run: bool = False, restaurant_id: str = DEFAULT_RESTAURANT_ID,
) -> SeedPlan:
    """Idempotent upsert of the settings, every item and the directory entry."""
    scope = scoped(client, restaurant_id)
    plan = plan_seed(menu, read_menu_docs(scope), read_settings_doc(scope), prune=prune)
    if not dry_run:
        write_plan(scope, plan)
        scope.directory_entry().set(
            {"name": menu.restaurant.name, "numbers": list(menu.restaurant.numbers)},
            retry=_retry(), timeout=TIMEOUT,
        )
    return plan


def set_availability(
    client: firestore.Client | RestaurantScope, ids: list[str], available: bool, *,
    dry_run: bool = False, restaurant_id: str = DEFAULT_RESTAURANT_ID,
) -> SeedPlan:
    client = scoped(client, restaurant_id)
    current = read_menu_docs(client)
    missing = unknown_ids(current, ids)
    if missing:
        raise UnknownItems(_unknown_message(missing, current))
    plan = plan_availability(current, ids, available)
    if not dry_run:
        write_plan(client, plan)
    return plan


def _unknown_message(missing: list[str], current: dict[str, Any]) -> str:
    lines = []
    for item_id in missing:
        close = difflib.get_close_matches(item_id, list(current), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        lines.append(f"no menu item with id '{item_id}' in Firestore{hint}")
    return "\n".join(lines) + "\nnothing was changed"
