"""Every tool the agents offer, declared once; each agent picks its list (see `agents/*.py`).

Tools are thin: they take the model's arguments, call an action (`actions/`), and word the
result for the model. A `Refusal` from an action becomes a `ToolError` here, in `tool`, and
only here; the third problem in a row also points the model to staff.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from livekit.agents import Agent, FunctionTool, RunContext, ToolError, function_tool

import booking
from actions import messages, orders, reservations, staff
from actions.reservations import spell
from agents.readback import order_readback, order_text, reservation_readback
from call_state import UserData
from contact import spoken
from pricing import describe_item, describe_line, money
from refusal import Refusal

logger = logging.getLogger("restaurant.agents")

ERRORS_BEFORE_STAFF = 3


def _context_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> RunContext[UserData]:
    return next(a for a in (*args, *kwargs.values()) if isinstance(a, RunContext))


def tool(fn: Callable[..., Awaitable[Any]]) -> FunctionTool:
    """A LiveKit tool whose Refusals reach the model as ToolErrors saying what to ask."""

    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        userdata = _context_of(args, kwargs).userdata
        try:
            result = await fn(*args, **kwargs)
        except Refusal as e:
            userdata.tool_errors_in_a_row += 1
            message = str(e)
            if userdata.tool_errors_in_a_row >= ERRORS_BEFORE_STAFF:
                message += (
                    " This is the third problem in a row: apologise and offer to connect the "
                    "caller with a member of staff (transfer_to_staff)."
                )
            raise ToolError(message) from None
        userdata.tool_errors_in_a_row = 0
        return result

    return function_tool(run)


def hand_off(context: RunContext[UserData], name: str) -> Agent:
    """The next agent itself (no tuple), so the current one does not speak a transfer line."""
    userdata = context.userdata
    userdata.prev_agent = context.session.current_agent
    return userdata.agents[name]


def _confirming(context: RunContext[UserData]) -> bool:
    """Cart changes during the read-back are answered with the new read-back."""
    confirming = getattr(context.session.current_agent, "reads_back_changes", False)
    if confirming and (context.userdata.reservation is not None or not context.userdata.cart):
        raise Refusal("There is no order being confirmed.")
    return confirming


# ---------------------------------------------------------------- every agent


@tool
async def transfer_to_staff(context: RunContext[UserData], reason: str) -> str | None:
    """Connect the caller to a member of staff: when they ask for a person, for a party
    larger than we book by phone, or after repeated problems.

    Args:
        reason: Why the caller needs a person, in a few words.
    """
    userdata = context.userdata
    userdata.note_intent("transfer")
    destination = staff.staff_line(userdata)
    if destination is None:
        return (
            "No one can take the call right now (we are closed). Apologise and offer to take "
            "a message for staff: ask for name, phone number and the reason, then use "
            "take_message."
        )
    speech = context.session.say("Of course, I'll connect you with a member of our team now.")
    await speech.wait_for_playout()
    try:
        await staff.transfer_to_staff(userdata, destination)
    except Exception:
        logger.exception("transfer to staff failed", extra={"call_id": userdata.call_id})
        return (
            "The transfer failed: nobody picked up. Apologise and offer to take a message "
            "(name, phone number, reason) with take_message."
        )
    logger.info("caller transferred to staff", extra={"call_id": userdata.call_id})
    return None  # the caller has left for staff: no reply to generate


@tool
async def take_message(
    context: RunContext[UserData], name: str, reason: str, phone: str | None = None
) -> str:
    """Save a call-back request for staff when no one can take the call.

    Args:
        name: The caller's name.
        reason: What the caller needs, in a sentence.
        phone: The number to call back; leave empty to use the caller ID.
    """
    saved = await messages.take_message(context.userdata, name, reason, phone)
    if saved is None:
        return "The message is already saved. Tell the caller staff will call back."
    return (
        "Message saved. Tell the caller staff will call them back, then ask if there is "
        "anything else."
    )


@tool
async def end_call(context: RunContext[UserData]) -> None:
    """Say goodbye and hang up. Call only when the caller is done (e.g. "that's all, bye")
    and nothing is waiting for their confirmation."""
    userdata = context.userdata
    userdata.ended_by_agent = True
    session = context.session
    goodbye = f"Thank you for calling {userdata.settings.name}. Goodbye!"
    speech = session.say(goodbye, allow_interruptions=False)
    # Hang up only after the goodbye has been heard; closing the session ends the call.
    speech.add_done_callback(lambda _: session.shutdown())


EVERY_AGENT = [transfer_to_staff, take_message, end_call]


# ---------------------------------------------------------------- routing and questions


@tool
async def start_order(context: RunContext[UserData]) -> Agent:
    """The caller wants to order food or drinks for pickup."""
    context.userdata.note_intent("order")
    return hand_off(context, "order")


@tool
async def start_reservation(
    context: RunContext[UserData], action: Literal["new", "change", "cancel"] = "new"
) -> Agent:
    """The caller wants to book a table, or change or cancel a booking they have.

    Args:
        action: new booking, change an existing one, or cancel one.
    """
    context.userdata.note_intent("reservation")
    return hand_off(context, "reservation")


@tool
async def menu_info(context: RunContext[UserData], query: str) -> str:
    """Facts about the menu: one dish (price, sizes, options, allergens) or a group of dishes
    (a category like "pastries", a diet like "vegan", an allergen like "nuts").

    Args:
        query: The dish, category, diet or allergen the caller asked about.
    """
    userdata = context.userdata
    userdata.note_intent("info")
    userdata.questions_answered += 1
    menu = userdata.services.catalog.menu
    group = menu.matching(query)
    if group:
        names = [i.name + ("" if i.available else " (sold out)") for i in group]
        return f"Dishes matching '{query}': {', '.join(names)}."
    heard = menu.hear(query)
    if heard is not None:
        return describe_item(heard.item)
    hints = menu.suggestions(query)
    return (
        f"Nothing on the menu matches '{query}'."
        + (f" Closest: {', '.join(hints)}." if hints else "")
    )


# ---------------------------------------------------------------- the order


@tool
async def add_item(
    context: RunContext[UserData],
    item: str,
    quantity: int = 1,
    size: str | None = None,
    options: list[str] | None = None,
    special_instructions: str = "",
) -> str:
    """Add a menu item to the order.

    Args:
        item: The item as the caller said it, e.g. "large cappuccino" or "blt".
        quantity: How many, 1 to 20.
        size: small, medium or large when the item has sizes and the caller said one.
        options: Choices the caller named, e.g. ["oat milk", "extra shot"] or ["rye"].
        special_instructions: A short kitchen note, e.g. "no tomato".
    """
    userdata = context.userdata
    confirming = _confirming(context)
    line = orders.add_line(userdata, item, quantity, size, options, special_instructions)
    if confirming:
        return order_readback(userdata)
    price = money(line.line_price_cents)
    return f"Added {describe_line(line)}, {price}. {order_text(userdata)}"


@tool
async def order_the_usual(context: RunContext[UserData]) -> str:
    """A returning caller wants "the usual": add their last order again, at today's prices."""
    userdata = context.userdata
    usual = orders.add_usual(userdata)
    note = f" Not available today: {', '.join(usual.skipped)}." if usual.skipped else ""
    if not usual.added:
        return f"None of the usual order is available today.{note} Ask what they'd like instead."
    added = ", ".join(describe_line(line) for line in usual.added)
    return f"Added the usual: {added}.{note} {order_text(userdata)}"


