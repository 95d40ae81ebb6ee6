"""Close the logs of calls no agent finished: the job and every re-dispatch died, the caller
hung up. Such a call stays "in progress" until this marks it "crashed" (and counts it), so the
day's figures show it and staff can look at what was said before the crash: the log is written
from the state the call's last agent saved (its snapshot: transcript, agents, outcome), and the
snapshot, which holds the caller's name and number, is deleted with it. Snapshots nothing else
deleted (a failed delete, a call whose log never opened) are swept once they are
SNAPSHOT_EXPIRY_S old.

Run by the call watcher (services/call_watch.py), which knows which calls are still live.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from conversation.call_snapshot import crash_log_fields
from store import FirebaseManager
from store.directory import restaurant_ids

logger = logging.getLogger("restaurant.reaper")
# A log younger than this is left alone: its room may have been created after the list of
# live rooms was read.
MIN_AGE_S = 60.0
# A snapshot not rewritten for this long, of a call that is not live, is left over: swept.
# Longer than MIN_AGE_S plus a reap interval, so a crashed call's log is written from it first.
SNAPSHOT_EXPIRY_S = 300.0


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
            if await restaurant.mark_call_crashed(log.call_id, now=now,
                                                  from_snapshot=crash_log_fields):
                logger.warning("call marked crashed: no agent finished it",
                               extra={"call_id": log.call_id,
                                      "restaurant": restaurant.restaurant_id})
                reaped.append(log.call_id)
    return reaped


async def mark_crashed_anywhere(db: FirebaseManager, call_id: str, now: datetime) -> bool:
    """Close a dead call's log at whichever restaurant it was (the watcher knows the room, not
    the restaurant); False when no restaurant holds it in progress."""
    for restaurant in await every_restaurant(db):
        if await restaurant.mark_call_crashed(call_id, now=now, from_snapshot=crash_log_fields):
            return True
    return False


async def sweep_call_snapshots(
    db: FirebaseManager, live_calls: Collection[str], now: datetime,
    expiry_s: float = SNAPSHOT_EXPIRY_S,
) -> list[str]:
    """Delete, at every restaurant, the snapshots of calls that are not live and were not
    written for `expiry_s` (run after the reap, which writes crashed logs from them)."""
    swept: list[str] = []
    cutoff = now - timedelta(seconds=expiry_s)
    for restaurant in await every_restaurant(db):
        for call_id in await restaurant.stale_call_snapshots(cutoff):
            if call_id in live_calls:
                continue
            await restaurant.drop_call_snapshot(call_id)
            swept.append(call_id)
    if swept:
        logger.info("%d left-over call snapshots deleted", len(swept))
    return swept
