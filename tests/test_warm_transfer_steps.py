"""actions/transfer.py with a scripted phone line (no LiveKit): the order of the steps, and
that the caller is never left on hold when staff cannot be reached."""

from __future__ import annotations

import itertools

import pytest

from actions.staff import is_warm
from actions.transfer import StaffUnavailable, warm_transfer
from telephony.staff_phone import why_not


class Line:
    def __init__(self, log: list[str], fail_on: str | None) -> None:
        self.log, self.fail_on = log, fail_on

    async def _step(self, name: str) -> None:
        self.log.append(name)
        if name == self.fail_on:
            raise ConnectionError(f"{name} failed")

    async def say(self, text: str, language: str = "en") -> None:
        await self._step(f"say {text}" + ("" if language == "en" else f" ({language})"))

    async def connect(self) -> None:
        await self._step("connect")

    async def hang_up(self) -> None:
        self.log.append("hang_up")


class Phone:
    def __init__(self, *, ring_error: Exception | None = None, fail_on: str | None = None):
        self.log: list[str] = []
        self.ring_error, self.fail_on = ring_error, fail_on

    async def hold(self, on: bool) -> None:
        self.log.append("hold on" if on else "hold off")

    async def ring(self, number: str, timeout_s: float) -> Line:
        self.log.append(f"ring {number} {timeout_s:g}")
        if self.ring_error is not None:
            raise self.ring_error
        return Line(self.log, self.fail_on)


def _clock():
    ticks = itertools.count()
    return lambda: float(next(ticks))


async def test_staff_hear_the_briefing_before_the_caller_is_connected():
    phone = Phone()
    report = await warm_transfer(phone, "1002", "Call from Sam.", ring_s=25, clock=_clock())
    assert phone.log == ["hold on", "ring 1002 25", "say Call from Sam.", "connect"]
    assert report.briefing == "Call from Sam."
    assert report.times == {"staff_answered": 1.0, "briefed": 2.0, "connected": 3.0}


@pytest.mark.parametrize("error", [StaffUnavailable("nobody answered"), TimeoutError()])
async def test_no_answer_takes_the_caller_off_hold(error):
    phone = Phone(ring_error=error)
    with pytest.raises(StaffUnavailable) as raised:
        await warm_transfer(phone, "1002", "Call from Sam.", ring_s=6)
    assert phone.log == ["hold on", "ring 1002 6", "hold off"]
    assert raised.value.why == ("nobody answered" if isinstance(error, StaffUnavailable)
                                else "the staff line failed")


@pytest.mark.parametrize("fail_on", ["say Call from Sam.", "connect"])
async def test_a_line_that_drops_before_connecting_is_hung_up(fail_on):
    phone = Phone(fail_on=fail_on)
    with pytest.raises(StaffUnavailable, match="dropped before connecting"):
        await warm_transfer(phone, "1002", "Call from Sam.", ring_s=6)
    assert phone.log[-2:] == ["hang_up", "hold off"]
    assert "connect" not in phone.log or fail_on == "connect"


@pytest.mark.parametrize(("destination", "warm"), [
    ("1002", True), ("+16175550123", True), ("sip:1002@127.0.0.1:5070", False),
    ("tel:+16175550123", False), ("1002@freeswitch", False),
])
def test_numbers_are_warm_uris_cold(destination, warm):
    assert is_warm(destination) is warm


@pytest.mark.parametrize(("error", "why"), [
    ("SIP call failed: 480 Temporarily Unavailable (resource_exhausted)",
     "the staff phone is not connected"),
    ("twirp error unknown: sip status 486: Busy Here", "staff are busy on another call"),
    ("SIP call failed: 487 Request Terminated", "nobody answered"),
    ("context deadline exceeded", "nobody answered"),
    ("SIP call failed: 403 Forbidden", "the staff line did not connect"),
    ("room 4800 not found", "the staff line did not connect"),
])
def test_sip_failures_in_words(error, why):
    assert why_not(RuntimeError(error)) == why
