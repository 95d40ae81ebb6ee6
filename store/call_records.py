"""The store's crash-safety records (a mixin of FirebaseManager): the call log's lifecycle
("in progress" -> "completed" | "crashed", the call counted once when it starts) and the
resumable snapshot of a call a re-dispatched agent picks up (conversation/call_snapshot.py).

Kept apart from the rest of the store so the lifecycle reads in one place.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from google.api_core import exceptions as gexc
from google.cloud.firestore_v1.base_query import FieldFilter

from models import CallLog, Order

if TYPE_CHECKING:
    from store.errors import SaveResult, SaveStatus


class CallRecords:
    """Needs the FirebaseManager's client and helpers (`db`, `_save_or_queue`, `_count`, ...)."""

    db: Any
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

    async def mark_call_crashed(self, call_id: str, *, now: datetime) -> bool:
        """Close an "in progress" log no agent finished; False when it was completed meanwhile.
        Counted on the day the call was counted on when it started."""
        ref = self.db.document(f"call_logs/{call_id}")

        async def once() -> bool:
            snap = await ref.get()
            if not snap.exists or (snap.to_dict() or {}).get("status") != "in_progress":
                return False
            log_ = CallLog.from_doc(snap.to_dict() or {})
            batch = self.db.batch()
            batch.update(ref, {
                "status": "crashed", "ended_at": now, "close_reason": "crashed",
                "duration_s": round((now - log_.started_at).total_seconds(), 2),
            }, option=self.db.write_option(last_update_time=snap.update_time))
            self._count(batch, log_.analytics_day or log_.started_at.date(), crashed=1)
            await self._commit_if_unchanged(batch, call_id)
            return True

        return await self._with_retries(once)

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
        await self._commit_if_unchanged(batch, log_.call_id)
        return "saved"

    async def _commit_if_unchanged(self, batch: Any, call_id: str) -> None:
        try:
            await batch.commit(retry=None, timeout=self.rpc_timeout_s)
        except (gexc.FailedPrecondition, gexc.Conflict, gexc.NotFound) as e:
            # Written meanwhile (the open, a reap): contention, decided again on retry.
            raise gexc.Aborted(f"call log {call_id} changed meanwhile: {e.message}") from e


def completed_log(log_: CallLog, stored: CallLog | None) -> CallLog:
    """The final log of a call, keeping what an earlier agent of the same call recorded (the
    call's real start, its transcript) when a re-dispatched agent finishes it."""
    if stored is None or stored.status == "completed":
        return log_.model_copy(update={"status": "completed"})
    day = log_.analytics_day or stored.analytics_day
    started = min(stored.started_at, log_.started_at)
    ended = log_.ended_at or log_.started_at
    return log_.model_copy(update={
        "status": "completed",
        "started_at": started,
        "duration_s": round((ended - started).total_seconds(), 2),
        "transcript": [*stored.transcript, *log_.transcript],
        "resumed": max(stored.resumed, log_.resumed),
        "analytics_day": day,
    })
