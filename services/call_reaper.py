"""Close the logs of calls no agent finished: the job and every re-dispatch died, the caller
hung up. Such a call stays "in progress" until this marks it "crashed" (and counts it), so the
day's figures show it and staff can look at what was said before the crash.

Run by the call watcher (services/call_watch.py), which knows which calls are still live.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from store import FirebaseManager
from store.directory import restaurant_ids

logger = logging.getLogger("restaurant.reaper")
# A log younger than this is left alone: its room may have been created after the list of
# live rooms was read.
MIN_AGE_S = 60.0


async def every_restaurant(db: FirebaseManager) -> list[FirebaseManager]:
    """A manager for each restaurant of the deployment (its call logs are its own)."""
    return [db.for_restaurant(rid) for rid in await restaurant_ids(db.client)]


async def reap_crashed_calls(
    db: FirebaseManager, live_calls: Collection[str], now: datetime, min_age_s: float = MIN_AGE_S
) -> list[str]:
    """Mark every "in progress" log, at every restaurant, whose call is not live (and not
    brand new) as crashed."""
    reaped: list[str] = []
    for restaurant in await every_restaurant(db):
        for log in await restaurant.open_call_logs():
            if log.call_id in live_calls or (now - log.started_at).total_seconds() < min_age_s:
                continue
            if await restaurant.mark_call_crashed(log.call_id, now=now):
                logger.warning("call marked crashed: no agent finished it",
                               extra={"call_id": log.call_id,
                                      "restaurant": restaurant.restaurant_id})
                reaped.append(log.call_id)
    return reaped


async def mark_crashed_anywhere(db: FirebaseManager, call_id: str, now: datetime) -> bool:
    """Close a dead call's log at whichever restaurant it was (the watcher knows the room, not
    the restaurant); False when no restaurant holds it in progress."""
    for restaurant in await every_restaurant(db):
        if await restaurant.mark_call_crashed(call_id, now=now):
            return True
    return False
