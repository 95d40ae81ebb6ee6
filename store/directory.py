"""Which restaurant a dialled number belongs to: the `restaurants/{rid}` directory documents.

Each directory document holds the restaurant's `name` and the `numbers` (E.164) that ring it;
the staff script writes it when it seeds the restaurant. A deployment whose directory lists no
numbers at all is a single-restaurant one: every call goes to the default restaurant, as before
restaurants existed. Once any number is listed, routing is strict and an unknown number gets
no restaurant (the worker says a fixed line and hangs up).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from contact import to_e164
from models import DEFAULT_RESTAURANT_ID, RESTAURANTS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DirectoryEntry:
    restaurant_id: str
    name: str
    numbers: tuple[str, ...]


def route(entries: list[DirectoryEntry], dialed: str | None) -> str | None:
    """The restaurant id for `dialed`, or None when the number is unknown or ambiguous."""
    if not any(e.numbers for e in entries):
        return DEFAULT_RESTAURANT_ID  # single-restaurant deployment: no routing configured
    if not dialed:
        # `console` mode and non-SIP participants carry no dialled number.
        return DEFAULT_RESTAURANT_ID
    wanted = {dialed, to_e164(dialed) or dialed}
    hits = sorted(e.restaurant_id for e in entries if wanted & set(e.numbers))
    if len(hits) > 1:
        log.error("dialled number is listed by several restaurants %s; refusing the call", hits)
        return None
    return hits[0] if hits else None


async def load_directory(client: Any) -> list[DirectoryEntry]:
    """All directory documents (one query; a directory holds dozens, not thousands)."""
    entries = []
    async for snap in client.collection(RESTAURANTS).stream():
        data = snap.to_dict() or {}
        numbers = tuple(str(n) for n in data.get("numbers") or [])
        entries.append(DirectoryEntry(snap.id, str(data.get("name", "")), numbers))
    return entries


async def resolve_restaurant(client: Any, dialed: str | None) -> str | None:
    return route(await load_directory(client), dialed)
