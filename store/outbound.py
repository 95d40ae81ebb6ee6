"""One restaurant's outbound call queue in Firestore (under restaurants/{rid}/): reminders and
call-backs, leased to one dialer at a time.

outbound_calls/{id}      one guest to call (models.OutboundCall)
outbound_phones/{phone}  which call holds the guest's line now, and until when: two dialers
                         never ring the same guest, even for two different calls
do_not_call/{phone}      "don't call me again", kept for good

`claim` picks the next due call in a transaction that re-reads the call, the guest's lock, the
do-not-call entry and (for a reminder) the booking, so every rule is checked at the moment of
dialing, not only at scheduling: a booking cancelled since, an opt-out said on another call, a
guest outside calling hours, attempts used up, a number no longer dialable (the deny list),
and the restaurant's caps (store/outbound_caps.py: per hour, per day, at once). A lease that
runs out (a dialer died) makes the call claimable again; its attempt is counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.async_transaction import AsyncTransaction, async_transactional
from google.cloud.firestore_v1.base_query import FieldFilter

from domain.outbound_rules import CallingHours, check_dialable, guest_zones, next_calling_time
from domain.refusal import Refusal
from models import SETTINGS_DOC, Message, OutboundCall, Reservation, RestaurantSettings
from store.outbound_caps import CAPS_DOC, Caps, CapsState
from store.parsing import parse_settings
from store.scope import DEFAULT_RESTAURANT_ID, RestaurantScope, scoped

log = logging.getLogger(__name__)
CALLS, PHONES, DO_NOT_CALL = "outbound_calls", "outbound_phones", "do_not_call"
DONE_OUTCOMES = frozenset(
    {"kept", "changed", "cancelled", "voicemail_left", "opted_out", "delivered", "texted",
     "text_refused"})
RETRY_OUTCOMES = frozenset({"no_answer", "busy", "failed"})
RETRY_AFTER = timedelta(minutes=30)
CANDIDATES = 10


@dataclass(frozen=True)
class Policy:
    """What settings/restaurant says about calling guests."""

    home_region: str
    restaurant_tz: ZoneInfo
    hours: CallingHours
    max_attempts: int
    allow_international: bool
    reminder_before: timedelta
    caps: Caps = field(default_factory=Caps)

    @classmethod
    def of(cls, settings: RestaurantSettings, home_region: str | None = None) -> Policy:
        """The restaurant's rules; its home region from its settings (`region`, else its
        phone's country), not an assumed US."""
        window = settings.outbound_hours
        hours = CallingHours(window.open, window.close) if window else CallingHours()
        caps = Caps(settings.outbound_max_per_hour, settings.outbound_max_per_day,
                    settings.outbound_max_concurrent)
        return cls(home_region or settings.home_region, settings.tz, hours,
                   settings.outbound_max_attempts, settings.outbound_international,
                   timedelta(hours=settings.reminder_hours_before), caps)


async def read_restaurant_settings(
    client: firestore.AsyncClient | RestaurantScope, restaurant_id: str = DEFAULT_RESTAURANT_ID,
) -> RestaurantSettings | None:
    """A restaurant's stored settings (calling hours, attempts, time zone); None when unseeded."""
    snap = await scoped(client, restaurant_id).document(SETTINGS_DOC).get()
    return parse_settings(snap.to_dict() if snap.exists else None)


