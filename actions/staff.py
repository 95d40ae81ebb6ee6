"""Handing the caller to a person: whether anyone can take the call, and the transfer."""

from __future__ import annotations

from datetime import datetime

from actions import transfer
from actions.state import CallState
from domain import booking
from domain.masking import mask_personal
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
            ring_s=services.staff_ring_s)
        userdata.outcomes.append("transfer")
        userdata.transfer_times = report.times
        return
    await services.transfer(destination)
    userdata.outcomes.append("transfer")


def staff_briefing(userdata: CallState, reason: str) -> str:
    """What staff hear before a warm transfer connects them: who is calling, what they want,
    and the order or booking so far, in a few spoken sentences. No phone numbers, e-mails or
    addresses (domain/masking.py): staff are about to talk to the caller, who can give them."""
    name = userdata.cart.customer_name or userdata.returning_name or "a caller who gave no name"
    lines = [f"Call from {name}.", f"They want: {mask_personal(' '.join(reason.split()))}."]
    if userdata.cart:
        lines.append(f"Order so far: {userdata.cart.summary(userdata.settings.tax_rate)}.")
    draft = userdata.reservation
    if draft is not None:
        said = [f"{draft.action} booking"]
        if draft.code:
            said.append(f"code {draft.code}")
        if draft.party_size:
            said.append(f"for {draft.party_size}")
        if draft.day:
            said.append(f"on {draft.day:%A %B} {draft.day.day}")
        if draft.at:
            said.append(f"at {draft.at:%H:%M}")
        lines.append("Booking so far: " + " ".join(said) + ".")
    if userdata.ids_created:
        lines.append(f"Already saved on this call: {', '.join(userdata.ids_created)}.")
    return " ".join(lines)
