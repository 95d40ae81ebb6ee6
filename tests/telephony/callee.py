"""The guest's phone for outbound tests: answers the agent's call (SIPp, staff_phone_uas.xml)
and talks like a person: each line is said once the agent has spoken and fallen quiet, keys
are pressed as RFC 4733 telephone events, and silence flows in between, as a real phone's
RTP does (the agent's voice-activity detection needs it to hear the end of a sentence)."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fakes.audio import speech_or_tone, ulaw_encode
from testkit.caller import PTIME_S, RATE, SAMPLES, RtpCapture

DTMF_PT = 101
_EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}


@dataclass(frozen=True)
class Say:
    text: str
    wait_agent: bool = True  # after the agent has spoken and is quiet; else after `delay`
    delay: float = 0.8


@dataclass(frozen=True)
class Keys:
    digits: str
    wait_agent: bool = True
    delay: float = 0.5


@dataclass
class Callee(RtpCapture):
    plan: list[Say | Keys] = field(default_factory=list)
    # the agent's silence that means "your turn" (longer than the pauses between its sentences)
    quiet_s: float = 3.0
    threshold: float = 300.0
    done: list[tuple[float, str]] = field(default_factory=list)  # (time, what) for timelines

    def __post_init__(self) -> None:
        self.speak = b""  # any value: the first packet from LiveKit SIP starts _talk
        self._audio = {s.text: ulaw_encode(speech_or_tone(s.text, RATE))
                       for s in self.plan if isinstance(s, Say)}
        super().__post_init__()

    def _agent_turn_over(self, since: float) -> bool:
        """The agent spoke after `since` and has been quiet for `quiet_s`. No fallback for an
        agent that says nothing: a guest left in silence is asked "Are you still there?" by
        the agent itself after 15 s (agents/silence.py), and a test whose
        agent never speaks again must fail, not go on."""
        heard = [p.at for p in list(self.packets) if p.at >= since and p.level >= self.threshold]
        return bool(heard) and time.time() - heard[-1] >= self.quiet_s

    def _talk(self, to: tuple[str, int]) -> None:
        seq, ts, ssrc = 0, 0, 0x5EED4321
        start = time.monotonic()
        n = 0
        silence = ulaw_encode(b"\x00\x00" * SAMPLES)
        steps = list(self.plan)
        step_since = time.time()
        queue: list[bytes] = []  # packets of the current step

        def send(pt: int, payload: bytes, marker: bool = False, stamp: int | None = None) -> None:
            nonlocal seq
            header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                                 (ts if stamp is None else stamp) & 0xFFFFFFFF, ssrc)
            self.sock.sendto(header + payload, to)
            seq += 1

        while not self._stop.is_set():
            delay = start + n * PTIME_S - time.monotonic()
            if self._stop.wait(max(delay, 0)):
                return
            n += 1
            try:
                if not queue and steps:
                    step = steps[0]
                    ready = (self._agent_turn_over(step_since) if step.wait_agent
                             else time.time() - step_since >= step.delay)
                    if ready:
                        steps.pop(0)
                        self.done.append((time.time(), f"guest {step}"))
                        if isinstance(step, Say):
                            audio = self._audio[step.text]
                            queue = [audio[i : i + SAMPLES]
                                     for i in range(0, len(audio) - SAMPLES + 1, SAMPLES)]
                        else:
                            for digit in step.digits:
                                queue += [b"DTMF" + digit.encode()] + [silence] * 10
                if queue:
                    chunk = queue.pop(0)
                    if chunk.startswith(b"DTMF"):
                        self._press(chunk[4:].decode(), send, ts)
                        ts += 8 * SAMPLES
                    else:
                        send(0, chunk)
                        ts += SAMPLES
                    if not queue:
                        step_since = time.time()
                else:
                    send(0, silence)
                    ts += SAMPLES
                self.sent += 1
            except OSError:
                return

    def _press(self, digit: str, send: Callable[..., None], stamp: int) -> None:
        """One key: 8 event packets 20 ms apart (160 ms), then three end packets."""
        event = _EVENTS[digit]
        for i in range(1, 9):
            send(DTMF_PT, struct.pack("!BBH", event, 10, i * SAMPLES), i == 1, stamp)
            time.sleep(PTIME_S)
        for _ in range(3):
            send(DTMF_PT, struct.pack("!BBH", event, 0x80 | 10, 8 * SAMPLES), False, stamp)
        self.done.append((time.time(), f"guest pressed {digit}"))
