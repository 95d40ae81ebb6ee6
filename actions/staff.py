"""Handing the caller to a person: whether anyone can take the call, and the transfer."""

from __future__ import annotations

import booking
from call_state import UserData
from masking import mask_personal


def staff_line(userdata: UserData) -> str | None:
    """Where staff answer right now: None when no number is set or the restaurant is closed."""
    settings = userdata.settings
    if not settings.staff_transfer_to or not booking.is_open(settings, userdata.now):
        return None
    return settings.staff_transfer_to


async def transfer_to_staff(userdata: UserData, destination: str) -> None:
    """Cold-transfer the caller; raises when the phone line could not (nobody picked up)."""
    await userdata.services.transfer(destination)
    userdata.outcomes.append("transfer")


def staff_briefing(userdata: UserData, reason: str) -> str:
    """What staff hear before a warm transfer connects them: who is calling, what they want,
    and the order or booking so far, in a few spoken sentences. No phone numbers, e-mails or
    addresses (masking.py): staff are about to talk to the caller, who can give them."""
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
