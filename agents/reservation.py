"""The agent that books, changes and cancels tables; every rule is checked in code."""

from __future__ import annotations

import datetime as dt

from livekit.agents import Agent, RunContext, function_tool

import booking
from agents.base import PHONE_MANNER, BaseAgent, caller_must_fix
from agents.userdata import ReservationDraft, UserData
from contact import clean_name, number_or_caller_id
from models import Reservation
from refusal import Refusal
from seating import minute_of


def instructions(userdata: UserData) -> str:
    s = userdata.settings
    now = userdata.now
    return (
        f"You handle table reservations for {s.name}. Today is {now.strftime('%A %Y-%m-%d')}, "
        f"the time is {now.strftime('%H:%M')}, time zone {s.timezone}. Pass the date and time "
        "as the caller said them ('tomorrow', 'Friday', '7:30 PM') or as YYYY-MM-DD and HH:MM. "
        f"Hours: {booking.hours_text(s)}. We book parties of 1 to {s.max_party_size}. "
        f"{PHONE_MANNER}\n"
        "New booking: once you know date, time and party size, call check_availability; with a "
        "name too, call book_table (it checks everything and reads the booking back). The phone "
        "defaults to the caller ID.\n"
        "Change or cancel: find_reservations (by the caller's phone), then change_reservation or "
        "cancel_reservation with the code. Parties above the maximum: transfer_to_staff."
    )


async def check_slot(
    userdata: UserData, day: dt.date, at: dt.time, party: int, *, moving: str | None = None
) -> None:
    """Rules plus the dining room as booked now; `moving` is the caller's own booking, whose
    table is theirs to keep when they change it."""
    s = userdata.settings
    booking.check_booking(s, userdata.now, day, at, party)
    holds = [h for h in await userdata.services.db.holds_on(day) if h.code != moving]
    if s.seating.fit(holds, minute_of(at), party) is None:
        options = booking.nearest_free_times(s, userdata.now, day, at, party, holds)
        offer = (
            f" Nearest free times that day: {', '.join(booking.say_time(t) for t in options)}."
            if options else " Nothing else is free that day; offer another day."
        )
        raise Refusal(f"{booking.say_time(at)} is fully booked for {party}.{offer}")


