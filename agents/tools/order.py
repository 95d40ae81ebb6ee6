"""The pickup order: add, the usual, change, remove, list, name and phone, review."""

from __future__ import annotations

from livekit.agents import Agent, RunContext
from pydantic import BaseModel, Field

from actions import orders
from agents.readback import order_readback, order_text
from agents.tools.base import confirming, hand_off, tool
from conversation.state import UserData
from domain.contact import spoken
from domain.pricing import describe_line, money
from domain.refusal import Refusal


# A deliberate same-shape pair (`duplicates`) with change_item below and with
# domain/pricing.build_line: each tool spells out its own arguments, because that signature is
# the schema the model is given; they mirror the line build_line makes from them.
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
    follow_on = not userdata.cart and "order" in userdata.outcomes
    reading_back = confirming(context, adding=True)
    line = orders.add_line(userdata.desk, userdata.cart, item, quantity, size, options,
                           special_instructions)
    if reading_back:
        if follow_on:
            return ("The order already placed stays as it is; this is a second order, not yet "
                    "placed. Read it back and ask whether to place it: " + order_readback(userdata))
        return order_readback(userdata)
    price = money(line.line_price_cents)
    return f"Added {describe_line(line)}, {price}. {order_text(userdata)}"


class ItemWanted(BaseModel):
    """One item of several said together."""

    item: str = Field(description='The item as the caller said it, e.g. "two large lattes"')
    quantity: int | str | None = None
    size: str | None = None
    options: list[str] | None = Field(default=None, description='e.g. ["oat milk"]')
    special_instructions: str = ""


@tool
async def add_items(context: RunContext[UserData], items: list[ItemWanted]) -> str:
    """Add several menu items said together ("a latte, two croissants and a BLT") in one
    call: each is added or refused on its own, and the result says which.

    Args:
        items: Every item the caller named, each with what they said about it.
    """
    userdata = context.userdata
    confirming(context, adding=True)
    added, refused = orders.add_lines(
        userdata.desk, userdata.cart, [w.model_dump() for w in items])
    if not added:
        raise Refusal("Nothing was added: " + "; ".join(refused)
                      + ". Ask the caller about each.")
    text = "Added: " + "; ".join(f"{describe_line(x)}, {money(x.line_price_cents)}"
                                for x in added) + "."
    if refused:
        text += (" NOT added (tell the caller, and ask about each): " + "; ".join(refused)
                 + ".")
    return f"{text} {order_text(userdata)}"


@tool
async def order_the_usual(context: RunContext[UserData]) -> str:
    """A returning caller wants "the usual": add their last order again, at today's prices."""
    userdata = context.userdata
    usual = orders.add_usual(userdata.services.catalog.menu, userdata.cart, userdata.usual)
    note = f" Not available today: {', '.join(usual.skipped)}." if usual.skipped else ""
    if not usual.added:
        return f"None of the usual order is available today.{note} Ask what they'd like instead."
    added = ", ".join(describe_line(line) for line in usual.added)
    return f"Added the usual: {added}.{note} {order_text(userdata)}"


# A deliberate same-shape pair (`duplicates`) with add_item above: the model's schema for a
# line, each tool declaring its own arguments.
@tool
async def change_item(
    context: RunContext[UserData],
    line_number: int,
    quantity: int | str | None = None,
    size: str | None = None,
    options: list[str] | None = None,
    remove_options: list[str] | None = None,
    special_instructions: str | None = None,
    item: str | None = None,
) -> str:
    """Change a line of the order (numbered from 1 as in list_order and the read-back). What
    is not mentioned stays as it was.

    Args:
        line_number: Which line to change.
        quantity: New quantity, 1 to 20.
        size: New size.
        options: Choices to add, e.g. ["vanilla"]; a milk replaces the milk already chosen.
            The line's other choices are kept.
        remove_options: Choices to take off, e.g. ["oat milk"] for "no oat milk".
        special_instructions: New kitchen note ("" to clear).
        item: Another menu item in this line's place ("make the latte a cappuccino"),
            keeping its quantity, size and the choices the new item offers.
    """
    userdata = context.userdata
    reading_back = confirming(context)
    old = userdata.cart.lines[orders.line_index(userdata.cart, line_number)]
    changed = orders.change_line(
        userdata.desk, userdata.cart, line_number, quantity, size, options, special_instructions,
        remove_options=remove_options, item=item,
    )
    dropped = (f" Tell the caller {', '.join(changed.dropped)} is not offered on "
               f"{changed.line.name}, so it was left off." if changed.dropped else "")
    if reading_back:
        return order_readback(userdata) + dropped
    was = f" (was {describe_line(old)})" if changed.line.item_id != old.item_id else ""
    return (f"Changed line {line_number} to {describe_line(changed.line)}{was}.{dropped} "
            f"{order_text(userdata)}")


@tool
async def remove_item(context: RunContext[UserData], line_number: int) -> str:
    """Remove a line of the order (numbered from 1 as in list_order and the read-back).

    Args:
        line_number: Which line to remove.
    """
    userdata = context.userdata
    reading_back = confirming(context)
    removed = orders.remove_line(userdata.cart, line_number)
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
    context: RunContext[UserData], name: str | None = None, phone: str | None = None
) -> str:
    """Record or correct the name the order is under and a contact phone.

    Args:
        name: The caller's name for the order; omit it to keep the name already given.
        phone: A contact number if the caller gave one; leave empty to keep the number already
            given, else the caller ID.
    """
    userdata = context.userdata
    reading_back = confirming(context)
    clean, number = orders.set_contact(userdata, name, phone)
    userdata.collecting_phone = False
    if reading_back:
        return order_readback(userdata)
    note = orders.no_callback(userdata.settings, number)
    return f"Order under {clean}, phone {spoken(number)}." + (
        f" Note: {note}; say so only if the caller asks for a call or a text." if note else "")


@tool
async def review_order(context: RunContext[UserData]) -> Agent:
    """The caller has finished ordering: hand over to read the order back and confirm it."""
    userdata = context.userdata
    userdata.cart.check_ready(userdata.settings, userdata.now)
    return hand_off(context, "confirmation")


