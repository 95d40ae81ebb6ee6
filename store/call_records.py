"""The store's crash-safety records (a mixin of FirebaseManager): the call log's lifecycle
("in progress" -> "completed" | "crashed", the call counted once when it starts) and the
resumable snapshot of a call a re-dispatched agent picks up (conversation/call_snapshot.py).

Kept apart from the rest of the store so the lifecycle reads in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from google.api_core import exceptions as gexc
from google.cloud.firestore_v1.base_query import FieldFilter

from models import CallLog, Order

if TYPE_CHECKING:
    from store.errors import SaveResult, SaveStatus

log = logging.getLogger(__name__)
# A call's snapshot document -> the fields of its crashed log (the store does not read the
# snapshot's shape; conversation/call_snapshot.py wrote it and says what it means for the log).
SnapshotToLog = Callable[[dict[str, Any]], dict[str, Any]]


class CallRecords:
    """Needs the FirebaseManager's client and helpers (`db`, `_save_or_queue`, `_count`, ...)."""

    db: Any
    restaurant_id: str
    rpc_timeout_s: float
    _save_or_queue: Any
    _commit_create: Any
    _count: Any
    _tx_get: Any
    _transaction: Any
    _with_retries: Any

    # ------------------------------------------------------------ call lifecycle (crash safety)
    # A call is counted and logged "in progress" when it starts, so a crash (OOM kill, lost
    # worker) still leaves its record; the end of the call completes it (`write_call_log`),
    # and a call no agent finished is marked "crashed" by the reaper (services/call_watch.py).

    async def open_call_log(self, log_: CallLog, analytics_day: date) -> SaveResult:
        """Create the "in progress" log and count the call; a resumed agent's open is a no-op."""
        opened = log_.model_copy(update={"status": "in_progress"})
        payload = {"call_log": opened.model_dump(mode="json"),
                   "analytics_day": analytics_day.isoformat()}
        return await self._save_or_queue(
            "call_open", log_.call_id, payload,
            lambda: self._commit_call_open(opened, analytics_day),
        )

    async def _commit_call_open(self, log_: CallLog, day: date) -> SaveStatus:
        batch = self.db.batch()
        batch.create(self.db.document(f"call_logs/{log_.call_id}"), log_.to_doc())
        self._count(batch, day, calls=1)
        return await self._commit_create(batch)

    async def get_call_log(self, call_id: str) -> CallLog | None:
        snap = await self.db.document(f"call_logs/{call_id}").get()
        return CallLog.from_doc(snap.to_dict() or {}) if snap.exists else None

    async def open_call_logs(self) -> list[CallLog]:
        """Logs still "in progress": live calls, and crashed ones the reaper has to close."""
        query = self.db.collection("call_logs").where(
            filter=FieldFilter("status", "==", "in_progress")
        )
        return [CallLog.from_doc(s.to_dict() or {}) async for s in query.stream()]

    async def mark_call_crashed(self, call_id: str, *, now: datetime,
                                from_snapshot: SnapshotToLog) -> bool:
        """Close an "in progress" log no agent finished; False when it was completed meanwhile.
        Counted on the day the call was counted on when it started.

        The call's snapshot (what its last agent saved: transcript, agents, outcome) is what
        the log then says, through `from_snapshot` (conversation/call_snapshot.py's
        crash_log_fields); the snapshot is deleted in the same commit, so the log holds it
        before it is gone."""
        ref = self.db.document(f"call_logs/{call_id}")
        snapshot_ref = self.db.document(f"call_snapshots/{call_id}")

        async def once() -> bool:
            snap = await ref.get()
            if not snap.exists or (snap.to_dict() or {}).get("status") != "in_progress":
                return False
            log_ = CallLog.from_doc(snap.to_dict() or {})
            saved = await snapshot_ref.get()
            batch = self.db.batch()
            batch.update(ref, {
                **self._saved_for_log(call_id, saved, from_snapshot),
                "status": "crashed", "ended_at": now, "close_reason": "crashed",
                "restaurant_id": self.restaurant_id,
                "duration_s": round((now - log_.started_at).total_seconds(), 2),
            }, option=self.db.write_option(last_update_time=snap.update_time))
            if saved.exists:  # as read: a write meanwhile (a live agent after all) keeps it
                batch.delete(snapshot_ref,
                             option=self.db.write_option(last_update_time=saved.update_time))
            self._count(batch, log_.analytics_day or log_.started_at.date(), crashed=1)
            await self._commit_if_unchanged(batch, ref)
            return True

        return await self._with_retries(once)

    @staticmethod
    def _saved_for_log(call_id: str, saved: Any, from_snapshot: SnapshotToLog
                       ) -> dict[str, Any]:
        if not saved.exists:
            return {}
        try:
            return from_snapshot(saved.to_dict() or {})
        except ValueError:  # unreadable: the log is closed all the same, with what it has
            log.warning("call state unreadable; crashed log without it",
                        extra={"call_id": call_id})
            return {}

    # ------------------------------------------------------------ resumable call snapshot
    # call_snapshots/{call_id}: what a re-dispatched agent needs to pick a call up
    # (conversation/call_snapshot.py).
    # Overwritten as the call goes on, deleted when it ends; never queued to the outbox (a
    # state that arrives late is worse than none).

    async def save_call_snapshot(self, call_id: str, state: dict[str, Any]) -> None:
        await self.db.document(f"call_snapshots/{call_id}").set(
            {**state, "saved_at": datetime.now(UTC)}, retry=None, timeout=self.rpc_timeout_s)

    async def load_call_snapshot(self, call_id: str) -> dict[str, Any] | None:
        snap = await self.db.document(f"call_snapshots/{call_id}").get()
        if not snap.exists:
            return None
        data = snap.to_dict() or {}
        data.pop("saved_at", None)
        return data

    async def drop_call_snapshot(self, call_id: str) -> None:
        await self.db.document(f"call_snapshots/{call_id}").delete(
            retry=None, timeout=self.rpc_timeout_s)

    async def stale_call_snapshots(self, saved_before: datetime) -> list[str]:
        """The calls whose snapshot was last written before `saved_before` (a live call's is
        rewritten at every turn; an old one is what a crash, or a failed delete, left)."""
        query = self.db.collection("call_snapshots").where(
            filter=FieldFilter("saved_at", "<", saved_before)).select(["saved_at"])
        return [s.id async for s in query.stream()]

    async def get_order(self, order_id: str) -> Order | None:
        snap = await self.db.document(f"orders/{order_id}").get()
        return Order.from_doc(snap.to_dict() or {}) if snap.exists else None

    async def _commit_call_log(self, log_: CallLog, day: date) -> SaveStatus:
        """Complete the call's log: replaces the "in progress" (or "crashed") record once.

        Read, then write only if the log is unchanged since (its update time as the commit's
        precondition, or "must not exist"): no read-write transaction, whose lock would
        outlive a job that is killed or shut down in the middle of it."""
        ref = self.db.document(f"call_logs/{log_.call_id}")
        snap = await ref.get()
        stored = snap.to_dict() or {} if snap.exists else None
        status = (stored or {}).get("status", "completed")
        if stored is not None and status == "completed":
            return "already_saved"
        done = completed_log(log_, CallLog.from_doc(stored) if stored else None)
        batch = self.db.batch()
        if snap.exists:
            unchanged = self.db.write_option(last_update_time=snap.update_time)
            batch.update(ref, done.to_doc(), option=unchanged)
        else:
            batch.create(ref, done.to_doc())
        self._count(batch, day, calls=int(stored is None), crashed=-int(status == "crashed"),
                    transfers=int(done.outcome == "transfer"),
                    abandoned=int(done.outcome == "abandoned"))
        await self._commit_if_unchanged(batch, ref)
        return "saved"

    async def _commit_if_unchanged(self, batch: Any, log_ref: Any) -> None:
        try:
            await batch.commit(retry=None, timeout=self.rpc_timeout_s)
        except (gexc.FailedPrecondition, gexc.Conflict, gexc.NotFound) as e:
            # Written meanwhile (the open, a reap): contention, decided again on retry.
            raise gexc.Aborted(f"call log {log_ref.id} changed meanwhile: {e.message}") from e


def completed_log(log_: CallLog, stored: CallLog | None) -> CallLog:
    """The final log of a call, keeping what an earlier agent of the same call recorded (the
    call's real start, its transcript) when a re-dispatched agent finishes it."""
    if stored is None or stored.status == "completed":
        return log_.model_copy(update={"status": "completed"})
    day = log_.analytics_day or stored.analytics_day
    started = min(stored.started_at, log_.started_at)
    earlier = stored.transcript  # a crashed log's, written from the snapshot this agent
    if log_.transcript[:len(earlier)] == earlier:  # resumed from, is already in its own
        earlier = []
    ended = log_.ended_at or log_.started_at
    return log_.model_copy(update={
        "status": "completed",
        "started_at": started,
        "duration_s": round((ended - started).total_seconds(), 2),
        "transcript": [*earlier, *log_.transcript],
        "resumed": max(stored.resumed, log_.resumed),
        "analytics_day": day,
    })
