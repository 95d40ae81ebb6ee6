"""The repository: every read and write the phone line makes (async; one per worker process).

Design rules, because a caller is waiting on the line:
* A confirmed order is ONE batch commit (order + customer + analytics): all or nothing, one
  round trip. Ids are derived from the call, so a retry or replay hits `create`'s precondition
  and becomes "already_saved" instead of a twin order or double-counted revenue.
* What a booking holds in the dining room (tables or seats, for its whole meal) is kept in
  one document per day and only changed by a commit conditioned on the day as it was read.
* When Firestore is unreachable for longer than a short budget, writes go to the durable local
  outbox and are replayed later through the same idempotent code.
* We do our own retrying, so every RPC gets `retry=None` and a bounded timeout: the library
  defaults would retry for up to 60-300 s while the caller listens to silence.

Collections, all under restaurants/{rid}/ (store/scope.py): menu_items/{id},
settings/restaurant, orders/{id}, reservations/{code}, seating/{yyyy-mm-dd}, customers/{phone},
messages/{id}, call_logs/{call_id}, analytics/{yyyy-mm-dd}. A manager serves exactly one
restaurant; `for_restaurant` gives another one's manager over the same client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, TypeVar

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.transforms import Increment, Maximum, Minimum
from pydantic import BaseModel, ValidationError

from config import FirestoreSettings
from domain import ids
from domain.duplicates import same_booking, same_order
from domain.seating import Hold, SeatingPlan, day_parts, minute_of, with_next_day
from models import (
    MENU,
    SETTINGS_DOC,
    CallLog,
    Customer,
    DailyAnalytics,
    LastOrderLine,
    MenuItem,
    Message,
    Order,
    Reservation,
    ReservationChange,
    RestaurantSettings,
    slot_id,
)
from store.call_records import CallRecords
from store.checkpoint import (
    JOURNALED_KINDS,
    EmulatorCheckpoint,
    emulator_durability,
    flush_journal,
)
from store.clients import make_async_client
from store.errors import (
    BookingResult,
    CodeTaken,
    OrderIdTaken,
    PersistenceUnavailable,
    ReservationCancelled,
    ReservationNotFound,
    SaveResult,
    SaveStatus,
    SlotFull,
    StaleReservation,
)
from store.outbox import Outbox, OutboxEntry
from store.parsing import brief, customer_from_doc, ms, parse_menu_item, parse_settings
from store.retries import with_retries
from store.rpc import RpcCounter, instrument
from store.scope import DEFAULT_RESTAURANT_ID, RestaurantScope

log = logging.getLogger(__name__)

T = TypeVar("T")


async def connect(
    settings: FirestoreSettings,
    *,
    retry_budget_s: float = 3.0,
    rpc_timeout_s: float = 10.0,
    contention_budget_s: float = 30.0,
    restaurant_id: str = DEFAULT_RESTAURANT_ID,
) -> FirebaseManager:
    """A manager for the configured target; raises ConfigError naming what to set."""
    journal, checkpoint = emulator_durability(
        settings.firestore_emulator_host, settings.google_cloud_project,
        settings.firestore_emulator_export_dir, settings.outbox_path)
    return FirebaseManager(
        make_async_client(settings),
        Outbox(settings.outbox_path),
        restaurant_id=restaurant_id,
        retry_budget_s=retry_budget_s,
        rpc_timeout_s=rpc_timeout_s,
        contention_budget_s=contention_budget_s,
        journal=journal,
        checkpoint=checkpoint,
    )


class FirebaseManager(CallRecords):
    def __init__(
        self,
        client: firestore.AsyncClient,
        outbox: Outbox,
        *,
        restaurant_id: str = DEFAULT_RESTAURANT_ID,
        retry_budget_s: float = 3.0,
        rpc_timeout_s: float = 10.0,
        contention_budget_s: float = 30.0,
        rpcs: RpcCounter | None = None,
        journal: Outbox | None = None,
        checkpoint: EmulatorCheckpoint | None = None,
    ) -> None:
        self.client = client
        # With the emulator: what callers were told is saved, until an export holds it
        # (store/checkpoint.py).
        self.journal = journal
        self.checkpoint = checkpoint
        # Every path below goes through the scope: this manager cannot name another
        # restaurant's documents.
        self.db = RestaurantScope(client, restaurant_id)
        self.restaurant_id = self.db.restaurant_id
        self.outbox = outbox
        self.retry_budget_s = retry_budget_s
        self.rpc_timeout_s = rpc_timeout_s
        self.contention_budget_s = contention_budget_s
        if rpcs is None:
            rpcs = RpcCounter()
            instrument(client, rpcs, rpc_timeout_s)
        self.rpcs = rpcs

    def for_restaurant(self, restaurant_id: str) -> FirebaseManager:
        """The same client and outbox, scoped to another restaurant (no new connection)."""
        if restaurant_id == self.restaurant_id:
            return self
        return FirebaseManager(
            self.client, self.outbox, restaurant_id=restaurant_id,
            retry_budget_s=self.retry_budget_s, rpc_timeout_s=self.rpc_timeout_s,
            contention_budget_s=self.contention_budget_s, rpcs=self.rpcs,
            journal=self.journal, checkpoint=self.checkpoint,
        )

    async def close(self) -> None:
        # The client has no close(); its gRPC channel lives on the transport.
        transport = getattr(self.client, "_transport", None)
        if transport is not None:
            await transport.close()

    # ------------------------------------------------------------ reads

    async def load_menu(self) -> list[MenuItem]:
        items: list[MenuItem] = []
        async for snap in self.db.collection(MENU).stream():
            item = parse_menu_item(snap.id, snap.to_dict() or {})
            if item is not None:
                items.append(item)
        return items

    async def load_restaurant_settings(self) -> RestaurantSettings | None:
        snap = await self.db.document(SETTINGS_DOC).get()
        return parse_settings(snap.to_dict()) if snap.exists else None

    async def get_customer(self, phone_e164: str) -> Customer | None:
        snap = await self.db.document(f"customers/{phone_e164}").get()
        if not snap.exists:
            return None
        try:
            return customer_from_doc(snap.to_dict() or {})
        except ValidationError as e:
            log.error("customers/%s is invalid and is ignored: %s", phone_e164, e)
            return None

    async def get_analytics(self, day: date) -> DailyAnalytics:
        snap = await self.db.document(f"analytics/{day.isoformat()}").get()
        return DailyAnalytics.from_doc(snap.to_dict() or {}) if snap.exists else DailyAnalytics()

    async def get_reservation(self, code: str) -> Reservation | None:
        snap = await self.db.document(f"reservations/{code}").get()
        return Reservation.from_doc(snap.to_dict() or {}) if snap.exists else None

    async def find_reservations(self, phone_e164: str, from_day: date) -> list[Reservation]:
        """Upcoming, not cancelled. Filters date in code so no composite index is needed."""
        query = self.db.collection("reservations").where(
            filter=FieldFilter("phone", "==", phone_e164)
        )
        found = [res async for res in _valid_reservations(query)
                 if res.status != "cancelled" and res.date >= from_day]
        return sorted(found, key=lambda r: (r.date, r.time, r.code))

    # ------------------------------------------------------------ orders, messages, call logs

    async def save_order(self, order: Order, analytics_day: date) -> SaveResult:
        """One atomic commit: order + customer + analytics. Queued to the outbox if down."""
        return await self._save_record("order", order.id, order, analytics_day,
                                       lambda: self._commit_order(order, analytics_day))

    async def save_message(self, msg: Message, analytics_day: date | None = None) -> SaveResult:
        day = analytics_day or msg.created_at.date()
        return await self._save_record("message", msg.id, msg, day,
                                       lambda: self._commit_message(msg, day))

    async def write_call_log(self, log_: CallLog, analytics_day: date) -> SaveResult:
        return await self._save_record("call_log", log_.call_id, log_, analytics_day,
                                       lambda: self._commit_call_log(log_, analytics_day))

    async def _commit_order(self, order: Order, day: date) -> SaveStatus:
        batch = self.db.batch()
        batch.create(self.db.document(f"orders/{order.id}"), order.to_doc())
        last_order = [
            LastOrderLine(item_id=ln.item_id, name=ln.name, size=ln.size,
                          option_ids=[o.option_id for o in ln.options],
                          quantity=ln.quantity).to_doc()
            for ln in order.lines
        ]
        self._customer_upsert(batch, order.customer_phone, order.customer_name, order.created_at,
                              order_count=1, last_order=last_order)
        self._count(batch, day, orders=1, revenue_cents=order.total_cents)
        status = await self._commit_create(batch)
        if status == "already_saved":
            await self._same_order_or_raise(order)
        return status

    async def _same_order_or_raise(self, order: Order) -> None:
        # Same id is not the same order: "already saved" only for the same content.
        snap = await self.db.document(f"orders/{order.id}").get()
        if not same_order(Order.from_doc(snap.to_dict() or {}), order):
            raise OrderIdTaken(order.id)

    async def _commit_message(self, msg: Message, day: date) -> SaveStatus:
        batch = self.db.batch()
        batch.create(self.db.document(f"messages/{msg.id}"), msg.to_doc())
        self._count(batch, day, messages=1)
        return await self._commit_create(batch)

    async def _commit_create(self, batch: Any) -> SaveStatus:
        try:
            await batch.commit(retry=None, timeout=self.rpc_timeout_s)
        except gexc.Conflict:  # AlreadyExists: the whole batch was rejected, nothing counted
            return "already_saved"
        return "saved"

    # ------------------------------------------------------------ reservations

    async def book_reservation(
        self, res: Reservation, seating: SeatingPlan, analytics_day: date
    ) -> BookingResult:
        """Raises SlotFull or CodeTaken; "queued" only when Firestore is unreachable."""
        result = await self._save_record(
            "booking", res.code, res, analytics_day,
            lambda: self._book_once(res, seating, analytics_day),
            field="reservation", seating=seating.model_dump(mode="json"))
        return BookingResult(result.status, result.id)

    async def _book_once(self, res: Reservation, seating: SeatingPlan, day: date) -> SaveStatus:
        if not res.history:
            res = res.model_copy(update={"history": [
                ReservationChange(at=res.created_at, call_id=res.call_id, action="created")
            ]})
        res_ref = self.db.document(f"reservations/{res.code}")
        days = (res.date, res.date + timedelta(days=1))  # a late meal runs into the next day
        # Check-and-set without a read-write transaction: the commit carries the day's update
        # time (or "must not exist") as a precondition, so a booking that got there first makes
        # it fail and it is decided again on fresh data. Transactions lock the hot document on
        # read: twenty callers for one table then starve each other on lock timeouts (none
        # booked). One document per day holds every booking's tables, so bookings at different
        # times that overlap at the table are decided against each other too.
        refs = [res_ref, *(self._seating_ref(d) for d in days)]
        snaps = {s.reference.path: s async for s in self.db.get_all(refs)}
        existing = snaps[res_ref.path]
        rooms = {d: snaps[ref.path] for d, ref in zip(days, refs[1:], strict=True)}
        if existing.exists:
            if same_booking(Reservation.from_doc(existing.to_dict() or {}), res):
                return "already_saved"
            raise CodeTaken(res.code)
        seat = seating.fit(_night(rooms, res.date), minute_of(res.time), res.party_size)
        if seat is None:
            raise SlotFull(res.slot_id)
        res = res.model_copy(update={"tables": list(seat.tables), "minutes": seat.minutes})
        batch = self.db.batch()
        batch.create(res_ref, res.to_doc())
        self._place(batch, rooms, res.code, _placed(res))
        self._customer_upsert(batch, res.phone, res.name, res.created_at, reservation_count=1)
        self._count(batch, day, reservations=1, covers=res.party_size)
        await self._commit_checked(batch, f"booking {res.code}")
        return "saved"

    async def change_reservation(
        self,
        code: str,
        *,
        new_date: date | None = None,
        new_time: time | None = None,
        new_party_size: int | None = None,
        call_id: str,
        seating: SeatingPlan,
        now: datetime,
        if_updated_at: datetime | None = None,
    ) -> Reservation:
        """Move the booking's hold atomically. Re-applying the same change is a no-op.

        `if_updated_at` (staff board): refuse with StaleReservation unless the reservation is
        still the version its `updated_at` names, so two tablets never overwrite each other.
        """
        return await self._with_retries(lambda: self._change_once(
            code, new_date, new_time, new_party_size, call_id, seating, now, if_updated_at))

    async def _change_once(
        self, code: str, new_date: date | None, new_time: time | None,
        new_party_size: int | None, call_id: str, seating: SeatingPlan, now: datetime,
        if_updated_at: datetime | None = None,
    ) -> Reservation:
        res_ref = self.db.document(f"reservations/{code}")
        snap = await res_ref.get()
        res = _existing_reservation(snap, code)
        _check_version(res, if_updated_at)
        if res.status == "cancelled":
            raise ReservationCancelled(code)
        day = res.date if new_date is None else new_date
        at = res.time if new_time is None else new_time
        party = res.party_size if new_party_size is None else new_party_size
        if party < 1:
            raise ValueError(f"party size must be at least 1, not {party}")
        if (day, at, party) == (res.date, res.time, res.party_size):
            return res
        rooms = await self._rooms({res.date, res.date + timedelta(days=1), day,
                                   day + timedelta(days=1)})
        seat = seating.fit(_night(rooms, day, without=code), minute_of(at), party)
        if seat is None:
            raise SlotFull(slot_id(day, at))
        before = {"date": res.date.isoformat(), "time": res.time.isoformat(),
                  "party_size": res.party_size, "status": res.status}
        changed = res.model_copy(update={
            "date": day, "time": at, "party_size": party, "status": "changed",
            "updated_at": now, "tables": list(seat.tables), "minutes": seat.minutes,
            "history": [*res.history, ReservationChange(
                at=now, call_id=call_id, action="changed", before=before)],
        })
        changed = Reservation.model_validate(changed.model_dump())  # re-run validators
        batch = self.db.batch()
        batch.update(res_ref, changed.to_doc(),
                  option=self.db.write_option(last_update_time=snap.update_time))
        self._place(batch, rooms, code, _placed(changed))
        await self._commit_checked(batch, f"change of {code}")
        return changed

    async def cancel_reservation(
        self, code: str, *, call_id: str, now: datetime, if_updated_at: datetime | None = None
    ) -> Reservation:
        """Free exactly what the booking held; cancelling twice returns it unchanged.
        `if_updated_at` (staff board): only the version staff saw, else StaleReservation."""
        return await self._with_retries(
            lambda: self._cancel_once(code, call_id, now, if_updated_at))

    async def _cancel_once(self, code: str, call_id: str, now: datetime,
                           if_updated_at: datetime | None = None) -> Reservation:
        res_ref = self.db.document(f"reservations/{code}")
        snap = await res_ref.get()
        res = _existing_reservation(snap, code)
        _check_version(res, if_updated_at)
        if res.status == "cancelled":
            return res
        rooms = await self._rooms({res.date, res.date + timedelta(days=1)})
        cancelled = res.model_copy(update={
            "status": "cancelled", "updated_at": now,
            "history": [*res.history, ReservationChange(
                at=now, call_id=call_id, action="cancelled", before={"status": res.status})],
        })
        batch = self.db.batch()
        batch.update(res_ref, cancelled.to_doc(),
                  option=self.db.write_option(last_update_time=snap.update_time))
        self._place(batch, rooms, code, {})
        await self._commit_checked(batch, f"cancel of {code}")
        return cancelled

    async def active_reservations(self, from_day: date) -> list[Reservation]:
        """Every booking from that day on that still holds a table (not cancelled, finished
        or a no-show), oldest made first."""
        query = self.db.collection("reservations").where(
            filter=FieldFilter("date", ">=", from_day.isoformat()))
        found = [res async for res in _valid_reservations(query)
                 if res.status in ("confirmed", "changed", "seated")]
        return sorted(found, key=lambda r: (r.created_at, r.code))

    async def seat_unheld(self, code: str, seating: SeatingPlan) -> Literal[
            "held", "placed", "full", "gone"]:
        """Give a booking the seating model never placed (no hold in its day's document) its
        table, as a booking would get it now: "held" if it already has one (nothing written),
        "full" when the room has no place for it, "gone" when it is no longer active."""
        return await self._with_retries(lambda: self._seat_once(code, seating))

    async def _seat_once(self, code: str, seating: SeatingPlan) -> Literal[
            "held", "placed", "full", "gone"]:
        res_ref = self.db.document(f"reservations/{code}")
        snap = await res_ref.get()
        res = _existing_reservation(snap, code)
        if res.status not in ("confirmed", "changed", "seated"):
            return "gone"
        rooms = await self._rooms({res.date, res.date + timedelta(days=1)})
        if code in _holds(rooms[res.date]):
            return "held"
        seat = seating.fit(_night(rooms, res.date), minute_of(res.time), res.party_size)
        if seat is None:
            return "full"
        placed = res.model_copy(update={"tables": list(seat.tables), "minutes": seat.minutes})
        batch = self.db.batch()
        batch.update(res_ref, {"tables": placed.tables, "minutes": placed.minutes},
                     option=self.db.write_option(last_update_time=snap.update_time))
        self._place(batch, rooms, code, _placed(placed))
        await self._commit_checked(batch, f"seating of {code}")
        return "placed"

    async def holds_on(self, day: date) -> list[Hold]:
        """What every booking of that day holds in the dining room (one read), a meal
        carried over from the night before included (its start before midnight: negative)."""
        return list(_holds(await self._seating_ref(day).get()).values())

    async def holds_around(self, day: date) -> list[Hold]:
        """What a booking on `day` must fit around (one read): the day's holds and the next
        day's, on this day's clock, since a late meal runs past midnight."""
        return _night(await self._rooms({day, day + timedelta(days=1)}), day)

    async def _rooms(self, days: set[date]) -> dict[date, Any]:
        refs = {d: self._seating_ref(d) for d in sorted(days)}
        snaps = {s.reference.path: s async for s in self.db.get_all(list(refs.values()))}
        return {d: snaps[ref.path] for d, ref in refs.items()}

    def _seating_ref(self, day: date) -> Any:
        return self.db.document(f"seating/{day.isoformat()}")

    def _place(self, batch: Any, rooms: dict[date, Any], code: str,
               wanted: dict[date, Hold]) -> None:
        """The booking holds exactly `wanted` (day -> hold) among the days read in `rooms`:
        added or replaced there, released from the others."""
        for day, room in rooms.items():
            if day in wanted:
                self._hold(batch, room, day, wanted[day])
            else:
                self._release(batch, room, code)

    def _hold(self, batch: Any, room: Any, day: date, hold: Hold) -> None:
        """Add or replace one booking's hold, only if the day is as it was read."""
        if room.exists:
            batch.update(room.reference, {f"holds.{hold.code}": hold.to_doc()},
                         option=self.db.write_option(last_update_time=room.update_time))
        else:
            batch.create(room.reference, {"date": day.isoformat(),
                                          "holds": {hold.code: hold.to_doc()}})

    def _release(self, batch: Any, room: Any, code: str) -> None:
        if room.exists and code in _holds(room):
            batch.update(room.reference, {f"holds.{code}": firestore.DELETE_FIELD},
                         option=self.db.write_option(last_update_time=room.update_time))

    async def _commit_checked(self, batch: Any, what: str) -> None:
        try:
            await batch.commit(retry=None, timeout=self.rpc_timeout_s)
        except (gexc.FailedPrecondition, gexc.Conflict) as e:
            # The day (or the booking) changed since it was read: decided again on retry.
            raise gexc.Aborted(f"{what} raced another write: {e.message}") from e

    # ------------------------------------------------------------ recordings

    async def link_recording(self, call_id: str, path: str, expires_at: datetime) -> None:
        """The call log points at its recording (merged: the log itself may still be queued)."""
        await self._with_retries(lambda: self.db.document(f"call_logs/{call_id}").set(
            {"recording": path, "recording_expires_at": expires_at}, merge=True))

    async def expired_recordings(self, now: datetime) -> list[tuple[str, str]]:
        """(call id, recording path) of every linked recording past its date."""
        query = self.db.collection("call_logs").where(
            filter=FieldFilter("recording_expires_at", "<=", now))
        found = []
        async for snap in query.stream():
            path = (snap.to_dict() or {}).get("recording")
            if path:
                found.append((snap.id, path))
        return found

    async def forget_recording(self, call_id: str, now: datetime) -> None:
        await self._with_retries(lambda: self.db.document(f"call_logs/{call_id}").update(
            {"recording": None, "recording_expires_at": None, "recording_deleted_at": now}))

    # ------------------------------------------------------------ outbox replay

    async def replay_outbox(self) -> int:
        """Replay queued writes once; returns how many left the outbox (saved or already so)."""
        done: list[str] = []
        entries = await self.outbox.entries()
        try:
            for entry in entries:
                try:
                    if await self._owner_of(entry)._replay(entry):
                        done.append(entry.id)
                except PersistenceUnavailable:
                    log.info("Firestore still unavailable; outbox replay paused")
                    break
                except Exception:
                    # Keep the entry (it is the only copy) and move on to the others.
                    log.exception("outbox entry %s could not be replayed; kept", entry.id)
        finally:
            if done:
                await self._journal_entries([e for e in entries if e.id in set(done)])
                await self.outbox.remove(done)
        if done:
            log.info("replayed %d outbox entries", len(done))
        return len(done)

    async def run_outbox_replayer(self, interval_s: float = 30.0) -> None:
        """Background task: replay now, then every `interval_s`, until cancelled."""
        while True:
            try:
                await self.replay_outbox()
                await flush_journal(self)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox replay failed")
            await asyncio.sleep(interval_s)

    async def ensure_saved(self, entry: OutboxEntry) -> SaveStatus:
        """Commit a journaled record again, once: "already_saved" if the database holds it."""
        owner = self._owner_of(entry)
        if owner is not self:
            return await owner.ensure_saved(entry)
        p = entry.payload
        day = date.fromisoformat(p["analytics_day"])
        if entry.kind == "order":
            order = Order.model_validate(p["order"])
            try:
                return await self._once(lambda: self._commit_order(order, day))
            except OrderIdTaken:  # changed since it was saved (staff): the database has it
                return "already_saved"
        if entry.kind == "message":
            msg = Message.model_validate(p["message"])
            return await self._once(lambda: self._commit_message(msg, day))
        if entry.kind == "booking":
            res, seating = _queued_booking(p)
            try:
                return await self._once(lambda: self._book_once(res, seating, day))
            except CodeTaken:  # changed since it was saved (staff): the database has it
                return "already_saved"
            except SlotFull as e:  # lost and no longer fits: staff must call the guest
                note = _unplaced_booking_message(res, e)
                return await self._once(lambda: self._commit_message(note, day))
        raise ValueError(f"{entry.kind} entries are not journaled")

    async def _journal_entries(self, entries: list[OutboxEntry]) -> None:
        for entry in entries:
            if entry.kind in JOURNALED_KINDS:
                await self._journal(entry.kind, entry.id.split(":", 1)[1], entry.payload)

    async def _journal(self, kind: str, record_id: str, payload: dict[str, Any]) -> None:
        if self.journal is None or kind not in JOURNALED_KINDS:
            return
        try:
            await self.journal.append(kind, payload, record_id=record_id)
        except OSError:
            # Saved in the emulator's memory, not yet on disk: the minute's export still
            # takes it unless the emulator is killed first.
            log.exception("%s %s saved but not journaled", kind, record_id)

    def _owner_of(self, entry: OutboxEntry) -> FirebaseManager:
        """The outbox file is shared by every restaurant's calls: each entry goes back to the
        restaurant that queued it (entries from before restaurants existed: the default)."""
        return self.for_restaurant(entry.payload.get("restaurant_id", DEFAULT_RESTAURANT_ID))

    async def _replay(self, entry: OutboxEntry) -> bool:
        """One queued write, at the restaurant that queued it (`_owner_of`)."""
        p = entry.payload
        day = date.fromisoformat(p["analytics_day"])
        once = self._once
        if entry.kind == "order":
            order = Order.model_validate(p["order"])
            await self._replay_order(order, day)
        elif entry.kind == "message":
            msg = Message.model_validate(p["message"])
            await once(lambda: self._commit_message(msg, day))
        elif entry.kind == "call_open":
            opened = CallLog.model_validate(p["call_log"])
            await once(lambda: self._commit_call_open(opened, day))
        elif entry.kind == "call_log":
            call_log = CallLog.model_validate(p["call_log"])
            await once(lambda: self._commit_call_log(call_log, day))
        elif entry.kind == "booking":
            res, seating = _queued_booking(p)
            try:
                await once(lambda: self._book_once(res, seating, day))
            except (SlotFull, CodeTaken) as e:
                # No longer fits: staff must call the guest; the message replaces the booking.
                note = _unplaced_booking_message(res, e)
                await once(lambda: self._commit_message(note, day))
        else:
            log.error("unknown outbox entry kind %r (%s); kept", entry.kind, entry.id)
            return False
        return True

    async def _replay_order(self, order: Order, day: date) -> None:
        # The caller was told "noted, staff will call": if its id now holds a different order,
        # it is saved under a derived id (the same one on every replay), never dropped.
        for attempt in range(ids.MAX_ID_ATTEMPTS):
            oid = ids.replayed_order_id(order.id, attempt)
            moved = order.model_copy(update={"id": oid, "order_number": ids.order_number(oid)})
            try:
                await self._once(lambda: self._commit_order(moved, day))  # noqa: B023
                return
            except OrderIdTaken:
                continue
        raise OrderIdTaken(order.id)

    async def _once(self, op: Callable[[], Awaitable[T]]) -> T:
        # Replays get a single attempt: the replayer itself is the retry loop.
        return await self._with_retries(op, budget_s=0.0)

    # ------------------------------------------------------------ retry machinery

    async def _save_record(
        self, kind: str, record_id: str, record: BaseModel, day: date,
        op: Callable[[], Awaitable[SaveStatus]], *, field: str = "", **extra: Any,
    ) -> SaveResult:
        """A record saved by `op`, or queued: its outbox and journal payload is the restaurant,
        the record under `field` (default: its `kind`), any `extra`, and the analytics day."""
        payload = {"restaurant_id": self.restaurant_id,
                   field or kind: record.model_dump(mode="json"), **extra,
                   "analytics_day": day.isoformat()}
        return await self._save_or_queue(kind, record_id, payload, op)

    async def _save_or_queue(
        self, kind: str, record_id: str, payload: dict[str, Any],
        op: Callable[[], Awaitable[SaveStatus]],
    ) -> SaveResult:
        try:
            result = SaveResult(await self._with_retries(op), record_id)
            await self._journal(kind, record_id, payload)
            return result
        except PersistenceUnavailable as e:
            log.warning("Firestore unavailable for %s %s (%s); queueing it", kind, record_id, e)
        # Every queued write carries its restaurant: the replayer (any restaurant's manager)
        # sends it back there, never to the default one.
        payload = {**payload, "restaurant_id": self.restaurant_id}
        try:
            await self.outbox.append(kind, payload, record_id=record_id)
        except OSError as e:
            raise PersistenceUnavailable(
                f"{kind} {record_id}: Firestore unreachable and the outbox failed: {e}"
            ) from e
        return SaveResult("queued", record_id)

    async def _with_retries(
        self, op: Callable[[], Awaitable[T]], budget_s: float | None = None
    ) -> T:
        budget = self.retry_budget_s if budget_s is None else budget_s
        return await with_retries(op, budget_s=budget,
                                  contention_budget_s=self.contention_budget_s)

    # ------------------------------------------------------------ write helpers

    def _customer_upsert(
        self, writer: Any, phone: str, name: str, seen: datetime, *,
        order_count: int = 0, reservation_count: int = 0,
        last_order: list[dict[str, Any]] | None = None,
    ) -> None:
        # Blind merge, no read: Minimum/Maximum keep first/last seen right whatever order
        # the writes land in (outbox replays can be late), Increment keeps the counters.
        doc: dict[str, Any] = {
            "phone": phone,
            "name": name,
            "first_seen_ms": Minimum(ms(seen)),
            "last_seen_ms": Maximum(ms(seen)),
            "order_count": Increment(order_count),
            "reservation_count": Increment(reservation_count),
        }
        if last_order is not None:
            doc["last_order"] = last_order
        writer.set(self.db.document(f"customers/{phone}"), doc, merge=True)

    def _count(self, writer: Any, day: date, **increments: int) -> None:
        fields = {k: Increment(v) for k, v in increments.items() if v}
        writer.set(self.db.document(f"analytics/{day.isoformat()}"), fields, merge=True)


def _holds(room: Any) -> dict[str, Hold]:
    if not room.exists:
        return {}
    raw = (room.to_dict() or {}).get("holds") or {}
    return {code: Hold.from_doc(code, data) for code, data in raw.items()}


def _night(rooms: dict[date, Any], day: date, without: str = "") -> list[Hold]:
    """The holds a booking on `day` must fit around, but the booking `without`'s own."""
    today = [h for c, h in _holds(rooms[day]).items() if c != without]
    later = [h for c, h in _holds(rooms[day + timedelta(days=1)]).items() if c != without]
    return with_next_day(today, later)


def _placed(res: Reservation) -> dict[date, Hold]:
    """Where a booking's hold is kept: its day, and the next when its meal runs past
    midnight."""
    own, carried = day_parts(_hold_of(res))
    placed = {res.date: own}
    if carried is not None:
        placed[res.date + timedelta(days=1)] = carried
    return placed


def _hold_of(res: Reservation) -> Hold:
    assert res.minutes is not None
    return Hold(code=res.code, start=minute_of(res.time), minutes=res.minutes,
                party_size=res.party_size, tables=tuple(res.tables))


def _existing_reservation(snap: Any, code: str) -> Reservation:
    if not snap.exists:
        raise ReservationNotFound(code)
    return Reservation.from_doc(snap.to_dict() or {})


def _check_version(res: Reservation, if_updated_at: datetime | None) -> None:
    if if_updated_at is not None and res.updated_at != if_updated_at:
        raise StaleReservation(res)


def _queued_booking(p: dict[str, Any]) -> tuple[Reservation, SeatingPlan]:
    """A queued or journaled booking and the seating it was checked against."""
    res = Reservation.model_validate(p["reservation"])
    seating = (SeatingPlan.model_validate(p["seating"]) if "seating" in p
               else SeatingPlan(seats=int(p["capacity"])))  # queued before the model
    return res, seating


def _unplaced_booking_message(res: Reservation, why: Exception) -> Message:
    reason = (
        f"Booking {res.code} for {res.party_size} on {res.date.isoformat()} at "
        f"{res.time.strftime('%H:%M')} was confirmed while the database was offline, but it "
        f"could not be placed afterwards ({why}). Please call the guest back."
    )
    return Message(id=f"{res.call_id}-unplaced-{res.code}", call_id=res.call_id, name=res.name,
                   phone=res.phone, reason=reason[:500], created_at=datetime.now(UTC),
                   language=res.language)


async def _valid_reservations(query: Any) -> AsyncIterator[Reservation]:
    """The bookings a query finds; one that no longer reads as a booking is logged and skipped,
    so one bad document never hides a guest's other bookings."""
    async for snap in query.stream():
        try:
            yield Reservation.from_doc(snap.to_dict() or {})
        except ValidationError as e:
            log.error("reservations/%s is invalid and is skipped: %s", snap.id, brief(e))
