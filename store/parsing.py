"""Firestore documents to typed records; one bad document is logged and skipped, never fatal."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from typing import Any, TypeVar

from pydantic import ValidationError

from models import SETTINGS_DOC, Customer, MenuItem, RestaurantSettings

log = logging.getLogger(__name__)

R = TypeVar("R", MenuItem, RestaurantSettings)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def from_ms(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def customer_from_doc(data: dict[str, Any]) -> Customer:
    """Customer docs keep first/last seen as epoch-ms counters (see `_customer_upsert`)."""
    data = dict(data)
    first_ms, last_ms = data.pop("first_seen_ms", None), data.pop("last_seen_ms", None)
    if first_ms is not None:
        data.setdefault("first_seen", from_ms(first_ms))
    if last_ms is not None:
        data.setdefault("last_seen", from_ms(last_ms))
    return Customer.from_doc(data)


def time_key(value: str) -> str:
    return time.fromisoformat(value).strftime("%H:%M")


def parse_menu_item(doc_id: str, data: dict[str, Any]) -> MenuItem | None:
    """A valid MenuItem or None (logged with the document id): one bad doc never hides the menu."""
    data = {"id": doc_id, **data}
    if data["id"] != doc_id:
        log.error("menu_items/%s has id field %r; skipped", doc_id, data["id"])
        return None
    return _valid(MenuItem, data, f"menu_items/{doc_id}", "skipped")


def parse_settings(data: dict[str, Any] | None) -> RestaurantSettings | None:
    if data is None:
        return None
    return _valid(RestaurantSettings, data, SETTINGS_DOC, "ignored")


def _valid(model: type[R], data: dict[str, Any], path: str, then: str) -> R | None:
    """The document as its record, or None with why logged (`path`: the document; `then`: what
    is done without it)."""
    try:
        return model.from_doc(data)
    except ValidationError as e:
        log.error("%s is invalid and is %s: %s", path, then, brief(e))
        return None


def brief(e: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(item)'}: {err['msg']}" for err in e.errors()
    )
