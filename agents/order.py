"""The agent that takes a pickup order: items from the live menu, priced in code."""

from __future__ import annotations

from datetime import datetime

from livekit.agents import Agent, RunContext, function_tool

from agents.base import PHONE_MANNER, BaseAgent, caller_must_fix
from agents.intent_classifier import menu_answer
from agents.userdata import UserData
from booking import check_pickup, say_time
from contact import clean_name, number_or_caller_id, spoken
from pricing import build_line, describe_line, money, pickup_time, totals
from refusal import Refusal


def instructions(userdata: UserData) -> str:
    s = userdata.settings
    return (
        f"You take pickup orders for {s.name}. {PHONE_MANNER}\n"
        "Add each item with add_item as soon as the caller names it (pass what they said; the "
        "tool matches the menu, sizes and options and prices it). Ask only for what a tool says "
        "is missing. Use change_item/remove_item for changes, list_order to recap, menu_info for "
        "questions, order_the_usual when a returning caller asks for their usual. Get a name "
        "for the order with set_customer (the phone defaults to the caller ID). When the caller "
        "is done ordering, call review_order.\n"
        f"Menu:\n{userdata.services.catalog.menu.prompt_text()}"
    )


def _order_line_text(userdata: UserData) -> str:
    subtotal, tax, total = totals(userdata.cart, userdata.settings.tax_rate)
    lines = "; ".join(f"#{n} {describe_line(x)} {money(x.line_price_cents)}"
                      for n, x in enumerate(userdata.cart, 1))
    return f"Order now: {lines}. Subtotal {money(subtotal)}, tax {money(tax)}, total {money(total)}"


class OrderAgent(BaseAgent):
    def __init__(self, userdata: UserData) -> None:
        super().__init__(instructions=instructions(userdata))
        self._menu_seen = userdata.services.catalog.menu

    def stale_instructions(self) -> str | None:
        # A sold-out change reaches this call on its next LLM request.
        menu = self.userdata.services.catalog.menu
        if menu is self._menu_seen:
            return None
        self._menu_seen = menu
        return instructions(self.userdata)

    @function_tool
    async def add_item(
        self,
        context: RunContext[UserData],
        item: str,
        quantity: int | str | None = None,
        size: str | None = None,
        options: list[str] | None = None,
        special_instructions: str = "",
    ) -> str:
        """Add a menu item to the order. Everything the caller said about it must fit the
        menu; the tool names any words it could not place.

        Args:
            item: The item as the caller said it, e.g. "two large oat milk lattes" or "blt".
            quantity: How many, 1 to 20 (or leave it in the item text).
            size: small, medium or large when the item has sizes and the caller said one.
            options: Choices the caller named, e.g. ["oat milk", "extra shot"] or ["rye"].
            special_instructions: A short kitchen note, e.g. "no tomato".
        """
        return add_line(context.userdata, item, quantity, size, options, special_instructions)

    @function_tool
    async def order_the_usual(self, context: RunContext[UserData]) -> str:
        """A returning caller wants "the usual": add their last order again, at today's prices."""
        return add_usual(context.userdata)

    @function_tool
    async def change_item(
        self,
        context: RunContext[UserData],
        line_number: int,
        quantity: int | str | None = None,
        size: str | None = None,
        options: list[str] | None = None,
        special_instructions: str | None = None,
    ) -> str:
        """Change a line of the order (numbered from 1 as in list_order).

        Args:
            line_number: Which line to change.
            quantity: New quantity, 1 to 20.
            size: New size.
            options: The full new list of choices for this line.
            special_instructions: New kitchen note ("" to clear).
        """
        return change_line(
            context.userdata, line_number, quantity, size, options, special_instructions
        )

    @function_tool
    async def remove_item(self, context: RunContext[UserData], line_number: int) -> str:
        """Remove a line of the order (numbered from 1 as in list_order).

        Args:
            line_number: Which line to remove.
        """
        return remove_line(context.userdata, line_number)

    @function_tool
    async def list_order(self, context: RunContext[UserData]) -> str:
        """What is in the order so far, with prices and total."""
        userdata = context.userdata
        return _order_line_text(userdata) if userdata.cart else "The order is empty."

    @function_tool
    async def menu_info(self, context: RunContext[UserData], query: str) -> str:
        """Facts about a dish (price, sizes, options, allergens) or a group (category, diet,
        allergen).

        Args:
            query: The dish, category, diet or allergen asked about.
        """
        return menu_answer(context.userdata, query)

    @function_tool
    async def set_customer(
        self, context: RunContext[UserData], name: str, phone: str | None = None
    ) -> str:
        """Record the name the order is under and a contact phone.

        Args:
            name: The caller's name for the order.
            phone: A contact number if the caller gave one; leave empty to use the caller ID.
        """
        return set_contact(context.userdata, name, phone)

    @function_tool
    async def review_order(self, context: RunContext[UserData]) -> Agent:
        """The caller has finished ordering: hand over to read the order back and confirm it."""
        userdata = context.userdata
        with caller_must_fix(userdata):
            check_ready_to_confirm(userdata)
        return self._handoff(context, "confirmation")

    @function_tool
    async def start_reservation(self, context: RunContext[UserData]) -> Agent:
        """The caller wants to book, change or cancel a table instead."""
        context.userdata.note_intent("reservation")
        return self._handoff(context, "reservation")


