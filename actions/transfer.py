"""Warm transfer: staff hear who is calling and why, then the caller is connected; when staff
do not answer, the caller stays with the agent. No LiveKit here: the phone line is a
`StaffPhone` (telephony/staff_phone.py implements it with LiveKit SIP and FreeSWITCH; tests with
fakes).

The order of things, each step timed for the call log and the tests:
  ring staff (the caller hears hold audio) -> staff answer -> staff hear the briefing
  (actions.staff.staff_briefing: name, what they want, the order or booking so far) ->
  the two are connected.
Staff not answering, not registered, busy, or the line failing before the connection: the
staff leg is hung up and `StaffUnavailable` says why; the agent takes the caller back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

# A cold transfer (STAFF_TRANSFER_TO a SIP URI) that nobody answers comes back to the agent as a
# new call: FreeSWITCH marks it with this SIP header, LiveKit SIP's inbound trunk turns it into
# this participant attribute (scripts/setup_sip.py), and the agent greets it with a message offer.
RETURNED_HEADER = "X-Phoneline-Returned"
RETURNED_ATTRIBUTE = "phoneline.returned"
RETURNED_STAFF_UNAVAILABLE = "staff-unavailable"


class StaffUnavailable(RuntimeError):
    """Nobody took the call: `why` is what the agent may tell the caller."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class StaffLine(Protocol):
    """An answered call to staff, not yet connected to the caller."""

    async def say(self, text: str, language: str = "en") -> None:
        """Speak `text` to staff only, in `language`'s voice, returning once it has been
        played."""

    async def connect(self) -> None:
        """Join staff and the caller; the agent steps out."""

    async def hang_up(self) -> None:
        """End the staff call (the caller stays with the agent)."""


class StaffPhone(Protocol):
    async def hold(self, on: bool) -> None:
        """Hold audio for the caller (and the agent deaf and mute) while staff are rung."""

    async def ring(self, number: str, timeout_s: float) -> StaffLine:
        """Call staff; raises StaffUnavailable when they do not answer within `timeout_s`."""


@dataclass
class TransferReport:
    """What happened, with times in seconds from the request (for the call log and tests)."""

    briefing: str
    times: dict[str, float] = field(default_factory=dict)


async def warm_transfer(phone: StaffPhone, number: str, briefing: str, *, ring_s: float,
                        clock: Callable[[], float] = time.monotonic,
                        language: str = "en") -> TransferReport:
    """Ring `number`, brief staff, connect. Raises StaffUnavailable (the caller is then back
    with the agent, off hold) when staff cannot be reached or the line fails before connecting."""
    report = TransferReport(briefing=briefing)
    start = clock()

    def mark(what: str) -> None:
        report.times[what] = round(clock() - start, 3)

    await phone.hold(True)
    try:
        line = await phone.ring(number, ring_s)
    except StaffUnavailable:
        await phone.hold(False)
        raise
    except Exception as e:  # the line itself failed: the caller must not sit on hold
        await phone.hold(False)
        raise StaffUnavailable("the staff line failed") from e
    mark("staff_answered")
    try:
        await line.say(briefing, language)
        mark("briefed")
        await line.connect()
        mark("connected")
    except BaseException as e:
        await line.hang_up()
        await phone.hold(False)
        if isinstance(e, Exception):
            raise StaffUnavailable("the staff call dropped before connecting") from e
        raise
    return report
