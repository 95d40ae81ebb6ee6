"""Tables: availability, the draft a caller confirms, and booking, changing or cancelling it.

Each action takes the `Desk` it runs at (the store, the menu and settings, the clock, who acts)
and the draft it works on, so the staff board books through them as a call does, without a
call's state; `confirm_call_booking` is the call's own step around `confirm_draft`."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Literal

from actions.state import CallState, Desk, ReservationDraft
from domain import booking, spanish
from domain.cart import Cart
from domain.contact import clean_name, number_or_caller_id
from domain.ids import reservation_code
from domain.lines import restaurant_line
from domain.refusal import Refusal
from domain.seating import minute_of
from models import Reservation, ReservationChange
from store import (
    CodeTaken,
    ReservationCancelled,
    ReservationNotFound,
    SaveStatus,
    SlotFull,
)
from store.outbound import OutboundQueue, Policy

log = logging.getLogger("restaurant.reservations")

CODE_ATTEMPTS = 5


def spell(code: str) -> str:
    """A booking code as it is said on the phone: one character at a time."""
    return " ".join(code)


async def check_slot(
    desk: Desk, day: dt.date, at: dt.time, party: int, *, moving: str | None = None
) -> None:
    """Rules plus the dining room as booked now; `moving` is the caller's own booking, whose
    table is theirs to keep when they change it."""
    s = desk.settings
    booking.check_booking(s, desk.now, day, at, party,
                          restaurant_line(s, "large_party_note", desk.language))
    holds = [h for h in await desk.db.holds_around(day) if h.code != moving]
    if s.seating.fit(holds, minute_of(at), party) is None:
        options = booking.nearest_free_times(s, desk.now, day, at, party, holds)
        offer = (
            f" Nearest free times that day: {', '.join(booking.say_time(t) for t in options)}."
            if options else " Nothing else is free that day; offer another day."
        )
        raise Refusal(f"{booking.say_time(at)} is fully booked for {party}.{offer}", said=(
            ("refused_full", {"time": at, "times": options}) if options
            else ("refused_full_day", {"time": at})))


def read_booking(
    desk: Desk, date: str | None, time: str | None, party_size: int | str | None,
    was: tuple[dt.date | None, dt.time | None, int | None] = (None, None, None),
) -> tuple[dt.date, dt.time, int]:
    """Day, time and party as the model passed them (natural or ISO), or what they `was`."""
    s, now, heard = desk.settings, desk.now, desk.heard
    if desk.language == "es":  # "mañana a las siete": the words the clock rules read
        date, time = spanish.when(date, time)
        heard = spanish.to_english(heard)
        if isinstance(party_size, str):
            party_size = spanish.to_english(party_size)
    day, at = booking.read_when(s, now, date, time, heard=heard, was=(was[0], was[1]))
    party = booking.read_party(party_size) if party_size not in (None, "") else was[2]
    if day is None or at is None or party is None:
        missing = [n for n, v in (("date", day), ("time", at), ("party_size", party)) if not v]
        raise Refusal(f"Ask the caller for the {' and '.join(missing)} of the booking.")
    return day, at, party


async def check_availability(
    desk: Desk, date: str, time: str, party_size: int | str
) -> tuple[dt.date, dt.time, int]:
    """Whether a table is free then, from the arguments as the model passed them."""
    day, at, party = read_booking(desk, date, time, party_size)
    await check_slot(desk, day, at, party)
    return day, at, party


def contact_phone(desk: Desk, phone: str | None) -> str:
    # A number already given in this call wins over the caller ID (the desk's known number).
    return number_or_caller_id(phone, desk.known_phone, "ask for the caller's phone number.",
                               region=desk.settings.home_region, abroad=True)


async def find_reservations(desk: Desk, cart: Cart, phone: str | None) -> list[Reservation]:
    """The caller's upcoming bookings; the number becomes the contact number of the `cart`."""
    number = contact_phone(desk, phone)
    found = await desk.db.find_reservations(number, desk.now.date())
    cart.customer_phone = number
    return found


async def own_reservation(desk: Desk, code: str) -> Reservation:
    """Only bookings under the caller's number can be changed: a code alone is not enough."""
    number = contact_phone(desk, None)
    wanted = "".join(code.split()).upper()
    found = await desk.db.find_reservations(number, desk.now.date())
    for r in found:
        if r.code == wanted:
            return r
    raise Refusal(
        f"No upcoming booking {wanted} under {number}. Use find_reservations, or ask for the "
        "number the booking was made under."
    )


async def draft_booking(
    desk: Desk, date: str, time: str, party_size: int | str, name: str, phone: str | None,
) -> ReservationDraft:
    """A new booking to read back: every rule and the seating checked, nothing saved yet."""
    day, at, party = read_booking(desk, date, time, party_size)
    clean = clean_name(name)
    number = contact_phone(desk, phone)
    await check_slot(desk, day, at, party)
    return ReservationDraft(
        action="new", day=day, at=at, party_size=party, name=clean, phone=number,
    )


