"""Handing the caller to a person: whether anyone can take the call, and the transfer."""

from __future__ import annotations

import booking
from call_state import UserData


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
