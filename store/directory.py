"""Which restaurant a dialled number belongs to: the `restaurants/{rid}` directory documents.

Each directory document holds the restaurant's `name` and the `numbers` (E.164) that ring it;
the staff script writes it when it seeds the restaurant.

A number listed by one restaurant rings that restaurant. Any other number rings the default
restaurant (`main`) as long as `main` lists no numbers of its own: a single-restaurant
deployment keeps working with no routing configured, and adding a second restaurant does not
cut the first one off. Once `main` lists its numbers, routing is strict: an unknown number gets
no restaurant, and the worker says a fixed line and hangs up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from domain.contact import to_e164
from models import DEFAULT_RESTAURANT_ID, RESTAURANTS, SETTINGS_DOC

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DirectoryEntry:
    restaurant_id: str
    name: str
    numbers: tuple[str, ...]


def route(entries: list[DirectoryEntry], dialed: str | None) -> str | None:
    """The restaurant id for `dialed`, or None when the number is unknown or ambiguous."""
    wanted = {dialed, to_e164(dialed) or dialed} if dialed else set()
    hits = sorted(e.restaurant_id for e in entries if wanted & set(e.numbers))
    if len(hits) > 1:
        log.error("dialled number is listed by several restaurants %s; refusing the call", hits)
        return None
    if hits:
        return hits[0]
    default = next((e for e in entries if e.restaurant_id == DEFAULT_RESTAURANT_ID), None)
    if default is None or not default.numbers:
        return DEFAULT_RESTAURANT_ID  # the catch-all of a deployment that routes no numbers
    if not dialed:
        return DEFAULT_RESTAURANT_ID  # `console` mode and non-SIP participants dial nothing
    return None


async def load_directory(client: Any) -> list[DirectoryEntry]:
    """All directory documents (one query; a directory holds dozens, not thousands)."""
    entries = []
    async for snap in client.collection(RESTAURANTS).stream():
        data = snap.to_dict() or {}
        numbers = tuple(str(n) for n in data.get("numbers") or [])
        entries.append(DirectoryEntry(snap.id, str(data.get("name", "")), numbers))
    return entries


async def restaurant_ids(client: Any) -> list[str]:
    """Every restaurant a service must look after: the directory's, and always `main`, which a
    single-restaurant deployment (or a catch-all `main` without numbers) may never list."""
    return sorted({e.restaurant_id for e in await load_directory(client)} | {
        DEFAULT_RESTAURANT_ID})


async def resolve_restaurant(client: Any, dialed: str | None) -> str | None:
    return route(await load_directory(client), dialed)


async def unmigrated(client: Any) -> bool:
    """True when the database still holds a single restaurant at the top level, unmoved.

    The worker then answers as an empty `main` restaurant; it says so loudly at start, naming
    the migration script, instead of failing calls in a way nobody can trace.
    """
    old = await client.document(SETTINGS_DOC).get()
    if not old.exists:
        return False
    new = await client.document(f"{RESTAURANTS}/{DEFAULT_RESTAURANT_ID}/{SETTINGS_DOC}").get()
    return not new.exists


def only_restaurant(entries: list[DirectoryEntry]) -> str | None:
    """The restaurant every call will be for, when the deployment has just the one."""
    ids = {e.restaurant_id for e in entries} or {DEFAULT_RESTAURANT_ID}
    return ids.pop() if ids == {DEFAULT_RESTAURANT_ID} else None


def load_directory_sync(client: Any, timeout_s: float = 2.0) -> list[DirectoryEntry]:
    return [DirectoryEntry(s.id, str((s.to_dict() or {}).get("name", "")),
                           tuple(str(n) for n in (s.to_dict() or {}).get("numbers") or []))
            for s in client.collection(RESTAURANTS).stream(retry=None, timeout=timeout_s)]