async def draft_change(
    desk: Desk, code: str, date: str | None, time: str | None, party_size: int | str | None,
) -> ReservationDraft:
    current = await own_reservation(desk, code)
    day, at, party = read_booking(desk, date, time, party_size,
                                  was=(current.date, current.time, current.party_size))
    await check_slot(desk, day, at, party, moving=current.code)
    return ReservationDraft(
        action="change", day=day, at=at, party_size=party, name=current.name,
        phone=current.phone, code=current.code,
    )


async def draft_cancel(desk: Desk, code: str) -> ReservationDraft:
    current = await own_reservation(desk, code)
    return ReservationDraft(
        action="cancel", day=current.date, at=current.time, party_size=current.party_size,
        name=current.name, phone=current.phone, code=current.code,
    )


async def correct_draft(
    desk: Desk, r: ReservationDraft | None, date: str | None, time: str | None,
    party_size: int | str | None, name: str | None,
) -> ReservationDraft:
    """A correction during the read-back of a new booking or a change."""
    if r is None or r.action == "cancel":
        raise Refusal("There is no booking being made here; nothing to correct.")
    day, at, party = read_booking(desk, date, time, party_size,
                                  was=(r.day, r.at, r.party_size))
    new_name = clean_name(name) if name else r.name
    await check_slot(desk, day, at, party, moving=r.code)
    r.day, r.at, r.party_size, r.name = day, at, party, new_name
    return r


@dataclass(frozen=True)
class BookingDone:
    kind: Literal["reservation", "change", "cancel"]
    code: str
    status: SaveStatus  # "queued": durable locally, staff confirm once Firestore is back


class BookingGone(Refusal):
    """The booking a change or cancel was drafted for is no longer active: the draft is void."""


async def confirm_draft(desk: Desk, r: ReservationDraft) -> BookingDone:
    """Book, change or cancel as the confirmed draft says. A new booking's number in its
    maker's series (`r.seq`) is fixed before: a retried confirm gives the same code."""
    assert r.day and r.at and r.party_size
    db = desk.db
    seating = desk.settings.seating
    now = desk.now
    try:
        if r.action == "cancel":
            saved = await db.cancel_reservation(r.code or "", call_id=desk.by, now=now,
                                                if_updated_at=r.if_updated_at)
            return BookingDone("cancel", saved.code, "saved")
        if r.action == "change":
            saved = await db.change_reservation(
                r.code or "", new_date=r.day, new_time=r.at, new_party_size=r.party_size,
                call_id=desk.by, seating=seating, now=now, if_updated_at=r.if_updated_at,
            )
            await _reminders_follow(desk, saved)
            return BookingDone("change", saved.code, "saved")
        return await _book(desk, r)
    except SlotFull:
        # names the free times
        await check_slot(desk, r.day, r.at, r.party_size, moving=r.code)
        raise Refusal("That time was just taken; ask for another time.") from None
    except (ReservationNotFound, ReservationCancelled):
        raise BookingGone(
            f"Booking {spell(r.code or '')} is no longer active (cancelled or not "
            "found). Tell the caller and offer a new booking."
        ) from None


async def _reminders_follow(desk: Desk, saved: Reservation) -> None:
    """The changed booking's waiting reminders move with it (store/outbound.py). Never an error
    for the change, which is saved: a reminder left at the old time still says the new one."""
    try:
        queue = OutboundQueue(desk.db.db, Policy.of(desk.settings))
        moved = await queue.follow_booking(saved, desk.clock().astimezone(dt.UTC))
    except Exception:
        log.exception("the reminders of a changed booking could not be moved")
        return
    if moved:
        log.info("reminders moved with the booking: %s", ", ".join(moved))


async def confirm_call_booking(call: CallState) -> BookingDone:
    """The call's confirmed draft booked, changed or cancelled: its number fixed once per draft,
    the draft cleared when done (or void), and what was achieved noted for the call's log."""
    r = call.reservation
    assert r is not None
    if r.action == "new" and r.seq is None:
        # Fixed once per draft so a retried confirm produces the same code, never a twin.
        call.reservation_seq += 1
        r.seq = call.reservation_seq
    try:
        done = await confirm_draft(call.desk, r)
    except BookingGone:
        call.reservation = None
        raise
    if done.kind == "reservation":
        call.ids_created.append(done.code)
    call.reservation = None
    call.outcomes.append(done.kind)
    return done


async def _book(desk: Desk, r: ReservationDraft) -> BookingDone:
    assert r.day and r.at and r.party_size and r.seq is not None
    now = desk.now
    for attempt in range(CODE_ATTEMPTS):
        code = reservation_code(desk.by, r.seq, attempt)
        res = Reservation(
            code=code, date=r.day, time=r.at, party_size=r.party_size, name=r.name or "",
            phone=r.phone or "", call_id=desk.by, created_at=now, updated_at=now,
            history=[ReservationChange(at=now, call_id=desk.by, action="created")],
            language=desk.language,  # its reminder speaks it
        )
        try:
            result = await desk.db.book_reservation(res, desk.settings.seating, now.date())
        except CodeTaken:
            continue
        return BookingDone("reservation", code, result.status)
    raise RuntimeError("could not find a free reservation code")