def add_line(
    userdata: UserData, item: str, quantity: int | str | None, size: str | None,
    options: list[str] | None, special_instructions: str,
) -> str:
    with caller_must_fix(userdata):
        line = build_line(
            userdata.services.catalog.menu, item, quantity=quantity, size=size,
            options=options, special_instructions=special_instructions,
        )
        if not userdata.cart:
            now = userdata.now
            check_pickup(userdata.settings, now,
                         pickup_time(now, userdata.settings.prep_minutes, line.quantity))
        if sum(x.quantity for x in userdata.cart) + line.quantity > 60:
            raise Refusal("That is more than we make for one phone order; offer staff instead.")
    userdata.cart.append(line)
    price = money(line.line_price_cents)
    return f"Added {describe_line(line)}, {price}. {_order_line_text(userdata)}"


def add_usual(userdata: UserData) -> str:
    """Re-validate and re-price the last order against the live menu; skip what is sold out."""
    with caller_must_fix(userdata):
        if not userdata.usual:
            raise Refusal("We have no previous order under this number; ask what they'd like.")
    added, skipped = [], []
    for last in userdata.usual:
        try:
            line = build_line(
                userdata.services.catalog.menu, last.item_id, quantity=last.quantity,
                size=last.size, options=last.option_ids,
            )
        except Refusal:
            skipped.append(last.name)
            continue
        userdata.cart.append(line)
        added.append(describe_line(line))
    note = f" Not available today: {', '.join(skipped)}." if skipped else ""
    if not added:
        return f"None of the usual order is available today.{note} Ask what they'd like instead."
    return f"Added the usual: {', '.join(added)}.{note} {_order_line_text(userdata)}"


def _line(userdata: UserData, line_number: int) -> int:
    if not 1 <= line_number <= len(userdata.cart):
        raise Refusal(
            f"There is no line {line_number}; the order has {len(userdata.cart)} line(s). "
            "Ask which item the caller means."
        )
    return line_number - 1


def change_line(
    userdata: UserData, line_number: int, quantity: int | str | None, size: str | None,
    options: list[str] | None, special_instructions: str | None,
) -> str:
    with caller_must_fix(userdata):
        index = _line(userdata, line_number)
        old = userdata.cart[index]
        line = build_line(
            userdata.services.catalog.menu, old.item_id,
            quantity=old.quantity if quantity in (None, "") else quantity,
            size=size or old.size,
            options=[o.option_id for o in old.options] if options is None else options,
            special_instructions=(
                old.special_instructions if special_instructions is None else special_instructions
            ),
        )
    userdata.cart[index] = line
    return f"Changed line {line_number} to {describe_line(line)}. {_order_line_text(userdata)}"


def remove_line(userdata: UserData, line_number: int) -> str:
    with caller_must_fix(userdata):
        index = _line(userdata, line_number)
    removed = userdata.cart.pop(index)
    rest = _order_line_text(userdata) if userdata.cart else "The order is now empty."
    return f"Removed {describe_line(removed)}. {rest}"


def set_contact(userdata: UserData, name: str, phone: str | None) -> str:
    with caller_must_fix(userdata):
        clean = clean_name(name)
        number = number_or_caller_id(
            phone, userdata.caller_phone, "ask for a phone number for the order."
        )
    userdata.customer_name = clean
    userdata.customer_phone = number
    return f"Order under {clean}, phone {spoken(number)}."


def check_ready_to_confirm(userdata: UserData) -> None:
    if not userdata.cart:
        raise Refusal("The order is empty: ask what the caller would like.")
    if not userdata.customer_name:
        raise Refusal("Ask for the name to put the order under, then call set_customer.")
    if not userdata.customer_phone:
        raise Refusal("Ask for a phone number for the order, then call set_customer.")
    check_pickup(userdata.settings, userdata.now, estimated_pickup(userdata))


def estimated_pickup(userdata: UserData) -> datetime:
    count = sum(x.quantity for x in userdata.cart)
    return pickup_time(userdata.now, userdata.settings.prep_minutes, count)


def pickup_text(userdata: UserData) -> str:
    return say_time(estimated_pickup(userdata).time())
