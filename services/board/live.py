"""Firestore listeners -> the board's live state -> every open page (server-sent events).

One set of listeners per board process, however many tablets are open: Firestore pushes each
change once (watch streams on a sync client's thread), the hub keeps the latest JSON of every
document it watches and fans each change out to the pages' queues on the event loop. A page
loads the current state from the hub and then applies the pushed changes; nothing polls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from google.cloud import firestore

from store.scope import RestaurantScope
from store.staff import doc_json, live_queries

log = logging.getLogger("board.live")

# Each topic: one listener. Windows keep a long-running board's memory bounded; pages
# that look further back (calls by day, numbers) query instead.
TOPICS = ("orders", "reservations", "slots", "messages", "calls", "menu", "settings", "pos")
READY_TIMEOUT_S = 10.0
# How often the hub looks for a listener Firestore stopped. The client library closes a watch
# for good on a stream error it does not retry and tells nobody: the board would go on showing
# a frozen screen.
WATCH_CHECK_S = 2.0
QUEUE_LIMIT = 1000  # a page this far behind is cut off and reconnects (EventSource retries)


@dataclass
class Change:
    topic: str
    op: str  # "upsert" | "remove"
    id: str
    doc: dict[str, Any] | None

    def as_event(self) -> dict[str, Any]:
        return {"topic": self.topic, "op": self.op, "id": self.id, "doc": self.doc}


@dataclass(eq=False)  # kept in a set by identity
class Subscriber:
    queue: asyncio.Queue[Change | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    topics: frozenset[str] = frozenset(TOPICS)


class Hub:
    def __init__(self, client: firestore.Client | RestaurantScope,
                 loop: asyncio.AbstractEventLoop) -> None:
        # A RestaurantScope in the board: the listeners only see its restaurant.
        self.client = client
        self.loop = loop
        self.state: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in TOPICS}
        self.ready: dict[str, asyncio.Event] = {t: asyncio.Event() for t in TOPICS}
        self.subscribers: set[Subscriber] = set()
        self._queries: dict[str, Any] = {}
        self._watches: dict[str, Any] = {}
        self._supervisor: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ listeners (watch thread)

    def start(self, today: date | None = None) -> Hub:
        since = ((today or datetime.now(UTC).date()) - timedelta(days=2)).isoformat()
        queries = live_queries(self.client, since)
        self._queries = queries
        for topic in queries:
            self._watch(topic, restarted=False)
        self._supervisor = self.loop.create_task(self._keep_watching())
        return self

    def _watch(self, topic: str, *, restarted: bool) -> None:
        self._watches[topic] = self._queries[topic].on_snapshot(
            self._listener(topic, reconcile=restarted))

    @staticmethod
    def _stopped(watch: Any) -> bool:
        return bool(getattr(watch, "_closed", False)) or not watch.is_active

    async def _keep_watching(self) -> None:
        """Restart any listener that stopped; its first snapshot brings the board up to date."""
        while True:
            await asyncio.sleep(WATCH_CHECK_S)
            for topic, watch in list(self._watches.items()):
                if self._stopped(watch):
                    log.warning("the live %s listener stopped: starting it again", topic)
                    self._close_watch(watch)
                    self._watch(topic, restarted=True)

    @staticmethod
    def _close_watch(watch: Any) -> None:
        try:
            watch.unsubscribe()
        except Exception:
            log.exception("closing a Firestore listener failed")

    def close(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            self._supervisor = None
        for watch in self._watches.values():
            self._close_watch(watch)
        self._watches = {}
        for sub in list(self.subscribers):
            self._offer(sub, None)

    def _listener(self, topic: str, *, reconcile: bool = False) -> Callable[[Any, Any, Any], None]:
        # A restarted listener's first snapshot lists every document anew: what the hub still
        # holds and the snapshot lacks was deleted while no listener ran.
        pending = [reconcile]

        def on_snapshot(docs: Any, changes: Any, read_time: Any) -> None:
            # An exception escaping here would stop the watch for good: log and go on.
            try:
                out = []
                present = None
                if pending[0]:
                    pending[0] = False
                    present = {snap.id for snap in docs}
                for ch in changes:
                    snap = ch.document
                    if ch.type.name == "REMOVED" or not snap.exists:
                        out.append(Change(topic, "remove", snap.id, None))
                    else:
                        out.append(Change(topic, "upsert", snap.id, doc_json(snap)))
                if topic == "settings" and not changes:
                    for snap in docs:
                        if snap.exists:
                            out.append(Change(topic, "upsert", snap.id, doc_json(snap)))
                self.loop.call_soon_threadsafe(self._apply, topic, out, present)
            except Exception:
                log.exception("live %s update failed", topic)

        return on_snapshot

    # ------------------------------------------------------------ fan-out (event loop)

    def _apply(self, topic: str, changes: list[Change], present: set[str] | None = None) -> None:
        docs = self.state[topic]
        if present is not None:  # a restarted listener: drop what was deleted meanwhile
            changes = [Change(topic, "remove", gone, None)
                       for gone in docs if gone not in present] + changes
        for ch in changes:
            if ch.op == "remove":
                docs.pop(ch.id, None)
            else:
                assert ch.doc is not None
                docs[ch.id] = ch.doc
            for sub in list(self.subscribers):
                if topic in sub.topics:
                    self._offer(sub, ch)
        self.ready[topic].set()

    def _offer(self, sub: Subscriber, change: Change | None) -> None:
        try:
            sub.queue.put_nowait(change)
        except asyncio.QueueFull:
            # Too far behind (a sleeping tablet): drop it; it reconnects and reloads.
            self.subscribers.discard(sub)
            while not sub.queue.empty():
                sub.queue.get_nowait()
            sub.queue.put_nowait(None)

    def subscribe(self, topics: frozenset[str]) -> Subscriber:
        sub = Subscriber(topics=topics & frozenset(TOPICS))
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    async def snapshot(self, topic: str) -> list[dict[str, Any]]:
        """The current documents of a topic (waits, bounded, for its first snapshot)."""
        async with asyncio.timeout(READY_TIMEOUT_S):
            await self.ready[topic].wait()
        return list(self.state[topic].values())
