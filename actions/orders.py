"""The pickup order: building the cart from the live menu and placing it once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from actions.state import CallState
from domain.booking import check_pickup
from domain.contact import clean_name, number_or_caller_id
from domain.ids import MAX_ID_ATTEMPTS, order_id, order_number
from domain.pricing import build_line, pickup_time
from domain.refusal import Refusal
from models import LastOrderLine, Order, OrderLine
from store import OrderIdTaken, SaveResult, SaveStatus

log = logging.getLogger(__name__)

MAX_ITEMS_PER_ORDER = 60


def add_line(
    userdata: CallState, item: str, quantity: int | str | None = None, size: str | None = None,
    options: list[str] | None = None, special_instructions: str = "",
) -> OrderLine:
    """Place every word said about one item, validate and price the line, add it to the cart."""
    cart = userdata.cart
    line = build_line(
        userdata.services.catalog.menu, item, quantity=quantity, size=size,
        options=options, special_instructions=special_instructions,
    )
    if not cart:
        now = userdata.now
        check_pickup(userdata.settings, now,
                     pickup_time(now, userdata.settings.prep_minutes, line.quantity))
    if cart.item_count + line.quantity > MAX_ITEMS_PER_ORDER:
        raise Refusal("That is more than we make for one phone order; offer staff instead.")
    cart.lines.append(line)
    return line


@dataclass(frozen=True)
class UsualAdded:
    added: list[OrderLine]
    skipped: list[str]  # names of what is not available today


def add_usual(userdata: CallState) -> UsualAdded:
    """Re-validate and re-price the last order against the live menu; skip what is sold out."""
    if not userdata.usual:
        raise Refusal("We have no previous order under this number; ask what they'd like.")
    added: list[OrderLine] = []
    skipped: list[str] = []
    for last in userdata.usual:
        try:
            line = _usual_line(userdata, last)
        except Refusal:
            skipped.append(last.name)
            continue
        userdata.cart.lines.append(line)
        added.append(line)
    return UsualAdded(added, skipped)


def _usual_line(userdata: CallState, last: LastOrderLine) -> OrderLine:
    return build_line(
        userdata.services.catalog.menu, last.item_id, quantity=last.quantity,
        size=last.size, options=last.option_ids,
    )


def _index(userdata: CallState, line_number: int) -> int:
    lines = userdata.cart.lines
    if not 1 <= line_number <= len(lines):
        raise Refusal(
            f"There is no line {line_number}; the order has {len(lines)} line(s). "
            "Ask which item the caller means."
        )
    return line_number - 1


def change_line(
    userdata: CallState, line_number: int, quantity: int | str | None = None,
    size: str | None = None, options: list[str] | None = None,
    special_instructions: str | None = None,
) -> OrderLine:
    """Rebuild a line with what changed (the rest kept) and put it in the old one's place;
    every option word is placed or named, as in add_item."""
    index = _index(userdata, line_number)
    old = userdata.cart.lines[index]
    line = build_line(
        userdata.services.catalog.menu, old.item_id,
        quantity=old.quantity if quantity in (None, "") else quantity,
        size=size or old.size,
        options=[o.option_id for o in old.options] if options is None else options,
        special_instructions=(
            old.special_instructions if special_instructions is None else special_instructions
        ),
    )
    userdata.cart.lines[index] = line
    return line


def remove_line(userdata: CallState, line_number: int) -> OrderLine:
    return userdata.cart.lines.pop(_index(userdata, line_number))


def set_contact(userdata: CallState, name: str, phone: str | None) -> tuple[str, str]:
    """The name and phone the order is under; the phone defaults to a number already given
    in this call, else the caller ID."""
    cart = userdata.cart
    clean = clean_name(name)
    number = number_or_caller_id(
        phone or cart.customer_phone, userdata.caller_phone,
        "ask for a phone number for the order.",
    )
    cart.customer_name = clean
    cart.customer_phone = number
    return clean, number


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    status: SaveStatus  # "queued": durable locally, staff confirm once Firestore is back


async def place_order(userdata: CallState) -> PlacedOrder:
    """Save the cart as one order, exactly once: a retried confirm reuses the same order id."""
    cart, now = userdata.cart, userdata.now
    cart.check_ready(userdata.settings, now)
    if cart.pending_order is None:
        subtotal, tax, total = cart.totals(userdata.settings.tax_rate)
        userdata.order_seq += 1
        oid = order_id(userdata.call_id, userdata.order_seq)
        cart.pending_order = Order(
            id=oid, order_number=order_number(oid), call_id=userdata.call_id,
            lines=list(cart.lines), subtotal_cents=subtotal, tax_cents=tax,
            total_cents=total, customer_name=cart.customer_name or "",
            customer_phone=cart.customer_phone or "",
            pickup_time=cart.estimated_pickup(userdata.settings, now), created_at=now,
        )
    result = await _save_under_free_id(userdata)
    order = cart.pending_order
    assert order is not None
    await _queue_for_pos(userdata, order)
    cart.placed()
    userdata.outcomes.append("order")
    userdata.ids_created.append(order.id)
    return PlacedOrder(order, result.status)


async def _queue_for_pos(userdata: CallState, order: Order) -> None:
    """Hand the saved order to the POS sender (a local fsynced append: the caller never waits on
    Square). A failed append loses nothing: the order is saved, and staff see it was not sent."""
    pos = userdata.services.pos
    if pos is None:
        return
    try:
        await pos.enqueue(order, userdata.services.db.restaurant_id, userdata.settings.tax_rate)
    except OSError:
        log.exception("order %s could not be queued for the POS", order.order_number)


async def _save_under_free_id(userdata: CallState) -> SaveResult:
    """Save the pending order; when its id holds a different order (this call's counter started
    over after a crash), move to the next number. The walk is the same on every retry."""
    cart = userdata.cart
    for _ in range(MAX_ID_ATTEMPTS):
        order = cart.pending_order
        assert order is not None
        try:
            return await userdata.services.db.save_order(order, order.created_at.date())
        except OrderIdTaken:
            userdata.order_seq += 1
            oid = order_id(userdata.call_id, userdata.order_seq)
            cart.pending_order = order.model_copy(
                update={"id": oid, "order_number": order_number(oid)}
            )
    raise RuntimeError("could not find a free order id")
