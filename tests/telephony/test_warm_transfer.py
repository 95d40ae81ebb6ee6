"""Warm transfer through the whole stack: a softphone caller (SIPp 1001 -> 5000 -> FreeSWITCH ->
LiveKit SIP -> the real worker with the scripted fakes) asks for a person; the agent rings
staff 1002 (a SIPp phone) through the outbound trunk (LiveKit SIP -> FreeSWITCH
agent_outbound -> 1002).

- staff answer: staff hear the briefing (the fake TTS renders the worker's text as a tone, and
  its log has the text), then caller and staff hear each other: the staff phone speaks a
  1 kHz tone the caller must receive, the caller a 1.5 kHz tone staff must receive; the
  caller's hang-up reaches staff as a BYE. The caller never hears the briefing.
- staff's phone rings out (STAFF_RING_SECONDS): the ring is CANCELled, the caller is back
  with the agent, which offers to take a message.
- 1002 not registered: the same, at once.
Timelines and the measured steps are printed even when the tests pass.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fakes.audio import silence, speech_or_tone, tone, ulaw_decode
from fakes.script import Script
from scripts.devstack import Ports, Stack, StackOptions
from testkit.caller import (
    RATE,
    SIPP_DIR,
    RtpCapture,
    SippCall,
    answer_calls,
    register,
    start_sipp,
)
from testkit.clock import open_timezone
from testkit.emulator import EMULATOR_JAR
from tests.telephony.helpers import (
    forget_registrations,
    fs_of,
    internal_sip,
    require,
)
from tests.telephony.test_freeswitch_calls import _freeswitch_present
from tests.telephony.test_sip_call_e2e import _binaries_present, _fake_log

log = logging.getLogger("telephony.warm_transfer")
HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "warm_transfer_call.yaml"
SOFTPHONE_SCENARIO = SIPP_DIR / "softphone_uac.xml"
NO_ANSWER_SCENARIO = SIPP_DIR / "staff_phone_no_answer_uas.xml"
RESTAURANT_NUMBER = "+15550100"
PROJECT = "demo-warm-transfer"
RING_S = 6
STAFF_HZ, CALLER_HZ = 1000.0, 1500.0


@pytest.fixture(scope="module")
def stack(firestore_emulator, tmp_path_factory) -> Iterator[Stack]:
    _binaries_present()
    _freeswitch_present()
    require(EMULATOR_JAR.exists() or bool(firestore_emulator.host), "the Firestore emulator")
    firestore_emulator.reset(PROJECT)
    s = Stack(StackOptions(
        ports=Ports.ephemeral(),
        workdir=tmp_path_factory.mktemp("warm-transfer"),
        numbers=(RESTAURANT_NUMBER,),
        allow=("127.0.0.1",),
        firestore_host=firestore_emulator.host,
        project=PROJECT,
        fakes_script=SCRIPT,
        tts_voice="tone",
        worker="start",
        ignore_load=True,
        worker_env={
            "STAFF_TRANSFER_TO": "1002",  # a number: warm, through the outbound trunk
            "STAFF_RING_SECONDS": str(RING_S),
            "RESTAURANT_TIMEZONE": open_timezone(),
        },
        freeswitch=True,
    ))
    try:
        s.start()
        yield s
    finally:
        s.stop()


def _tone_at(capture: RtpCapture, hz: float, *, after: float = 0.0, run: int = 10) -> float | None:
    """When `run` consecutive packets (20 ms each) were a pure tone of `hz` (+-60 Hz)."""
    streak, first = 0, None
    for packet in list(capture.packets):
        if packet.at < after or packet.payload_type != 0:
            continue
        samples = np.frombuffer(ulaw_decode(packet.payload), dtype="<i2").astype(float)
        spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
        peak = int(np.argmax(spectrum))
        freq = peak * RATE / len(samples)
        tonal = spectrum[max(peak - 2, 0): peak + 3].sum() / max(spectrum.sum(), 1e-9)
        if abs(freq - hz) <= 60 and tonal > 0.6 and samples.std() > 200:
            streak += 1
            first = first if streak > 1 else packet.at
            if streak >= run:
                return first
        else:
            streak, first = 0, None
    return None


def _first(messages: list[tuple[float, str, str]], direction: str, start: str) -> float | None:
    return next((t for t, d, f in messages if d == direction and f.startswith(start)), None)


def _transfer_request(stack: Stack, user: str) -> dict[str, Any]:
    requests = _fake_log(stack.fakes.llm)["requests"]
    return next(r for r in requests if r["user"] == user
                and [c["name"] for c in r["tool_calls"]] == ["transfer_to_staff"])


def _after_transfer(stack: Stack, user: str) -> dict[str, Any] | None:
    """The LLM request that got the transfer tool's result (the caller back with the agent)."""
    requests = _fake_log(stack.fakes.llm)["requests"]
    return next((r for r in requests if r["user"] == user and r["step"] == 1), None)


