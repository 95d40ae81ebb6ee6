"""The pickup order: add, the usual, change, remove, list, name and phone, review."""

from __future__ import annotations

from livekit.agents import Agent, RunContext

from actions import orders
from agents.readback import order_readback, order_text
from agents.tools.base import confirming, hand_off, tool
from conversation.state import UserData
from domain.contact import spoken
from domain.pricing import describe_line, money


@tool
async def add_item(
    context: RunContext[UserData],
    item: str,
    quantity: int | str | None = None,
    size: str | None = None,
    options: list[str] | None = None,
    special_instructions: str = "",
) -> str:
    """Add a menu item to the order. Everything the caller said about it must fit the menu;
    the tool names any words it could not place.

    Args:
        item: The item as the caller said it, e.g. "two large oat milk lattes" or "blt".
        quantity: How many, 1 to 20 (or leave it in the item text).
        size: small, medium or large when the item has sizes and the caller said one.
        options: Choices the caller named, e.g. ["oat milk", "extra shot"] or ["rye"].
        special_instructions: A short kitchen note, e.g. "no tomato".
    """
    userdata = context.userdata
    reading_back = confirming(context)
    line = orders.add_line(userdata, item, quantity, size, options, special_instructions)
    if reading_back:
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
    quantity: int | str | None = None,
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
    reading_back = confirming(context)
    line = orders.change_line(
        userdata, line_number, quantity, size, options, special_instructions
    )
    if reading_back:
        return order_readback(userdata)
    return f"Changed line {line_number} to {describe_line(line)}. {order_text(userdata)}"


@tool
async def remove_item(context: RunContext[UserData], line_number: int) -> str:
    """Remove a line of the order (numbered from 1 as in list_order and the read-back).

    Args:
        line_number: Which line to remove.
    """
    userdata = context.userdata
    reading_back = confirming(context)
    removed = orders.remove_line(userdata, line_number)
    if reading_back:
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
    reading_back = confirming(context)
    clean, number = orders.set_contact(userdata, name, phone)
    if reading_back:
        return order_readback(userdata)
    return f"Order under {clean}, phone {spoken(number)}."


@tool
async def review_order(context: RunContext[UserData]) -> Agent:
    """The caller has finished ordering: hand over to read the order back and confirm it."""
    userdata = context.userdata
    userdata.cart.check_ready(userdata.settings, userdata.now)
    return hand_off(context, "confirmation")


