"""What staff do on the board, each through the same code and rules as a call or staff script.

* Bookings: `actions.reservations` (draft, then confirm), exactly what a call runs: the
  booking rules, the capacity check and the store's commit; no way to overbook from the board.
* Menu: `scripts/seed_menu.py`'s `set_availability` (the path of `--sold-out`), which live calls
  pick up through their menu listener.
* Orders, messages and the host stand's seated / finished / no-show: one document update with
  the version the tablet saw as precondition, so of two tablets the second is told, not lost.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.cloud import firestore

from actions import reservations, texts
from actions.state import Desk
from config import RestaurantOverrides
from domain.menu import Catalog, Menu
from domain.refusal import Refusal
from models import Reservation, ReservationChange, RestaurantSettings
from services.board.auth import User
from store import (
    FirebaseManager,
    ReservationCancelled,
    ReservationNotFound,
    StaleReservation,
)
from store.menu_seed import UnknownItems, set_availability
from store.outbound import OutboundQueue, Policy
from store.scope import RestaurantScope, scoped
from store.staff import DocumentGone, StaffStore, StaleDocument, to_json


class Rejected(Exception):
    """A staff action the rules refuse; `status` is the HTTP status, the message says why."""

    def __init__(self, message: str, status: int = 422, current: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.current = current


class Conflict(Rejected):
    """Someone else changed the record first; `current` is what it is now."""

    def __init__(self, current: Any, what: str) -> None:
        super().__init__(f"{what} was changed on another screen; here is the latest, "
                         "check it and try again", 409, current)


# new -> preparing -> ready -> picked up; cancelled (with a reason) from any open state.
# One step back is allowed for a mis-tap at the pass.
ORDER_MOVES: dict[str, set[str]] = {
    "confirmed": {"preparing", "ready", "cancelled"},
    "pending_staff_confirmation": {"confirmed", "preparing", "cancelled"},
    "preparing": {"ready", "confirmed", "cancelled"},
    "ready": {"collected", "preparing", "cancelled"},
    "collected": {"ready"},
    "cancelled": set(),
}
# booked -> seated -> finished, or no-show (a late party can still be seated); cancelling goes
# through cancel_reservation, which frees the seats.
BOOKING_MOVES: dict[str, set[str]] = {
    "confirmed": {"seated", "no_show"},
    "changed": {"seated", "no_show"},
    "seated": {"finished"},
    "no_show": {"seated"},
    "finished": set(),
    "cancelled": set(),
}


# Whether the signed-in person's page shows a document (services/board/roles.py decides).
InView = Callable[[dict[str, Any]], bool]


def everything(_doc: dict[str, Any]) -> bool:
    return True


def parse_version(version: str | None) -> DatetimeWithNanoseconds:
    if not version:
        raise Rejected("version: the page must send the version it shows", 400)
    if not isinstance(version, str):
        raise Rejected(f"version: {version!r} is not a version this board sent", 400)
    try:
        return DatetimeWithNanoseconds.from_rfc3339(version)
    except ValueError:
        raise Rejected(f"version: {version!r} is not a version this board sent", 400) from None


def _actor(user: User) -> str:
    return f"board:{user.username}"


def repeated_tap(current: dict[str, Any], status: str, user: User) -> bool:
    """An order already in `status` by this user's own last change: a double tap (or a retry
    after a slow answer), which the board answers with the order as it is."""
    return current.get("status") == status and current.get("updated_by") == user.username


def repeated_booking_tap(current: dict[str, Any], status: str, user: User) -> bool:
    history = current.get("history") or []
    last = history[-1] if history else {}
    return (current.get("status") == status and last.get("action") == status
            and last.get("call_id") == _actor(user))


class Operations:
    def __init__(self, manager: FirebaseManager, sync_client: firestore.Client | RestaurantScope,
                 overrides: RestaurantOverrides) -> None:
        self.manager = manager
        self.db = manager.db
        self.staff = StaffStore(manager.db)
        # The staff menu script's client, seen through this board's restaurant only.
        self.sync_client = scoped(sync_client, manager.restaurant_id)
        self.overrides = overrides

    async def restaurant(self) -> RestaurantSettings:
        """settings/restaurant with the RESTAURANT_* overrides, as the worker applies them."""
        base = await self.manager.load_restaurant_settings()
        data = base.model_dump() if base else {"name": "our restaurant"}
        return RestaurantSettings.model_validate({**data, **self.overrides.restaurant_overrides()})

    async def _update(self, path: str, version: str | None, fields: dict[str, Any],
                      what: str) -> dict[str, Any]:
        try:
            return await self.staff.update_if_unchanged(path, parse_version(version), fields)
        except StaleDocument as e:
            raise Conflict(e.current, what) from None
        except DocumentGone as e:  # never here (or another restaurant's id): not a conflict
            gone = "no longer exists" if e.existed else "does not exist"
            raise Rejected(f"{what} {gone}", 404) from None

    async def order_in_view(self, order_id: str, seen: InView) -> dict[str, Any]:
        current = await self._current(f"orders/{order_id}", "order")
        if not seen(current):
            raise Rejected("only an owner changes another day's orders", 403)
        return current

    async def _current(self, path: str, what: str) -> dict[str, Any]:
        doc = await self.staff.read(path)
        if doc is None:
            raise Rejected(f"{what} does not exist", 404)
        return doc

    # ------------------------------------------------------------ orders

    async def set_order_status(self, order_id: str, status: str, version: str | None,
                               user: User, reason: str = "",
                               seen: InView = everything) -> dict[str, Any]:
        """`seen`: whether the signed-in person's page shows this order (staff: today's only,
        services/board/roles.py); one it does not show is neither changed nor answered with,
        not even as a conflict's "here is the latest"."""
        what = "order"
        current = await self.order_in_view(order_id, seen)
        if current["_version"] != version:
            if repeated_tap(current, status, user):
                return current  # the same person's second tap: already done, not a conflict
            raise Conflict(current, what)
        now_status = current.get("status", "confirmed")
        if status not in ORDER_MOVES.get(now_status, set()):
            raise Rejected(f"status: an order that is {now_status} cannot become {status}")
        fields: dict[str, Any] = {"status": status, "updated_at": datetime.now(UTC),
                                  "updated_by": user.username}
        if status == "cancelled":
            reason = " ".join(reason.split())
            if not reason:
                raise Rejected("reason: say why the order is cancelled")
            fields["cancel_reason"] = reason[:200]
        return await self._update(f"orders/{order_id}", version, fields, what)

    # ------------------------------------------------------------ messages

    async def mark_message(self, message_id: str, done: bool, version: str | None,
                           user: User) -> dict[str, Any]:
        fields: dict[str, Any] = {"status": "handled" if done else "new"}
        fields["handled_at"] = datetime.now(UTC) if done else None
        fields["handled_by"] = user.username if done else ""
        return await self._update(f"messages/{message_id}", version, fields, "message")

    # ------------------------------------------------------------ menu

    async def set_available(self, item_id: str, available: bool) -> None:
        """The staff script's path (`seed_menu.py --sold-out/--available`)."""
        try:
            await asyncio.to_thread(set_availability, self.sync_client, [item_id], available)
        except UnknownItems as e:
            raise Rejected(str(e).splitlines()[0], 404) from None

    # ------------------------------------------------------------ bookings

    async def _desk(self, user: User, known_phone: str | None = None) -> Desk:
        """Where the board books: the restaurant's settings and clock, the store, no phone line.
        Each booking is a new actor (`board-<user>-<random>`), whose one booking is its first;
        `known_phone` is the booking's own number, which a change or cancel is looked up by."""
        return Desk(db=self.manager, catalog=Catalog(Menu([]), await self.restaurant()),
                    clock=lambda: datetime.now(UTC),
                    by=f"board-{user.username}-{uuid.uuid4().hex[:12]}", known_phone=known_phone)

    async def book(self, *, day: date, at: time, party: int, name: str, phone: str,
                   notes: str, user: User) -> dict[str, Any]:
        """A walk-in or phone booking: `actions.reservations`, as a call books (same rules,
        same capacity check, same commit)."""
        desk = await self._desk(user)
        try:
            draft = await reservations.draft_booking(desk, day.isoformat(), at.strftime("%H:%M"),
                                                     party, name, phone)
            draft.seq = 1
            done = await reservations.confirm_draft(desk, draft)
        except Refusal as e:
            raise Rejected(_staff_words(str(e))) from None
        clean_notes = " ".join(notes.split())[:300]
        if clean_notes and done.status != "queued":
            await self.staff.update(f"reservations/{done.code}", {"notes": clean_notes})
        reminder = None
        if done.status != "queued" and (saved := await self.manager.get_reservation(done.code)):
            reminder = await texts.remind_guest_who_agreed(desk, saved)
        return {"code": done.code, "status": done.status, "text_reminder": reminder is not None}

    async def change_booking(self, code: str, *, day: date, at: time, party: int,
                             version: str | None, user: User) -> dict[str, Any]:
        seen = await self._seen_reservation(code, version)
        if seen.status not in ("confirmed", "changed"):
            raise Rejected(f"a booking that is {seen.status.replace('_', '-')} cannot be changed")
        desk = await self._desk(user, known_phone=seen.phone)
        try:
            draft = await reservations.draft_change(
                desk, code, day.isoformat(), at.strftime("%H:%M"), party)
            draft.if_updated_at = seen.updated_at
            await reservations.confirm_draft(desk, draft)
        except Refusal as e:
            raise Rejected(_staff_words(str(e))) from None
        return await self._booking_json(code)

    async def cancel_booking(self, code: str, version: str | None, user: User) -> dict[str, Any]:
        seen = await self._seen_reservation(code, version)
        if seen.status not in ("confirmed", "changed"):
            raise Rejected(f"a booking that is {seen.status.replace('_', '-')} cannot be "
                           "cancelled")
        desk = await self._desk(user, known_phone=seen.phone)
        try:
            draft = await reservations.draft_cancel(desk, code)
            draft.if_updated_at = seen.updated_at
            await reservations.confirm_draft(desk, draft)
        except Refusal as e:
            raise Rejected(_staff_words(str(e))) from None
        return await self._booking_json(code)

    async def set_booking_status(self, code: str, status: str, version: str | None,
                                 user: User) -> dict[str, Any]:
        try:
            seen = await self._seen_reservation(code, version)
        except Conflict as e:
            if repeated_booking_tap(e.current, status, user):
                return e.current  # the same person's second tap: already done
            raise
        if status not in BOOKING_MOVES.get(seen.status, set()):
            raise Rejected(f"status: a booking that is {seen.status} cannot become {status}")
        now = datetime.now(UTC)
        history = [*seen.history, ReservationChange(
            at=now, call_id=_actor(user), action=status,  # type: ignore[arg-type]
            before={"status": seen.status})]
        fields = {"status": status, "updated_at": now,
                  "history": [h.to_doc() for h in history]}
        return await self._update(f"reservations/{code}", version, fields, "booking")

    async def _seen_reservation(self, code: str, version: str | None) -> Reservation:
        """The reservation, if it is still the version the tablet showed."""
        parse_version(version)
        current = await self._current(f"reservations/{code}", "booking")
        if current["_version"] != version:
            raise Conflict(current, "booking")
        res = await self.manager.get_reservation(code)
        if res is None:
            raise Rejected("booking does not exist", 404)
        return res

    async def _booking_json(self, code: str) -> dict[str, Any]:
        return await self._current(f"reservations/{code}", "booking")

    # ------------------------------------------------------------ outbound calls

    async def call_back(self, message_id: str, at: str | None = None) -> dict[str, Any]:
        """Queue a call back for a saved message, now or at `at` (the restaurant's local
        "YYYY-MM-DDTHH:MM"); the dialer rings the guest when that time has come and their
        calling hours allow (store/outbound.py checks the number and the opt-outs)."""
        restaurant = await self.restaurant()
        queue = OutboundQueue(self.db, Policy.of(restaurant))
        now = datetime.now(UTC)
        when = _call_back_time(at, restaurant, now)
        try:
            call = await queue.schedule_callback(message_id, now, at=when)
        except Refusal as e:
            raise Rejected(str(e)) from None
        return to_json(call.to_doc()) | {"_id": call.id}

    async def outbound_calls(self) -> list[dict[str, Any]]:
        """Scheduled and made outbound calls, due first, then the latest finished."""
        queue = OutboundQueue(self.db, Policy.of(await self.restaurant()))
        return [to_json(c.to_doc()) | {"_id": c.id} for c in await queue.list_calls()]

    async def outbound_held(self) -> str | None:
        """Why the dialer is holding calls back now (its caps), or None."""
        queue = OutboundQueue(self.db, Policy.of(await self.restaurant()))
        return (await queue.caps_state(datetime.now(UTC))).refusing


CALL_BACK_AHEAD = timedelta(days=7)


def _call_back_time(at: str | None, restaurant: RestaurantSettings,
                    now: datetime) -> datetime | None:
    """When staff want the call back: None for now, else a future local time this week."""
    if not at:
        return None
    try:
        local = datetime.fromisoformat(str(at))
    except ValueError:
        raise Rejected(f"at: {at!r} is not a date and time (YYYY-MM-DDTHH:MM)") from None
    when = (local if local.tzinfo else local.replace(tzinfo=restaurant.tz)).astimezone(UTC)
    if when <= now:
        raise Rejected("at: that time has passed; choose a later one, or call back now")
    if when > now + CALL_BACK_AHEAD:
        raise Rejected("at: choose a time within the next 7 days")
    return when


def _staff_words(rule: str) -> str:
    """The rule's message without the instructions meant for the phone model."""
    for cue in (" Ask ", " Offer ", " Tell "):
        rule = rule.split(cue)[0]
    return rule.strip()


BOOKING_ERRORS = (ReservationNotFound, ReservationCancelled, StaleReservation)