@tool
async def change_item(
    context: RunContext[UserData],
    line_number: int,
    quantity: int | None = None,
    size: str | None = None,
    options: list[str] | None = None,
    special_instructions: str | None = None,
) -> str:
    """Change a line of the order (numbered from 1 as in list_order and the read-back).

    Args:
        line_number: Which line to change.
        quantity: New quantity, 1 to 20.
        size: New size.
        options: The full new list of choices for this line.
        special_instructions: New kitchen note ("" to clear).
    """
    userdata = context.userdata
    confirming = _confirming(context)
    line = orders.change_line(
        userdata, line_number, quantity, size, options, special_instructions
    )
    if confirming:
        return order_readback(userdata)
    return f"Changed line {line_number} to {describe_line(line)}. {order_text(userdata)}"


@tool
async def remove_item(context: RunContext[UserData], line_number: int) -> str:
    """Remove a line of the order (numbered from 1 as in list_order and the read-back).

    Args:
        line_number: Which line to remove.
    """
    userdata = context.userdata
    confirming = _confirming(context)
    removed = orders.remove_line(userdata, line_number)
    if confirming:
        if not userdata.cart:
            return "The order is now empty. Ask what the caller would like instead."
        return order_readback(userdata)
    rest = order_text(userdata) if userdata.cart else "The order is now empty."
    return f"Removed {describe_line(removed)}. {rest}"


@tool
async def list_order(context: RunContext[UserData]) -> str:
    """What is in the order so far, with prices and total."""
    userdata = context.userdata
    return order_text(userdata) if userdata.cart else "The order is empty."


@tool
async def set_customer(
    context: RunContext[UserData], name: str, phone: str | None = None
) -> str:
    """Record or correct the name the order is under and a contact phone.

    Args:
        name: The caller's name for the order.
        phone: A contact number if the caller gave one; leave empty to keep the number already
            given, else the caller ID.
    """
    userdata = context.userdata
    confirming = _confirming(context)
    clean, number = orders.set_contact(userdata, name, phone)
    if confirming:
        return order_readback(userdata)
    return f"Order under {clean}, phone {spoken(number)}."


@tool
async def review_order(context: RunContext[UserData]) -> Agent:
    """The caller has finished ordering: hand over to read the order back and confirm it."""
    userdata = context.userdata
    userdata.cart.check_ready(userdata.settings, userdata.now)
    return hand_off(context, "confirmation")


# ---------------------------------------------------------------- tables


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


# ---------------------------------------------------------------- the read-back


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
    context: RunContext[UserData], date: dt.date | None = None, time: dt.time | None = None,
    party_size: int | None = None, name: str | None = None,
) -> str:
    """Correct the booking being confirmed.

    Args:
        date: New day, YYYY-MM-DD.
        time: New time, HH:MM 24-hour.
        party_size: New number of people.
        name: New name.
    """
    userdata = context.userdata
    await reservations.correct_draft(userdata, date, time, party_size, name)
    return reservation_readback(userdata)
