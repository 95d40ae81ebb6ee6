"""What the staff board reads and writes beyond what a call does, for one restaurant: documents
as JSON with their version, writes that apply only to the version staff saw, the day's calls,
the documents a report needs, and the queries the board's live listeners watch.

The board reaches Firestore only through here (and `FirebaseManager` for what a call does), so
every path it touches is its own restaurant's (`RestaurantScope`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from models import MENU, SETTINGS_DOC, map_leaves
from store.pos_orders import POS_ORDERS
from store.scope import RestaurantScope


class DocumentGone(LookupError):
    """The document staff acted on does not exist: `existed` False when it never did here (or
    is another restaurant's), True when it was deleted meanwhile."""

    def __init__(self, path: str, *, existed: bool) -> None:
        super().__init__(path)
        self.existed = existed


class StaleDocument(Exception):
    """Someone changed the document since the version staff saw; `current` is it now."""

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__("changed meanwhile")
        self.current = current


def _json_leaf(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def to_json(value: Any) -> Any:
    """A Firestore document's value as JSON (datetimes as UTC ISO strings)."""
    return map_leaves(value, _json_leaf)


def version_of(snap: Any) -> str | None:
    """The document's update time (RFC 3339, nanoseconds): the precondition for a write."""
    updated = getattr(snap, "update_time", None)
    return updated.rfc3339() if updated is not None else None


def doc_json(snap: Any) -> dict[str, Any]:
    data = to_json(snap.to_dict() or {})
    data["_id"] = snap.id
    data["_version"] = version_of(snap)
    return data


def live_queries(scope: firestore.Client | RestaurantScope, since: str) -> dict[str, Any]:
    """What the board's listeners watch (sync client): bounded windows of the busy collections
    (from `since`, an ISO day, for bookings), the dining room by day, the menu and settings."""
    desc = firestore.Query.DESCENDING
    return {
        "orders": scope.collection("orders").order_by("created_at", direction=desc).limit(300),
        "reservations": scope.collection("reservations").where(
            filter=FieldFilter("date", ">=", since)),
        "slots": scope.collection("seating"),  # one document per day, id = the day
        "messages": scope.collection("messages").order_by("created_at", direction=desc)
                         .limit(300),
        "calls": scope.collection("call_logs").order_by("started_at", direction=desc).limit(200),
        "menu": scope.collection(MENU),
        "settings": scope.document(SETTINGS_DOC),
        # each order's state in the point of sale (store/pos_orders.py), beside its card
        "pos": scope.collection(POS_ORDERS).order_by("updated_at", direction=desc).limit(300),
    }


class StaffStore:
    """One restaurant's documents as the board reads and writes them (async client)."""

    def __init__(self, db: RestaurantScope) -> None:
        self.db = db

    async def read(self, path: str) -> dict[str, Any] | None:
        """The document as JSON with `_id` and `_version`; None when there is none."""
        snap = await self.db.document(path).get()
        return doc_json(snap) if snap.exists else None

    async def raw(self, path: str) -> dict[str, Any] | None:
        """The document's fields as stored (datetimes as datetimes); None when there is none."""
        snap = await self.db.document(path).get()
        return (snap.to_dict() or {}) if snap.exists else None

    async def update_if_unchanged(self, path: str, version: datetime,
                                  fields: dict[str, Any]) -> dict[str, Any]:
        """Apply `fields` only if the document is still at `version` (its update time)."""
        ref = self.db.document(path)
        option = self.db.write_option(last_update_time=version)
        try:
            await ref.update(fields, option=option)
        except gexc.FailedPrecondition:
            snap = await ref.get()
            if not snap.exists:
                raise DocumentGone(path, existed=False) from None
            raise StaleDocument(doc_json(snap)) from None
        except gexc.NotFound:
            raise DocumentGone(path, existed=True) from None
        return doc_json(await ref.get())

    async def update(self, path: str, fields: dict[str, Any]) -> None:
        await self.db.document(path).update(fields)

    async def calls_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Call logs that started in [start, end), as JSON."""
        query = (self.db.collection("call_logs")
                 .where(filter=FieldFilter("started_at", ">=", start))
                 .where(filter=FieldFilter("started_at", "<", end)))
        return [doc_json(s) async for s in query.stream()]

    async def since(self, collection: str, field: str, low: Any) -> list[dict[str, Any]]:
        """Every document of `collection` whose `field` is at least `low` (for the reports)."""
        query = self.db.collection(collection).where(filter=FieldFilter(field, ">=", low))
        return [s.to_dict() or {} async for s in query.stream()]