def _spoken(stack: Stack) -> list[dict[str, Any]]:
    return _fake_log(stack.fakes.tts)["spoken"]


async def _register_staff(stack: Stack, workdir: Path, contact_port: int) -> None:
    fs = fs_of(stack)
    registration = await asyncio.to_thread(
        register, workdir=workdir, target=internal_sip(stack), user="1002",
        password=fs.options.staff_phone_password, contact_port=contact_port)
    assert registration.process.returncode == 0, registration.output()[-2000:]
    deadline = time.monotonic() + 5
    domain = fs.api("global_getvar domain").strip()
    # what `bridge user/1002@...` looks up: a contact, not error/user_not_registered
    while not fs.api(f"sofia_contact */1002@{domain}").strip().startswith("sofia/"):
        assert time.monotonic() < deadline, "1002's registration never showed"
        await asyncio.sleep(0.1)


def _caller(stack: Stack, workdir: Path, line: str, *, talk_at: float | None,
            hang_up_after: float) -> tuple[SippCall, RtpCapture]:
    """1001 calls 5000 and says `line` after 4 s; with `talk_at`, a CALLER_HZ tone from then."""
    pcm = silence(4.0, RATE) + speech_or_tone(line, RATE)
    if talk_at is not None:
        pcm += silence(max(talk_at - len(pcm) / 2 / RATE, 0), RATE) + tone(8.0, RATE, CALLER_HZ)
    pcm += silence(hang_up_after + 5 - len(pcm) / 2 / RATE, RATE)
    capture = RtpCapture(speak=pcm)
    call = start_sipp(workdir=workdir, pcm=None, target=internal_sip(stack), number="5000",
                      caller="1001", rtp_port=capture.port, scenario=SOFTPHONE_SCENARIO,
                      user="1001", password=fs_of(stack).options.dev_phone_password,
                      timeout_s=int(hang_up_after) + 60, hangup_after_s=hang_up_after)
    return call, capture


def _timeline(events: list[tuple[float, str]], zero: float) -> str:
    return "\n".join(f"  {t - zero:7.2f}s  {what}" for t, what in sorted(events))


async def test_staff_answer_hear_the_briefing_then_talk_to_the_caller(stack, tmp_path, capsys):
    line = Script.load(SCRIPT).caller[0]
    staff_rtp = RtpCapture(speak=tone(40.0, RATE, STAFF_HZ))
    staff, staff_port = answer_calls(workdir=tmp_path / "staff", rtp_port=staff_rtp.port,
                                     timeout_s=120)
    await _register_staff(stack, tmp_path / "register", staff_port)
    caller, caller_rtp = _caller(stack, tmp_path / "caller", line, talk_at=24.0,
                                 hang_up_after=36.0)
    try:
        rc = await asyncio.to_thread(caller.wait, 120)
        staff_rc = await asyncio.to_thread(staff.wait, 30)
    finally:
        caller.kill()
        staff.kill()
        caller_rtp.close()
        staff_rtp.close()
    staff_messages = staff.messages()
    request = _transfer_request(stack, line)
    staff_invite = _first(staff_messages, "received", "INVITE")
    staff_answer = _first(staff_messages, "sent", "SIP/2.0 200")
    briefing = next((s for s in _spoken(stack) if s["text"].startswith("Call from")), None)
    heard_briefing = staff_rtp.first_audible(after=staff_answer or 0.0)
    connected = _tone_at(caller_rtp, STAFF_HZ, after=staff_answer or 0.0)
    staff_heard_caller = _tone_at(staff_rtp, CALLER_HZ)
    zero = request["at"]
    events = [(t, f"caller {d} {f}") for t, d, f in caller.messages()]
    events += [(t, f"staff phone {d} {f}") for t, d, f in staff_messages]
    events.append((zero, "LLM asks for transfer_to_staff"))
    if briefing:
        events.append((briefing["at"], f"briefing synthesised: {briefing['text']!r}"))
    for at, what in ((heard_briefing, "staff phone: first audible audio (the briefing)"),
                     (connected, "caller: hears staff (1 kHz): connected"),
                     (staff_heard_caller, "staff phone: hears the caller (1.5 kHz)")):
        if at:
            events.append((at, what))
    report = _timeline(events, zero)
    with capsys.disabled():
        print(f"\nwarm transfer, staff answer (0 = the LLM's transfer request):\n{report}")
        if staff_invite and heard_briefing and connected:
            print(f"transfer request -> staff phone rings {staff_invite - zero:.2f} s, -> staff "
                  f"hear the briefing {heard_briefing - zero:.2f} s, -> caller connected "
                  f"{connected - zero:.2f} s")

    assert rc == 0, f"caller: rc {rc}\n{caller.output()[-2000:]}"
    assert staff_rc == 0, f"staff phone: rc {staff_rc}\n{staff.output()[-2000:]}"
    assert staff_invite is not None, "the staff phone never rang"
    assert briefing is not None, _spoken(stack)
    assert "wants to change tonight's booking" in briefing["text"], briefing
    assert "617" not in briefing["text"] and "1001" not in briefing["text"]
    assert heard_briefing is not None, "staff heard nothing after answering"
    assert connected is not None, "the caller never heard staff"
    assert heard_briefing < connected, "connected before staff heard the briefing"
    assert staff_heard_caller is not None, "staff never heard the caller"
    # the briefing is for staff only: nothing of it reached the caller before the connection
    assert briefing["at"] < connected
    assert any(d == "received" and f.startswith("BYE") for _, d, f in staff_messages), \
        "the caller hung up but staff's line stayed up"