class ReservationAgent(BaseAgent):
    def __init__(self, userdata: UserData) -> None:
        super().__init__(instructions=instructions(userdata))

    @function_tool
    async def check_availability(
        self, context: RunContext[UserData], date: str, time: str, party_size: int | str
    ) -> str:
        """Whether a table is free. Call as soon as date, time and party size are known.

        Args:
            date: The day as said ("tomorrow", "Friday", "Nov 21") or YYYY-MM-DD.
            time: The time as said ("7pm", "7:30 PM") or HH:MM 24-hour.
            party_size: Number of people, e.g. 4.
        """
        userdata = context.userdata
        with caller_must_fix(userdata):
            day, at, party = read_booking(userdata, date, time, party_size)
            await check_slot(userdata, day, at, party)
        when = booking.say_day(day, userdata.now.date())
        return f"A table for {party} {when} at {booking.say_time(at)} is available."

    @function_tool
    async def book_table(
        self,
        context: RunContext[UserData],
        date: str,
        time: str,
        party_size: int | str,
        name: str,
        phone: str | None = None,
    ) -> Agent:
        """Book a table once date, time, party size and name are known; reads it back for the
        caller to confirm.

        Args:
            date: The day as said ("tomorrow", "Friday") or YYYY-MM-DD.
            time: The time as said ("7pm", "7:30 PM") or HH:MM 24-hour.
            party_size: Number of people, e.g. 4.
            name: Name for the booking.
            phone: Contact number if the caller gave one; empty to use the caller ID.
        """
        userdata = context.userdata
        with caller_must_fix(userdata):
            day, at, party = read_booking(userdata, date, time, party_size)
            clean = clean_name(name)
            number = contact_phone(userdata, phone)
            await check_slot(userdata, day, at, party)
        userdata.reservation = ReservationDraft(
            action="new", day=day, at=at, party_size=party, name=clean, phone=number,
        )
        return self._handoff(context, "confirmation")

    @function_tool
    async def find_reservations(
        self, context: RunContext[UserData], phone: str | None = None
    ) -> str:
        """The caller's upcoming reservations, found by phone number.

        Args:
            phone: The number the booking is under; empty to use the caller ID.
        """
        userdata = context.userdata
        with caller_must_fix(userdata):
            number = contact_phone(userdata, phone)
        found = await userdata.services.db.find_reservations(number, userdata.now.date())
        userdata.customer_phone = number
        if not found:
            return "No upcoming reservations under that number. Ask if it was under another number."
        today = userdata.now.date()
        return "Upcoming: " + "; ".join(
            f"code {r.code}: {r.party_size} people {booking.say_day(r.date, today)} at "
            f"{booking.say_time(r.time)}, name {r.name}" for r in found
        )

    @function_tool
    async def change_reservation(
        self,
        context: RunContext[UserData],
        code: str,
        date: str | None = None,
        time: str | None = None,
        party_size: int | str | None = None,
    ) -> Agent:
        """Change the caller's existing booking; reads the change back for confirmation.

        Args:
            code: The booking code from find_reservations.
            date: New day if it changes, as said ("Saturday") or YYYY-MM-DD.
            time: New time if it changes, as said ("8pm") or HH:MM.
            party_size: New number of people, if it changes.
        """
        userdata = context.userdata
        with caller_must_fix(userdata):
            current = await own_reservation(userdata, code)
            day, at, party = read_booking(
                userdata, date, time, party_size,
                was=(current.date, current.time, current.party_size),
            )
            await check_slot(userdata, day, at, party, moving=current.code)
        userdata.reservation = ReservationDraft(
            action="change", day=day, at=at, party_size=party, name=current.name,
            phone=current.phone, code=current.code,
        )
        return self._handoff(context, "confirmation")

    @function_tool
    async def cancel_reservation(self, context: RunContext[UserData], code: str) -> Agent:
        """Cancel the caller's existing booking (after they confirm).

        Args:
            code: The booking code from find_reservations.
        """
        userdata = context.userdata
        with caller_must_fix(userdata):
            current = await own_reservation(userdata, code)
        userdata.reservation = ReservationDraft(
            action="cancel", day=current.date, at=current.time, party_size=current.party_size,
            name=current.name, phone=current.phone, code=current.code,
        )
        return self._handoff(context, "confirmation")

    @function_tool
    async def start_order(self, context: RunContext[UserData]) -> Agent:
        """The caller wants to order food for pickup instead."""
        context.userdata.note_intent("order")
        return self._handoff(context, "order")


def read_booking(
    userdata: UserData, date: str | None, time: str | None, party_size: int | str | None,
    was: tuple[dt.date | None, dt.time | None, int | None] = (None, None, None),
) -> tuple[dt.date, dt.time, int]:
    """Day, time and party as the model passed them (natural or ISO), or what they `was`."""
    s, now = userdata.settings, userdata.now
    day = booking.read_day(s, now, date) if date else was[0]
    at = booking.read_time(s, day or now.date(), time) if time else was[1]
    party = booking.read_party(party_size) if party_size not in (None, "") else was[2]
    if day is None or at is None or party is None:
        missing = [n for n, v in (("date", day), ("time", at), ("party_size", party)) if not v]
        raise Refusal(f"Ask the caller for the {' and '.join(missing)} of the booking.")
    return day, at, party


def contact_phone(userdata: UserData, phone: str | None) -> str:
    # A number already given in this call wins over the caller ID.
    known = userdata.customer_phone or userdata.caller_phone
    return number_or_caller_id(phone, known, "ask for the caller's phone number.")


async def own_reservation(userdata: UserData, code: str) -> Reservation:
    """Only bookings under the caller's number can be changed: a code alone is not enough."""
    number = contact_phone(userdata, None)
    wanted = "".join(code.split()).upper()
    found = await userdata.services.db.find_reservations(number, userdata.now.date())
    for r in found:
        if r.code == wanted:
            return r
    raise Refusal(
        f"No upcoming booking {wanted} under {number}. Use find_reservations, or ask for the "
        "number the booking was made under."
    )
