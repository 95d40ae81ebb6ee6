"""Firestore documents to typed records; one bad document is logged and skipped, never fatal."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from typing import Any

from pydantic import ValidationError

from models import SETTINGS_DOC, Customer, MenuItem, RestaurantSettings

log = logging.getLogger(__name__)


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
    try:
        return MenuItem.from_doc(data)
    except ValidationError as e:
        log.error("menu_items/%s is invalid and is skipped: %s", doc_id, brief(e))
        return None


def parse_settings(data: dict[str, Any] | None) -> RestaurantSettings | None:
    if data is None:
        return None
    try:
        return RestaurantSettings.from_doc(data)
    except ValidationError as e:
        log.error("%s is invalid and is ignored: %s", SETTINGS_DOC, brief(e))
        return None


def brief(e: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(item)'}: {err['msg']}" for err in e.errors()
    )
