"""Handing the caller to a person: whether anyone can take the call, and the transfer."""

from __future__ import annotations

from datetime import datetime

from actions import transfer
from actions.state import CallState, ReservationDraft
from domain import booking
from domain.cart import Cart
from domain.lines import say
from domain.masking import mask_personal
from domain.spoken import language_name, spoken_in
from models import RestaurantSettings


def staff_line(settings: RestaurantSettings, now: datetime) -> str | None:
    """Where staff answer right now: None when no number is set or the restaurant is closed."""
    if not settings.staff_transfer_to or not booking.is_open(settings, now):
        return None
    return settings.staff_transfer_to


def is_warm(destination: str) -> bool:
    """A number or extension (e.g. 1002) is dialled through the outbound trunk and briefed;
    a URI (sip:1002@freeswitch:5070) is a cold REFER."""
    return ":" not in destination and "@" not in destination


async def transfer_to_staff(userdata: CallState, destination: str, reason: str = "") -> None:
    """Hand the caller to staff: warm (staff briefed first, see actions/transfer.py) when the
    destination is a number and the call has a staff phone, else a cold transfer. Raises when
    nobody took the call (transfer.StaffUnavailable for a warm one): the caller is then still
    with the agent, which offers to take a message."""
    services = userdata.services
    if services.staff_phone is not None and is_warm(destination):
        report = await transfer.warm_transfer(
            services.staff_phone, destination, staff_briefing(userdata, reason or "a person"),
            ring_s=services.staff_ring_s, language=userdata.settings.briefing_language)
        userdata.outcomes.append("transfer")
        userdata.transfer_times = report.times
        return
    await services.transfer(destination)
    userdata.outcomes.append("transfer")


def staff_briefing(userdata: CallState, reason: str) -> str:
    """What staff hear before a warm transfer connects them, in the staff's language
    (`briefing_language`): who is calling, what they want, the caller's language when it is
    another, and the order or booking so far, in a few spoken sentences. No phone numbers,
    e-mails or addresses (domain/masking.py): staff are about to talk to the caller, who can
    give them."""
    lang = userdata.settings.briefing_language
    name = userdata.cart.customer_name or userdata.returning_name or say(lang, "brief_no_name")
    lines = [say(lang, "brief_call", name=name),
             say(lang, "brief_wants", reason=mask_personal(" ".join(reason.split())))]
    if userdata.language != lang:
        lines.append(say(lang, "brief_language",
                         spoken=language_name(userdata.language, lang)))
    if userdata.cart:
        tax = userdata.settings.tax_rate
        lines.append(say(lang, "brief_order", order=_order_words(userdata.cart, tax, lang)))
    if userdata.reservation is not None:
        said = _booking_words(userdata.reservation, userdata.now, lang)
        lines.append(say(lang, "brief_booking", booking=said))
    if userdata.ids_created:
        lines.append(say(lang, "brief_saved", ids=", ".join(userdata.ids_created)))
    return " ".join(lines)


def _order_words(cart: Cart, tax: float, lang: str) -> str:
    if lang == "en":
        return cart.summary(tax)
    sp = spoken_in(lang)
    return f"{sp.items([sp.line(x) for x in cart.lines])}, total {sp.money(cart.totals(tax)[2])}"


def _booking_words(draft: ReservationDraft, now: datetime, lang: str) -> str:
    sp = spoken_in(lang)
    said = [say(lang, f"brief_{draft.action}")]
    if draft.code:
        said.append(say(lang, "brief_code", code=draft.code))
    if draft.party_size:
        said.append(say(lang, "brief_party", party=draft.party_size))
    if draft.day and draft.at:
        said.append(sp.when(draft.day, draft.at, now.date(), now.time()))
    elif draft.day:
        said.append(sp.day(draft.day, now.date()))
    elif draft.at:
        said.append(sp.time(draft.at))
    return " ".join(said)