class OutboundQueue:
    def __init__(self, client: firestore.AsyncClient | RestaurantScope, policy: Policy,
                 restaurant_id: str = DEFAULT_RESTAURANT_ID) -> None:
        # One restaurant's queue: its bookings, messages, guests' locks and opt-outs only.
        self.db = scoped(client, restaurant_id)
        self.policy = policy

    # ------------------------------------------------------------ scheduling

    async def schedule_reminder(self, code: str, now: datetime,
                                channel: Literal["call", "text"] = "call") -> OutboundCall:
        """A reminder for booking `code`, `reminder_hours_before` ahead of it (now, if that has
        passed), by call or by text (one of each at most). Refusal when the booking is gone or
        cancelled, already started, or its number may not be called."""
        snap = await self.db.document(f"reservations/{code}").get()
        if not snap.exists:
            raise Refusal(f"no booking {code}")
        res = Reservation.model_validate(snap.to_dict())
        if res.status == "cancelled":
            raise Refusal(f"booking {code} is cancelled: no reminder")
        starts = self._starts(res)
        if starts <= now:
            raise Refusal(f"booking {code} has already started")
        due = max(now, starts - self.policy.reminder_before)
        return await self._schedule(OutboundCall(
            id=_reminder_id(code, channel),
            kind="reminder", channel=channel, phone=res.phone, reservation_code=code,
            reason=_reminder_reason(res), max_attempts=self.policy.max_attempts, next_try_at=due,
            created_at=now, updated_at=now))

    async def follow_booking(self, res: Reservation, now: datetime) -> list[str]:
        """A changed booking's reminders still waiting (by call, by text) follow it: due
        `reminder_hours_before` its new start (now, if that has passed), so a booking moved
        earlier is not reminded after it began. One being sent right now (leased, or changed
        meanwhile: the precondition) is left alone: its sender reads the booking as it is.
        Returns the ids moved."""
        due = max(now, self._starts(res) - self.policy.reminder_before)
        moved = []
        for rid in (_reminder_id(res.code, "call"), _reminder_id(res.code, "text")):
            ref = self.db.document(f"{CALLS}/{rid}")
            snap = await ref.get()
            if not snap.exists:
                continue
            call = OutboundCall.model_validate(snap.to_dict())
            if call.status != "pending" or call.next_try_at == due:
                continue
            try:
                await ref.update({"next_try_at": due, "reason": _reminder_reason(res),
                                  "updated_at": now},
                                 option=self.db.write_option(last_update_time=snap.update_time))
            except gexc.FailedPrecondition:
                continue
            moved.append(rid)
        return moved

    async def schedule_callback(self, message_id: str, now: datetime,
                                at: datetime | None = None) -> OutboundCall:
        """A call back for a saved message, to the number the caller left: from `at` (staff
        chose a time, e.g. "after 5") or else at once."""
        snap = await self.db.document(f"messages/{message_id}").get()
        if not snap.exists:
            raise Refusal(f"no message {message_id}")
        msg = Message.model_validate(snap.to_dict())
        return await self._schedule(OutboundCall(
            id=f"callback-{message_id}", kind="callback", phone=msg.phone,
            message_id=message_id, reason=f"call-back about: {msg.reason}",
            max_attempts=self.policy.max_attempts, next_try_at=at or now,
            created_at=now, updated_at=now))

    async def _schedule(self, call: OutboundCall) -> OutboundCall:
        call.phone = check_dialable(call.phone, home_region=self.policy.home_region,
                                    allow_international=self.policy.allow_international)
        if (await self.db.document(f"{DO_NOT_CALL}/{call.phone}").get()).exists:
            raise Refusal(f"{call.id}: the guest asked not to be called again")
        try:
            await self.db.document(f"{CALLS}/{call.id}").create(call.to_doc())
        except gexc.AlreadyExists:
            snap = await self.db.document(f"{CALLS}/{call.id}").get()
            return OutboundCall.model_validate(snap.to_dict())
        return call

    async def list_calls(self) -> list[OutboundCall]:
        calls = [OutboundCall.model_validate(s.to_dict())
                 async for s in self.db.collection(CALLS).stream()]
        return sorted(calls, key=lambda c: (c.next_try_at is None, c.next_try_at or c.updated_at))

    async def get(self, call_id: str) -> OutboundCall | None:
        snap = await self.db.document(f"{CALLS}/{call_id}").get()
        return OutboundCall.model_validate(snap.to_dict()) if snap.exists else None

    async def booking(self, code: str) -> Reservation | None:
        snap = await self.db.document(f"reservations/{code}").get()
        return Reservation.model_validate(snap.to_dict()) if snap.exists else None

    async def message(self, message_id: str) -> Message | None:
        snap = await self.db.document(f"messages/{message_id}").get()
        return Message.model_validate(snap.to_dict()) if snap.exists else None

    async def caps_state(self, now: datetime) -> CapsState:
        """What the dialer has run up, and why it holds calls back now (for the board)."""
        snap = await self.db.document(CAPS_DOC).get()
        return CapsState.of(snap.to_dict() if snap.exists else None, now)

    async def opted_out(self, phone: str) -> bool:
        return bool((await self.db.document(f"{DO_NOT_CALL}/{phone}").get()).exists)

    async def opt_out(self, phone: str, now: datetime, call_id: str | None = None) -> None:
        await self.db.document(f"{DO_NOT_CALL}/{phone}").set({"at": now, "call_id": call_id})

    # ------------------------------------------------------------ dialing

    async def claim(self, worker: str, now: datetime, lease: timedelta) -> OutboundCall | None:
        """The next call this worker may dial now, leased to it; None when nothing is due."""
        query = (self.db.collection(CALLS)
                 .where(filter=FieldFilter("next_try_at", "<=", now))
                 .order_by("next_try_at").limit(CANDIDATES))
        ids = [snap.id async for snap in query.stream()]
        for call_id in ids:
            try:
                claimed = await self._try_claim(call_id, worker, now, lease)
            except (gexc.Aborted, ValueError) as e:
                if not isinstance(e, gexc.Aborted) and not isinstance(e.__cause__, gexc.Aborted):
                    raise
                continue  # another dialer is claiming this one right now: try the next
            if claimed is not None:
                return claimed
        return None

    async def _try_claim(
        self, call_id: str, worker: str, now: datetime, lease: timedelta
    ) -> OutboundCall | None:
        call_ref = self.db.document(f"{CALLS}/{call_id}")
        caps_ref = self.db.document(CAPS_DOC)

        @async_transactional
        async def run(tx: AsyncTransaction) -> OutboundCall | None:
            caps_snap = await caps_ref.get(transaction=tx)
            caps = CapsState.of(caps_snap.to_dict() if caps_snap.exists else None, now)
            snap = await call_ref.get(transaction=tx)
            if not snap.exists:
                return None
            call = OutboundCall.model_validate(snap.to_dict())
            if call.status not in ("pending", "leased"):
                return None
            if call.status == "leased" and call.lease_until and call.lease_until > now:
                return None  # another dialer has it
            phone_ref = self.db.document(f"{PHONES}/{call.phone}")
            lock = await phone_ref.get(transaction=tx)
            dnc = await self.db.document(f"{DO_NOT_CALL}/{call.phone}").get(transaction=tx)
            booking = None
            if call.reservation_code:
                res = await self.db.document(
                    f"reservations/{call.reservation_code}").get(transaction=tx)
                booking = Reservation.model_validate(res.to_dict()) if res.exists else None

            stop = self._why_not(call, dnc.exists, booking, now)
            if stop is not None:
                status, outcome = stop
                tx.update(call_ref, _finished(status, outcome, now))
                return None
            zones = guest_zones(call.phone, self.policy.restaurant_tz)
            when = next_calling_time(now, zones, self.policy.hours)
            if when > now:
                tx.update(call_ref, {"status": "pending", "next_try_at": when,
                                     "lease_owner": None, "updated_at": now})
                return None
            held = lock.to_dict() if lock.exists else None
            if held and held.get("call_id") != call.id and held["lease_until"] > now:
                return None  # the guest's line is busy with another of our calls
            caps.ended(call.id)  # a lease of this call that ran out (its dialer died)
            refused = caps.refusal(self.policy.caps, now)
            if refused is not None:
                if refused != caps.refusing:
                    log.warning("outbound calls held back: %s", refused)
                    caps.refusing = refused
                    tx.set(caps_ref, caps.to_doc(now))
                return None
            call.status, call.lease_owner, call.lease_until = "leased", worker, now + lease
            call.attempts += 1
            call.updated_at = now
            caps.started(call.id, now, call.lease_until)
            tx.set(call_ref, call.to_doc())
            tx.set(phone_ref, {"call_id": call.id, "lease_until": call.lease_until})
            tx.set(caps_ref, caps.to_doc(now))
            return call

        return await run(self.db.transaction())

    async def renew(self, call: OutboundCall, worker: str, now: datetime, until: datetime
                    ) -> bool:
        """Hold the lease (and the guest's line) until `until`, while `worker` still holds it:
        a call picked up again after its agent died goes on under the lease its dialer took,
        and no dialer may ring the guest meanwhile. False when the lease is no longer its."""
        call_ref = self.db.document(f"{CALLS}/{call.id}")
        phone_ref = self.db.document(f"{PHONES}/{call.phone}")
        caps_ref = self.db.document(CAPS_DOC)

        @async_transactional
        async def run(tx: AsyncTransaction) -> bool:
            caps_snap = await caps_ref.get(transaction=tx)
            snap = await call_ref.get(transaction=tx)
            if not snap.exists:
                return False
            current = OutboundCall.model_validate(snap.to_dict())
            if current.status != "leased" or current.lease_owner != worker:
                return False
            if current.lease_until is not None and current.lease_until >= until:
                return True
            tx.update(call_ref, {"lease_until": until})
            tx.set(phone_ref, {"call_id": call.id, "lease_until": until})
            caps = CapsState.of(caps_snap.to_dict() if caps_snap.exists else None, now)
            if call.id in caps.active:  # still one call at once in the restaurant's cap
                caps.active[call.id] = until
                tx.set(caps_ref, caps.to_doc(now))
            return True

        return await run(self.db.transaction())

    def _why_not(
        self, call: OutboundCall, opted_out: bool, booking: Reservation | None, now: datetime
    ) -> tuple[str, str] | None:
        if opted_out:
            return "skipped", "do_not_call"
        if call.kind == "reminder":
            if booking is None or booking.status == "cancelled":
                return "skipped", "booking_cancelled"
            if self._starts(booking) <= now:
                return "skipped", "booking_started"
        if call.attempts >= call.max_attempts:
            return "failed", "attempts_used"
        try:  # the rules may have changed since it was scheduled (deny list, international)
            check_dialable(call.phone, home_region=self.policy.home_region,
                           allow_international=self.policy.allow_international)
        except Refusal:
            return "skipped", "not_dialable"
        return None

    async def finish(
        self, call: OutboundCall, worker: str, outcome: str, now: datetime,
        room: str | None = None,
    ) -> OutboundCall:
        """Record how the dial went and free the guest's line. `opted_out` also stores the
        guest's "don't call me again"."""
        if outcome not in DONE_OUTCOMES | RETRY_OUTCOMES:
            raise ValueError(f"unknown outbound outcome {outcome!r}")
        call_ref = self.db.document(f"{CALLS}/{call.id}")
        phone_ref = self.db.document(f"{PHONES}/{call.phone}")
        caps_ref = self.db.document(CAPS_DOC)

        @async_transactional
        async def run(tx: AsyncTransaction) -> OutboundCall:
            caps_snap = await caps_ref.get(transaction=tx)
            current = OutboundCall.model_validate((await call_ref.get(transaction=tx)).to_dict())
            lock = await phone_ref.get(transaction=tx)
            if current.status != "leased" or current.lease_owner != worker:
                raise Refusal(f"{call.id} is not leased to {worker}")
            if room:
                current.call_ids.append(room)
            if outcome in DONE_OUTCOMES:
                current.status, current.next_try_at = "done", None
            elif current.attempts >= current.max_attempts:
                current.status, current.next_try_at = "failed", None
            else:
                current.status, current.next_try_at = "pending", now + RETRY_AFTER
            current.outcome, current.lease_owner, current.lease_until = outcome, None, None
            current.updated_at = now
            tx.set(call_ref, current.to_doc())
            if lock.exists and (lock.to_dict() or {}).get("call_id") == call.id:
                tx.delete(phone_ref)
            caps = CapsState.of(caps_snap.to_dict() if caps_snap.exists else None, now)
            caps.ended(call.id)
            tx.set(caps_ref, caps.to_doc(now))
            if outcome == "opted_out":
                tx.set(self.db.document(f"{DO_NOT_CALL}/{call.phone}"),
                       {"at": now, "call_id": room})
            return current

        return await run(self.db.transaction())

    def _starts(self, res: Reservation) -> datetime:
        return datetime.combine(res.date, res.time, tzinfo=self.policy.restaurant_tz)


def _reminder_id(code: str, channel: Literal["call", "text"]) -> str:
    return f"reminder-{code}" if channel == "call" else f"text-reminder-{code}"


def _reminder_reason(res: Reservation) -> str:
    return (f"reminder of the booking for {res.party_size} on {res.date.isoformat()} "
            f"at {res.time.strftime('%H:%M')}")


def _finished(status: str, outcome: str, now: datetime) -> dict[str, object]:
    return {"status": status, "outcome": outcome, "next_try_at": None, "lease_owner": None,
            "lease_until": None, "updated_at": now}