async def _unanswered(stack: Stack, tmp_path: Path, line: str, capsys,
                      *, registered: bool) -> dict[str, Any]:
    fs = fs_of(stack)
    await forget_registrations(fs)
    staff: SippCall | None = None
    if registered:
        staff, staff_port = answer_calls(workdir=tmp_path / "staff", rtp_port=9, timeout_s=90,
                                         scenario=NO_ANSWER_SCENARIO)
        await _register_staff(stack, tmp_path / "register", staff_port)
    else:
        await asyncio.sleep(0.5)
        assert "1002@" not in fs.api("sofia status profile internal reg")
    caller, caller_rtp = _caller(stack, tmp_path / "caller", line, talk_at=None,
                                 hang_up_after=18.0 + (RING_S if registered else 0))
    try:
        rc = await asyncio.to_thread(caller.wait, 120)
        staff_rc = await asyncio.to_thread(staff.wait, 30) if staff else 0
    finally:
        caller.kill()
        caller_rtp.close()
        if staff:
            staff.kill()
        await forget_registrations(fs)
    request = _transfer_request(stack, line)
    back = _after_transfer(stack, line)
    offer = next((s for s in _spoken(stack) if "message" in s["text"]
                  and s["at"] > request["at"]), None)
    heard_offer = caller_rtp.first_audible(after=offer["at"]) if offer else None
    zero = request["at"]
    events = [(t, f"caller {d} {f}") for t, d, f in caller.messages()]
    if staff:
        events += [(t, f"staff phone {d} {f}") for t, d, f in staff.messages()]
    events.append((zero, "LLM asks for transfer_to_staff"))
    if back:
        events.append((back["at"], f"LLM gets the tool result: {back['tool_results']}"))
    if offer:
        events.append((offer["at"], f"agent says: {offer['text']!r}"))
    if heard_offer:
        events.append((heard_offer, "caller hears the agent again"))
    with capsys.disabled():
        label = "rings out" if registered else "is not registered"
        print(f"\nwarm transfer, the staff phone {label} (0 = transfer request):\n"
              f"{_timeline(events, zero)}")
        if heard_offer:
            print(f"transfer request -> caller hears the message offer: {heard_offer - zero:.2f} s")
    assert rc == 0, f"caller: rc {rc}\n{caller.output()[-2000:]}"
    assert staff_rc == 0, f"staff phone: {staff.output()[-2000:] if staff else ''}"
    assert back is not None, "the agent never got the transfer's outcome"
    assert offer is not None and heard_offer is not None, "the caller never heard the offer"
    return {"zero": zero, "back": back, "heard_offer": heard_offer,
            "staff": staff.messages() if staff else []}


async def test_staff_do_not_answer_the_agent_offers_a_message(stack, tmp_path, capsys):
    line = Script.load(SCRIPT).caller[1]
    result = await _unanswered(stack, tmp_path, line, capsys, registered=True)
    results = str(result["back"]["tool_results"])
    assert "nobody answered" in results, results
    staff = result["staff"]
    assert _first(staff, "received", "INVITE") is not None, "the staff phone never rang"
    cancel = _first(staff, "received", "CANCEL")
    assert cancel is not None, "the ring was never given up"
    rang = cancel - _first(staff, "received", "INVITE")
    assert RING_S - 1 <= rang <= RING_S + 4, f"rang {rang:.1f} s, STAFF_RING_SECONDS={RING_S}"


async def test_staff_phone_not_registered_the_agent_offers_a_message(stack, tmp_path, capsys):
    line = Script.load(SCRIPT).caller[2]
    result = await _unanswered(stack, tmp_path, line, capsys, registered=False)
    results = str(result["back"]["tool_results"])
    assert "not connected" in results, results
    assert result["back"]["at"] - result["zero"] < 5.0, "a phone that is not there took long"


def test_no_freeswitch_errors(stack):
    errors = fs_of(stack).errors_logged()
    assert errors == [], "\n".join(errors)
