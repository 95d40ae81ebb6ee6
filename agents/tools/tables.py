"""Tables: availability, a new booking, finding, changing and cancelling one."""

from __future__ import annotations

from livekit.agents import Agent, RunContext

from actions import reservations
from agents.tools.base import hand_off, tool
from conversation.state import UserData
from domain.spoken import spoken_in

ENGLISH = spoken_in("en")  # what the tools tell the model


@tool
async def check_availability(
    context: RunContext[UserData], date: str, time: str, party_size: int | str
) -> str:
    """Whether a table is free. Call as soon as date, time and party size are known.

    Args:
        date: The day as said ("tomorrow", "Friday", "Nov 21") or YYYY-MM-DD.
        time: The time as said ("7pm", "7:30 PM") or HH:MM 24-hour.
        party_size: Number of people, e.g. 4.
    """
    userdata = context.userdata
    day, at, party = await reservations.check_availability(userdata.desk, date, time, party_size)
    now = userdata.now
    return f"A table for {party} {ENGLISH.when(day, at, now.date(), now.time())} is available."


@tool
async def book_table(
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
    userdata.reservation = await reservations.draft_booking(
        userdata.desk, date, time, party_size, name, phone)
    return hand_off(context, "confirmation")


@tool
async def find_reservations(context: RunContext[UserData], phone: str | None = None) -> str:
    """The caller's upcoming reservations, found by phone number.

    Args:
        phone: The number the booking is under; empty to use the caller ID.
    """
    userdata = context.userdata
    found = await reservations.find_reservations(userdata.desk, userdata.cart, phone)
    if not found:
        return "No upcoming reservations under that number. Ask if it was under another number."
    now = userdata.now
    return "Upcoming: " + "; ".join(
        f"code {r.code}: {r.party_size} people "
        f"{ENGLISH.when(r.date, r.time, now.date(), now.time())}, name {r.name}" for r in found
    )


@tool
async def change_reservation(
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
    userdata.reservation = await reservations.draft_change(
        userdata.desk, code, date, time, party_size)
    return hand_off(context, "confirmation")


@tool
async def cancel_reservation(context: RunContext[UserData], code: str) -> Agent:
    """Cancel the caller's existing booking (after they confirm).

    Args:
        code: The booking code from find_reservations.
    """
    userdata = context.userdata
    userdata.reservation = await reservations.draft_cancel(userdata.desk, code)
    return hand_off(context, "confirmation")


