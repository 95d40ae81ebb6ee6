"""What the caller hears and the model reads about the order and the booking, built from state."""

from __future__ import annotations

import booking
from actions.reservations import spell
from call_state import UserData
from contact import spoken
from pricing import describe_line, money, spoken_list


def order_text(userdata: UserData) -> str:
    """The cart with line numbers, prices and totals, for the model."""
    subtotal, tax, total = userdata.cart.totals(userdata.settings.tax_rate)
    lines = "; ".join(f"#{n} {describe_line(x)} {money(x.line_price_cents)}"
                      for n, x in enumerate(userdata.cart.lines, 1))
    return f"Order now: {lines}. Subtotal {money(subtotal)}, tax {money(tax)}, total {money(total)}"


def order_readback(userdata: UserData) -> str:
    cart = userdata.cart
    _, _, total = cart.totals(userdata.settings.tax_rate)
    items = spoken_list([describe_line(line) for line in cart.lines])
    phone = spoken(cart.customer_phone) if cart.customer_phone else "no number"
    pickup = booking.say_time(cart.estimated_pickup(userdata.settings, userdata.now).time())
    return (
        f"Let me read that back: {items}. That's {money(total)} with tax, paid at pickup, "
        f"ready at about {pickup}, under the name {cart.customer_name}, phone {phone}. "
        "Shall I place the order?"
    )


def reservation_readback(userdata: UserData) -> str:
    r = userdata.reservation
    assert r is not None and r.day and r.at and r.party_size
    when = f"{booking.say_day(r.day, userdata.now.date())} at {booking.say_time(r.at)}"
    table = f"a table for {r.party_size} {when}, under {r.name}"
    if r.action == "new":
        return f"Let me confirm: {table}, phone {spoken(r.phone or '')}. Shall I book it?"
    if r.action == "change":
        return f"Let me confirm the change to booking {spell(r.code or '')}: {table}. Shall I?"
    return f"Just to confirm: cancel booking {spell(r.code or '')}, {table}? "


def readback(userdata: UserData) -> str:
    return reservation_readback(userdata) if userdata.reservation else order_readback(userdata)
