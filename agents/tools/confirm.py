"""The read-back: confirm, decline, and correcting a booking in place."""

from __future__ import annotations

from livekit.agents import Agent, RunContext

import booking
from actions import orders, reservations
from actions.reservations import spell
from agents.readback import reservation_readback
from agents.tools.base import hand_off, tool
from call_state import UserData
from pricing import money


@tool
async def confirm(context: RunContext[UserData]) -> str:
    """The caller said yes to the read-back: save it."""
    userdata = context.userdata
    if userdata.reservation is None and not userdata.cart and userdata.last_confirmation:
        # A second "yes" (or a repeated tool call) must not save a twin.
        return f"Already done, nothing new saved. {userdata.last_confirmation}"
    if userdata.reservation is not None:
        text = _booking_said(await reservations.confirm_draft(userdata))
    else:
        text = _order_said(userdata, await orders.place_order(userdata))
    userdata.last_confirmation = text
    return text


def _order_said(userdata: UserData, placed: orders.PlacedOrder) -> str:
    order = placed.order
    if placed.status == "queued":
        return (
            f"The order is noted as number {spell(order.order_number)} but our system could "
            "not confirm it just now; staff will call to confirm. Tell the caller exactly "
            "that, and ask if there is anything else."
        )
    pickup = booking.say_time(
        order.pickup_time.astimezone(userdata.settings.tz).time()
    )
    return (
        f"Order placed: number {spell(order.order_number)}, total {money(order.total_cents)} "
        f"paid at pickup, ready at about {pickup}. Tell the caller, and ask if there is "
        "anything else."
    )


def _booking_said(done: reservations.BookingDone) -> str:
    if done.kind == "cancel":
        text = f"Booking {spell(done.code)} is cancelled."
    elif done.kind == "change":
        text = f"Booking {spell(done.code)} is changed."
    elif done.status == "queued":
        text = (
            f"The booking is noted under code {spell(done.code)}, but our system could not "
            "confirm it just now; staff will call to confirm."
        )
    else:
        text = f"Booked: code {spell(done.code)}."
    return text + " Tell the caller, and ask if there is anything else."


@tool
async def decline(context: RunContext[UserData]) -> Agent:
    """The caller said no to the read-back and wants to change it with the previous agent."""
    userdata = context.userdata
    target = "reservation" if userdata.reservation is not None else "order"
    userdata.reservation = None
    return hand_off(context, target)


@tool
async def update_booking(
    context: RunContext[UserData], date: str | None = None, time: str | None = None,
    party_size: int | str | None = None, name: str | None = None,
) -> str:
    """Correct the booking being confirmed.

    Args:
        date: New day, as said ("Saturday") or YYYY-MM-DD.
        time: New time, as said ("8pm") or HH:MM 24-hour.
        party_size: New number of people.
        name: New name.
    """
    userdata = context.userdata
    await reservations.correct_draft(userdata, date, time, party_size, name)
    return reservation_readback(userdata)
