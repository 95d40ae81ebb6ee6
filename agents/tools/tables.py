"""Tables: availability, a new booking, finding, changing and cancelling one."""

from __future__ import annotations

import datetime as dt

from livekit.agents import Agent, RunContext

import booking
from actions import reservations
from agents.tools.base import hand_off, tool
from call_state import UserData


@tool
async def check_availability(
    context: RunContext[UserData], date: dt.date, time: dt.time, party_size: int
) -> str:
    """Whether a table is free. Call as soon as date, time and party size are known.

    Args:
        date: The day, YYYY-MM-DD.
        time: The time, HH:MM 24-hour.
        party_size: Number of people.
    """
    userdata = context.userdata
    await reservations.check_slot(userdata, date, time, party_size)
    day = booking.say_day(date, userdata.now.date())
    return f"A table for {party_size} {day} at {booking.say_time(time)} is available."


@tool
async def book_table(
    context: RunContext[UserData],
    date: dt.date,
    time: dt.time,
    party_size: int,
    name: str,
    phone: str | None = None,
) -> Agent:
    """Book a table once date, time, party size and name are known; reads it back for the
    caller to confirm.

    Args:
        date: The day, YYYY-MM-DD.
        time: The time, HH:MM 24-hour.
        party_size: Number of people.
        name: Name for the booking.
        phone: Contact number if the caller gave one; empty to use the caller ID.
    """
    await reservations.draft_booking(context.userdata, date, time, party_size, name, phone)
    return hand_off(context, "confirmation")


@tool
async def find_reservations(context: RunContext[UserData], phone: str | None = None) -> str:
    """The caller's upcoming reservations, found by phone number.

    Args:
        phone: The number the booking is under; empty to use the caller ID.
    """
    userdata = context.userdata
    found = await reservations.find_reservations(userdata, phone)
    if not found:
        return "No upcoming reservations under that number. Ask if it was under another number."
    today = userdata.now.date()
    return "Upcoming: " + "; ".join(
        f"code {r.code}: {r.party_size} people {booking.say_day(r.date, today)} at "
        f"{booking.say_time(r.time)}, name {r.name}" for r in found
    )


@tool
async def change_reservation(
    context: RunContext[UserData],
    code: str,
    date: dt.date | None = None,
    time: dt.time | None = None,
    party_size: int | None = None,
) -> Agent:
    """Change the caller's existing booking; reads the change back for confirmation.

    Args:
        code: The booking code from find_reservations.
        date: New day, YYYY-MM-DD, if it changes.
        time: New time, HH:MM, if it changes.
        party_size: New number of people, if it changes.
    """
    await reservations.draft_change(context.userdata, code, date, time, party_size)
    return hand_off(context, "confirmation")


@tool
async def cancel_reservation(context: RunContext[UserData], code: str) -> Agent:
    """Cancel the caller's existing booking (after they confirm).

    Args:
        code: The booking code from find_reservations.
    """
    await reservations.draft_cancel(context.userdata, code)
    return hand_off(context, "confirmation")


