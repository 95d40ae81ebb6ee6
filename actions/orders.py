"""The pickup order: building the cart from the live menu and placing it once."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from actions.state import CallServices, CallState, Desk
from domain import spanish
from domain.booking import check_pickup
from domain.cart import Cart
from domain.contact import clean_name, number_or_caller_id
from domain.ids import MAX_ID_ATTEMPTS, order_id, order_number
from domain.item_phrase import parse_item_phrase, parse_option_phrases
from domain.menu import Menu, find_option
from domain.outbound_rules import callback_note
from domain.pricing import build_line, pickup_time
from domain.refusal import Refusal
from models import LastOrderLine, Order, OrderLine, RestaurantSettings
from store import OrderIdTaken, SaveResult, SaveStatus

log = logging.getLogger(__name__)

MAX_ITEMS_PER_ORDER = 60


def add_line(
    desk: Desk, cart: Cart, item: str, quantity: int | str | None = None,
    size: str | None = None, options: list[str] | None = None, special_instructions: str = "",
) -> OrderLine:
    """Place every word said about one item, validate and price the line, add it to the cart."""
    line = _heard_line(desk, item, quantity, size, options, special_instructions)
    if not cart:
        now = desk.now
        check_pickup(desk.settings, now,
                     pickup_time(now, desk.settings.prep_minutes, line.quantity))
    if cart.item_count + line.quantity > MAX_ITEMS_PER_ORDER:
        raise Refusal("That is more than we make for one phone order; offer staff instead.")
    cart.lines.append(line)
    return line


def _spanish_words(desk: Desk) -> bool:
    """The caller is served in Spanish, or said this in Spanish anyway (a restaurant without
    Spanish, a call in text): "grande" is then large, not the coffee chain's medium."""
    return desk.language == "es" or spanish.said_in_spanish(desk.heard)


def _heard_line(
    desk: Desk, item: str, quantity: int | str | None, size: str | None,
    options: list[str] | None, special_instructions: str,
) -> OrderLine:
    """The line as said, in the caller's language: for a Spanish-speaking caller "grande" is
    large, and words the menu does not read ("con leche de avena") are put in its words when
    the phrase as said does not fit (a Spanish menu name fits as said)."""
    menu = desk.catalog.menu
    if not _spanish_words(desk):
        return build_line(menu, item, quantity=quantity, size=size, options=options,
                          special_instructions=special_instructions)
    size = spanish.size(size)
    try:
        return build_line(menu, spanish.sizes_in(item), quantity=quantity, size=size,
                          options=options, special_instructions=special_instructions)
    except Refusal as as_said:
        try:
            return build_line(
                menu, spanish.to_english(item), size=size,
                quantity=spanish.to_english(quantity) if isinstance(quantity, str) else quantity,
                options=[spanish.to_english(o) for o in options] if options else options,
                special_instructions=special_instructions,
            )
        except Refusal:
            raise as_said from None


def add_lines(desk: Desk, cart: Cart, wanted: list[dict[str, Any]]) -> tuple[
    list[OrderLine], list[str]
]:
    """Several items said together: each added as add_line would, or refused on its own
    (what was said and why), so one refusal never loses the others."""
    added: list[OrderLine] = []
    refused: list[str] = []
    for said in wanted:
        try:
            added.append(add_line(
                desk, cart, said["item"], said.get("quantity"), said.get("size"),
                said.get("options"), said.get("special_instructions") or "",
            ))
        except Refusal as e:
            refused.append(f"'{said['item']}': {e}")
    return added, refused


@dataclass(frozen=True)
class UsualAdded:
    added: list[OrderLine]
    skipped: list[str]  # names of what is not available today


def add_usual(menu: Menu, cart: Cart, usual: list[LastOrderLine]) -> UsualAdded:
    """Re-validate and re-price the last order against the live menu; skip what is sold out."""
    if not usual:
        raise Refusal("We have no previous order under this number; ask what they'd like.")
    added: list[OrderLine] = []
    skipped: list[str] = []
    for last in usual:
        try:
            line = _usual_line(menu, last)
        except Refusal:
            skipped.append(last.name)
            continue
        cart.lines.append(line)
        added.append(line)
    return UsualAdded(added, skipped)


def _usual_line(menu: Menu, last: LastOrderLine) -> OrderLine:
    return build_line(
        menu, last.item_id, quantity=last.quantity,
        size=last.size, options=last.option_ids,
    )


def line_index(cart: Cart, line_number: int) -> int:
    lines = cart.lines
    if not 1 <= line_number <= len(lines):
        raise Refusal(
            f"There is no line {line_number}; the order has {len(lines)} line(s). "
            "Ask which item the caller means."
        )
    return line_number - 1


@dataclass(frozen=True)
class Changed:
    line: OrderLine
    dropped: list[str]  # choices of the old item the new one does not offer


