"""What the line texts a guest, in the call's language (pure: no I/O).

A confirmation carries the order number, items, total and pickup time, or the booking code, day,
time and party. The replies to STOP / START / HELP follow what US carriers require of a
short-code or 10DLC sender (an opt-out is confirmed once, then nothing more is sent)."""

from __future__ import annotations

import re
from datetime import datetime, time

from models import Order, Reservation

_EN = {
    "order": "{restaurant}: order {number} confirmed. {items}. Total {total}, paid at pickup. "
             "Ready about {pickup}. Reply STOP to opt out.",
    "booking": "{restaurant}: table booked, code {code}, {day} at {at} for {party}. "
               "To cancel, reply CANCEL {code}. Reply STOP to opt out.",
    "stop": "{restaurant}: you will get no more texts from us. Reply START to get them again.",
    "start": "{restaurant}: texts are back on. Reply STOP to opt out, HELP for help.",
    "help": "{restaurant}: order and booking confirmations. Call us at {phone}. Reply STOP to "
            "opt out. Msg&data rates may apply.",
    "cancelled": "{restaurant}: booking {code} is cancelled. We hope to see you another time.",
    "not_yours": "{restaurant}: we could not cancel {code} from this number. Please call us "
                 "at {phone}.",
    "noted": "{restaurant}: thanks, we passed your message to our staff.",
    "reminder": "{restaurant}: reminder of your table, code {code}, {day} at {at} for {party}. "
                "To cancel, reply CANCEL {code}. Reply STOP to opt out.",
}
_ES = {
    "order": "{restaurant}: pedido {number} confirmado. {items}. Total {total}, se paga al "
             "recoger. Listo hacia las {pickup}. Responda STOP para no recibir más.",
    "booking": "{restaurant}: mesa reservada, código {code}, {day} a las {at} para {party}. "
               "Para cancelar, responda CANCEL {code}. Responda STOP para no recibir más.",
    "stop": "{restaurant}: no recibirá más mensajes. Responda START para volver a recibirlos.",
    "start": "{restaurant}: mensajes activados de nuevo. Responda STOP para no recibir más.",
    "help": "{restaurant}: confirmaciones de pedidos y reservas. Llámenos al {phone}. Responda "
            "STOP para no recibir más.",
    "cancelled": "{restaurant}: la reserva {code} está cancelada. Esperamos verle pronto.",
    "not_yours": "{restaurant}: no pudimos cancelar {code} desde este número. Llámenos al "
                 "{phone}.",
    "noted": "{restaurant}: gracias, pasamos su mensaje al personal.",
    "reminder": "{restaurant}: le recordamos su mesa, código {code}, {day} a las {at} para "
                "{party}. Para cancelar, responda CANCEL {code}. Responda STOP para no recibir "
                "más.",
}
TEXTS = {"en": _EN, "es": _ES}

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES"}
HELP_WORDS = {"HELP", "INFO", "AYUDA"}
_CANCEL = re.compile(r"^\s*CANCEL(?:AR)?\s+([A-Z0-9]{4,8})\s*$", re.I)


def text(language: str, key: str, **fields: object) -> str:
    return TEXTS.get(language, _EN)[key].format(**fields)


def _money(cents: int) -> str:
    return f"${cents // 100}.{cents % 100:02d}"


def _clock(t: time, language: str) -> str:
    if language == "es":
        return t.strftime("%H:%M")
    return t.strftime("%I:%M %p").lstrip("0")


def order_text(order: Order, language: str, restaurant: str, local_pickup: datetime) -> str:
    items = "; ".join(
        f"{ln.quantity} x {ln.name}" + (f" ({ln.size_name})" if ln.size_name else "")
        + (" + " + ", ".join(o.name for o in ln.options) if ln.options else "")
        for ln in order.lines)
    return text(language, "order", restaurant=restaurant, number=order.order_number,
                items=items, total=_money(order.total_cents),
                pickup=_clock(local_pickup.time(), language))


def booking_text(res: Reservation, language: str, restaurant: str,
                 key: str = "booking") -> str:
    day = res.date.strftime("%d/%m/%Y") if language == "es" else res.date.strftime("%a %b %d")
    party = (f"{res.party_size} personas" if language == "es"
             else f"{res.party_size} people" if res.party_size > 1 else "1 person")
    return text(language, key, restaurant=restaurant, code=res.code, day=day,
                at=_clock(res.time, language), party=party)


def keyword(body: str) -> tuple[str, str | None]:
    """("stop" | "start" | "help" | "cancel" | "other", the booking code for "cancel")."""
    word = body.strip().upper()
    if word in STOP_WORDS:
        return "stop", None
    if word in START_WORDS:
        return "start", None
    if word in HELP_WORDS:
        return "help", None
    m = _CANCEL.match(body)
    if m:
        return "cancel", m.group(1).upper()
    if word == "CANCEL":  # the carriers' own opt-out word when it stands alone
        return "stop", None
    return "other", None
