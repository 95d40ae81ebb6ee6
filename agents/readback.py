"""What the caller hears and the model reads about the order and the booking, built from state."""

from __future__ import annotations

from conversation.state import UserData
from domain.lines import say
from domain.pricing import describe_line, money
from domain.spoken import spoken_in


def order_text(userdata: UserData) -> str:
    """The cart with line numbers, prices and totals, for the model."""
    subtotal, tax, total = userdata.cart.totals(userdata.settings.tax_rate)
    lines = "; ".join(f"#{n} {describe_line(x)} {money(x.line_price_cents)}"
                      for n, x in enumerate(userdata.cart.lines, 1))
    return f"Order now: {lines}. Subtotal {money(subtotal)}, tax {money(tax)}, total {money(total)}"


def order_readback(userdata: UserData) -> str:
    """The fixed read-back, in the caller's language (menu names as the menu writes them)."""
    cart, lang = userdata.cart, userdata.language
    sp = spoken_in(lang)
    _, _, total = cart.totals(userdata.settings.tax_rate)
    items = sp.items([sp.line(line) for line in cart.lines])
    phone = sp.phone(cart.customer_phone) if cart.customer_phone else say(lang, "no_number")
    pickup = sp.time(cart.estimated_pickup(userdata.settings, userdata.now).time())
    return say(lang, "order_readback", items=items, total=sp.money(total), pickup=pickup,
               customer=cart.customer_name, phone=phone)


def reservation_readback(userdata: UserData) -> str:
    r, lang = userdata.reservation, userdata.language
    assert r is not None and r.day and r.at and r.party_size
    sp = spoken_in(lang)
    when = sp.when(r.day, r.at, userdata.now.date(), userdata.now.time())
    table = say(lang, "table", party=r.party_size, when=when, customer=r.name)
    if r.action == "new":
        return say(lang, "booking_new", table=table, phone=sp.phone(r.phone or ""))
    code = sp.code(r.code or "")
    if r.action == "change":
        return say(lang, "booking_change", code=code, table=table)
    return say(lang, "booking_cancel", code=code, table=table)


def readback(userdata: UserData) -> str:
    return reservation_readback(userdata) if userdata.reservation else order_readback(userdata)