def change_line(
    desk: Desk, cart: Cart, line_number: int, quantity: int | str | None = None,
    size: str | None = None, options: list[str] | None = None,
    special_instructions: str | None = None, *, remove_options: list[str] | None = None,
    item: str | None = None,
) -> Changed:
    """Change what was said and keep the rest: `options` are added (a choice from a
    one-pick group, like the milk, replaces the one there), `remove_options` taken off, and
    `item` puts another menu item in the line's place with the choices it offers. Every
    word is placed or named, as in add_item; the new line takes the old one's place. For a
    Spanish-speaking caller the words are read as in add_item ("grande", "leche de avena")."""
    menu = desk.catalog.menu
    if not _spanish_words(desk):
        return _change(menu, cart, line_number, quantity, size, options, special_instructions,
                       remove_options, item)
    size = spanish.size(size)
    try:
        return _change(menu, cart, line_number, quantity, size, options, special_instructions,
                       remove_options, item)
    except Refusal as as_said:
        def english(words: list[str] | None) -> list[str] | None:
            return [spanish.to_english(w) for w in words] if words else words

        try:
            return _change(menu, cart, line_number, quantity, size, english(options),
                           special_instructions, english(remove_options),
                           spanish.to_english(item) if item else item)
        except Refusal:
            raise as_said from None


def _change(
    menu: Menu, cart: Cart, line_number: int, quantity: int | str | None, size: str | None,
    options: list[str] | None, special_instructions: str | None,
    remove_options: list[str] | None, item: str | None,
) -> Changed:
    index = line_index(cart, line_number)
    old = cart.lines[index]
    target = parse_item_phrase(menu, item).item if item else menu.get(old.item_id)
    if target is None:
        raise Refusal(f"{old.name} is no longer on the menu; remove the line and add another.")
    offered = {(g.id, o.id) for g in target.option_groups for o in g.options}
    kept = [o for o in old.options if (o.group_id, o.option_id) in offered]
    dropped = [o.name for o in old.options if (o.group_id, o.option_id) not in offered]
    adds, removes = _split_removals(options or [], remove_options or [])
    if adds:
        picks, _ = parse_option_phrases(target, adds)
        single = {g.id for g, _o in picks if g.max_picks == 1}
        kept = [o for o in kept if o.group_id not in single]
    for phrase in removes:
        group, option = find_option(target, phrase)
        if not any(o.option_id == option.id and o.group_id == group.id for o in kept):
            raise Refusal(f"Line {line_number} has no {option.name}; ask what to change.")
        kept = [o for o in kept if not (o.option_id == option.id and o.group_id == group.id)]
    same_size = old.size if target.size(old.size) is not None else None
    line = build_line(
        menu, item if item else old.item_id,
        quantity=old.quantity if quantity in (None, "") else quantity,
        size=size or (None if item and parse_item_phrase(menu, item).size_id else same_size),
        options=[o.option_id for o in kept] + adds,
        special_instructions=(
            old.special_instructions if special_instructions is None else special_instructions
        ),
    )
    cart.lines[index] = line
    return Changed(line, dropped)


_REMOVAL = re.compile(r"^(?:no|without|remove|take off|hold the|minus|drop|not)\s+(?:the\s+)?")


def _split_removals(options: list[str], removals: list[str]) -> tuple[list[str], list[str]]:
    """"no oat milk" in `options` is a removal the model put in the wrong list."""
    adds: list[str] = []
    removes = list(removals)
    for phrase in options:
        said = phrase.strip().lower()
        taken_off = _REMOVAL.sub("", said)
        if taken_off != said:
            removes.append(taken_off)
        else:
            adds.append(phrase)
    return adds, removes


def remove_line(cart: Cart, line_number: int) -> OrderLine:
    return cart.lines.pop(line_index(cart, line_number))


def set_contact(userdata: CallState, name: str | None, phone: str | None) -> tuple[str, str]:
    """The name and phone the order is under; the phone defaults to a number already given
    in this call, else the caller ID."""
    cart = userdata.cart
    # the rest of a number said in pieces comes without the name (None): the one given
    # stands; a blank name passed is refused as before
    clean = clean_name(name or "") if name is not None or not cart.customer_name else (
        cart.customer_name)
    cart.customer_name = clean  # kept even when the number is refused: it was said right
    try:
        number = number_or_caller_id(
            phone or cart.customer_phone, userdata.caller_phone,
            "ask for a phone number for the order.",
            region=userdata.settings.home_region, abroad=True,
        )
    except Refusal as e:
        userdata.collecting_phone = True
        raise Refusal(f"The name {clean} is saved. {e} Ask only for the number; the caller "
                      "may say it in pieces: wait for all of it.") from None
    userdata.collecting_phone = False
    cart.customer_phone = number
    return clean, number


def no_callback(s: RestaurantSettings, number: str) -> str:
    """Why the line may not call or text the order's number back ("" when it may)."""
    return callback_note(number, home_region=s.home_region,
                         allow_international=s.outbound_international) if number else ""


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
            callback_note=no_callback(userdata.settings, cart.customer_phone or ""),
            pickup_time=cart.estimated_pickup(userdata.settings, now), created_at=now,
        )
    result = await _save_under_free_id(userdata)
    order = cart.pending_order
    assert order is not None
    await _queue_for_pos(userdata.services, order)
    cart.placed()
    userdata.outcomes.append("order")
    userdata.ids_created.append(order.id)
    return PlacedOrder(order, result.status)


async def _queue_for_pos(services: CallServices, order: Order) -> None:
    """Hand the saved order to the POS sender (a local fsynced append: the caller never waits on
    Square). A failed append loses nothing: the order is saved, and staff see it was not sent."""
    pos = services.pos
    if pos is None:
        return
    try:
        await pos.enqueue(order, services.db.restaurant_id, services.catalog.settings.tax_rate,
                          services.catalog.settings.square_location_id)
    except Exception:  # the order is saved: the POS never turns that into an error for the call
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
