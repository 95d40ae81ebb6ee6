"""Calls through the real FreeSWITCH, the path every production call takes.

FreeSWITCH (built by scripts/build_freeswitch.sh) runs with freeswitch-config/ as it is, its
profiles and RTP bound to 127.0.0.1 (FS_BIND_IP; NAT discovery off), in front of the same
native stack test_sip_call_e2e.py uses: LiveKit server, LiveKit SIP, the Firestore emulator,
the fake AI providers and the real worker. SIPp plays the softphones and the provider, from
127.0.0.0/8 addresses only.

- softphone: 1001 registers (digest), dials 5000 (407, then authenticated), FreeSWITCH bridges
  to LiveKit SIP, the agent takes an order, Firestore has it, the agent's BYE reaches the
  phone. The call's timeline is printed even when it passes.
- provider: an INVITE for the restaurant number on the provider port from PROVIDER_CIDRS
  reaches the agent with the caller's number; from elsewhere: 403 and no room.
- refusals: wrong password 403, unauthenticated INVITE 407, an outside number from 1001 404
  with no outgoing leg.
- latency: "INVITE -> first agent audio" for calls through FreeSWITCH and straight to LiveKit
  SIP, alternately, in the same run: what FreeSWITCH adds is printed.
- transfer (cold: STAFF_TRANSFER_TO a SIP URI): the caller asks for a person, LiveKit SIP REFERs,
  FreeSWITCH rings the registered staff phone 1002 (SIPp) and connects them; 1002 not
  registered -> FreeSWITCH brings the caller back to LiveKit SIP as a new call marked
  X-Phoneline-Returned, which arrives as the attribute phoneline.returned, and the agent greets
  it with a message offer. (The default, warm transfer: test_warm_transfer.py.)
"""

from __future__ import annotations

import asyncio
import logging
import re
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from livekit import api

from fakes.audio import silence
from fakes.script import Script
from scripts.devstack import Ports, Stack, StackOptions
from scripts.freeswitch import FSXML, FreeSwitch, FreeSwitchError, find_freeswitch
from testkit.caller import (
    RATE,
    SIPP_DIR,
    RtpCapture,
    SippCall,
    answer_calls,
    caller_audio,
    register,
    sip_final_status,
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
from tests.telephony.test_sip_call_e2e import (
    _binaries_present,
    _fake_log,
    _orders,
    _watch_room,
)

log = logging.getLogger("telephony.freeswitch")
HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "softphone_order_call.yaml"
SOFTPHONE_SCENARIO = SIPP_DIR / "softphone_uac.xml"
PROVIDER_SCENARIO = SIPP_DIR / "freeswitch_bridge_uac.xml"
RESTAURANT_NUMBER = "+15550100"
CALLER = "+16175550199"
PROVIDER_IP = "127.0.0.3"  # PROVIDER_CIDRS is this /32
STRANGER_IP = "127.0.0.4"
PROJECT = "demo-freeswitch"
HANGUP_AFTER_S = 10.0  # short calls: the greeting is heard well within this


def _freeswitch_present() -> None:
    try:
        find_freeswitch()
    except FreeSwitchError:
        require(False, "FreeSWITCH (built by scripts/build_freeswitch.sh)")


@pytest.fixture(scope="module")
def fs_stack(firestore_emulator, tmp_path_factory) -> Iterator[Stack]:
    _binaries_present()
    _freeswitch_present()
    require(EMULATOR_JAR.exists() or bool(firestore_emulator.host), "the Firestore emulator")
    firestore_emulator.reset(PROJECT)
    workdir = tmp_path_factory.mktemp("fs-stack")
    ports = Ports.ephemeral()
    stack = Stack(StackOptions(
        ports=ports,
        workdir=workdir,
        numbers=(RESTAURANT_NUMBER,),
        allow=("127.0.0.1",),  # FreeSWITCH's address (and the direct-path SIPp's)
        firestore_host=firestore_emulator.host,
        project=PROJECT,
        fakes_script=SCRIPT,
        tts_voice="tone",
        worker="start",
        # the machine's load (CI neighbours, other stacks) must not make LiveKit SIP or the
        # worker refuse these calls: capacity is bench/'s subject, not this test's
        ignore_load=True,
        worker_env={
            # where LiveKit SIP REFERs "speak to a person": FreeSWITCH rings the staff phone
            "STAFF_TRANSFER_TO": f"sip:1002@127.0.0.1:{ports.freeswitch.external_sip}",
            # open at any hour (noon there), so "speak to a person" is a transfer, not a message
            "RESTAURANT_TIMEZONE": open_timezone(),
        },
        freeswitch=True,
        provider_cidrs=f"{PROVIDER_IP}/32",
    ))
    try:
        stack.start()
        log.info("stack up:\n%s", stack.describe())
        yield stack
    finally:
        stack.stop()
        fs = stack.freeswitch
        if fs is not None:
            assert not (fs.dirs["log"] / FSXML).exists(), "the passwords file was left behind"


async def _call_rooms(stack: Stack) -> list[str]:
    lk = api.LiveKitAPI(stack.livekit_http, stack.api_key, stack.api_secret)
    try:
        rooms = (await lk.room.list_rooms(api.ListRoomsRequest())).rooms
    finally:
        await lk.aclose()
    return [r.name for r in rooms if r.name.startswith("call-")]


async def _room_gone(stack: Stack, room: str, wait_s: float = 20.0) -> bool:
    deadline = time.monotonic() + wait_s
    while room in await _call_rooms(stack):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)  # polling LiveKit's API: there is no event to wait on
    return True


def _bridges(fs: FreeSwitch) -> int:
    """How many times the dialplan has run `bridge` (to LiveKit SIP, a phone or anywhere)."""
    text = fs.log_path.read_text(errors="replace")
    return len(re.findall(r"EXECUTE \[depth=\d+\] \S+ bridge\(", text))


async def _softphone_dials_5000(stack: Stack, tmp_path: Path, pcm: bytes,
                                earlier: frozenset[str], timeout_s: int
                                ) -> tuple[int, SippCall, RtpCapture, dict[str, Any]]:
    """The registered softphone 1001 calls 5000 saying `pcm`, until SIPp ends (the agent's
    BYE) or `timeout_s`: SIPp's exit code, its call, its RTP socket (closed) and the room
    seen."""
    capture = RtpCapture(speak=pcm)  # the softphone's RTP socket: it listens and talks
    seen: dict[str, Any] = {}
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_room(stack, seen, stop, earlier))
    sipp = start_sipp(workdir=tmp_path / "call", pcm=None, target=internal_sip(stack),
                      number="5000", caller="1001", rtp_port=capture.port,
                      scenario=SOFTPHONE_SCENARIO, user="1001",
                      password=fs_of(stack).options.dev_phone_password, timeout_s=timeout_s)
    try:
        rc = await asyncio.to_thread(sipp.wait, timeout_s + 30)
    finally:
        stop.set()
        await watcher
        sipp.kill()
        capture.close()
    return rc, sipp, capture, seen


def _first(messages: list[tuple[float, str, str]], direction: str, start: str) -> float | None:
    return next((t for t, d, f in messages if d == direction and f.startswith(start)), None)


def _timeline(events: list[tuple[float, str]], zero: float) -> str:
    return "\n".join(f"  {t - zero:7.2f}s  {what}" for t, what in sorted(events))


# --- FreeSWITCH itself ----------------------------------------------------------------------


def test_freeswitch_runs_our_config_cleanly(fs_stack):
    fs = fs_of(fs_stack)
    status = fs.api("sofia status")
    assert "internal" in status and "external" in status, status
    assert "gateway" not in status.lower().replace("gateways", ""), status  # no provider trunk
    assert fs.errors_logged() == [], "\n".join(fs.errors_logged())
    warnings = "\n".join(fs.warnings_logged())
    for fixed in ("deprecated", "Rounding odd", "Rounding even"):
        assert fixed not in warnings, warnings
    # bound to loopback only, on the ports asked for
    ports = fs_stack.options.ports.freeswitch
    for port in (ports.internal_sip, ports.external_sip):
        assert f"127.0.0.1:{port}" in status, status
    assert fs.api("global_getvar bind_ip").strip() == "127.0.0.1"
    # compose passes unset optional settings as "": the defaults stay
    assert fs.api("global_getvar provider_cidrs").strip() == f"{PROVIDER_IP}/32"
    assert fs.api("global_getvar provider_proxy").strip() == "sip.provider.invalid"
    assert not (fs.dirs["log"] / FSXML).exists(), "passwords in clear left in the log dir"


def test_a_broken_config_fails_start_with_the_xml_error(tmp_path):
    """Errors from before mod_logfile loads (XML, preprocessor) reach the test log."""
    _freeswitch_present()
    import shutil

    from scripts.freeswitch import CONFIG_DIR, FreeSwitchOptions

    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    directory = config / "directory" / "restaurant.xml"
    # a typo right after 1001's password: the quoted lines around the error hold it
    text = directory.read_text()
    assert text.count("            </params>") == 2
    directory.write_text(text.replace("            </params>", "            </parms>", 1))
    fs = FreeSwitch(FreeSwitchOptions(workdir=tmp_path / "fs", config_dir=config,
                                      ports=Ports.ephemeral().freeswitch))
    with pytest.raises(FreeSwitchError) as failure:
        fs.start(timeout=30)
    message = str(failure.value)
    print(message[-1500:])
    assert "unexpected closing tag </parms>" in message, message[-3000:]
    assert "> " in message and "</parms>" in message.split("around line", 1)[1], message
    assert 'name="password" value="<redacted>"' in message, message
    assert fs.options.dev_phone_password not in message
    assert not (fs.dirs["log"] / FSXML).exists()


# --- refusals -------------------------------------------------------------------------------


async def test_refusals(fs_stack, tmp_path, capsys):
    fs = fs_of(fs_stack)
    ports = fs_stack.options.ports.freeswitch
    bridges_before = _bridges(fs)
    rooms_before = set(await _call_rooms(fs_stack))

    wrong = await asyncio.to_thread(register, workdir=tmp_path / "wrong",
                                    target=internal_sip(fs_stack), user="1001",
                                    password="not-the-password")
    finals = [f for _, d, f in wrong.messages() if d == "received" and "REGISTER" not in f]
    assert any(" 403 " in f for f in finals), f"wrong password: {finals}"

    unauthenticated = await asyncio.to_thread(
        sip_final_status, from_ip="127.0.0.1", target_port=ports.internal_sip, number="5000",
        caller="1001")
    assert unauthenticated.startswith("SIP/2.0 407"), unauthenticated

    outside = start_sipp(workdir=tmp_path / "outside", pcm=None,
                         target=internal_sip(fs_stack), number="01144207946000", caller="1001",
                         rtp_port=9, scenario=SOFTPHONE_SCENARIO, user="1001",
                         password=fs.options.dev_phone_password, timeout_s=20)
    rc = await asyncio.to_thread(outside.wait, 40)
    received = [f for _, d, f in outside.messages() if d == "received"]
    assert rc != 0 and any(f.startswith("SIP/2.0 404") for f in received), received

    stranger = await asyncio.to_thread(
        sip_final_status, from_ip=STRANGER_IP, target_port=ports.external_sip,
        number=RESTAURANT_NUMBER, caller=CALLER)
    assert stranger.startswith("SIP/2.0 403"), stranger

    assert _bridges(fs) == bridges_before, "a refused call was bridged somewhere"
    assert set(await _call_rooms(fs_stack)) <= rooms_before, "a refused call got a room"
    with capsys.disabled():
        print(f"\nrefusals: wrong password -> {finals[-1]}; unauthenticated INVITE -> "
              f"{unauthenticated}; 1001 dialling 01144207946000 -> 404; provider port from "
              f"{STRANGER_IP} -> {stranger}")


# --- calls ----------------------------------------------------------------------------------


async def _short_call(stack: Stack, workdir: Path, *, path: str) -> dict[str, Any]:
    """A silent caller who hangs up after HANGUP_AFTER_S; when the agent was first heard.

    path: "softphone" (1001 -> 5000 through FreeSWITCH), "provider" (the DID on FreeSWITCH's
    provider port from PROVIDER_IP) or "direct" (SIPp as FreeSWITCH, straight to LiveKit SIP).
    """
    # an earlier call's room lingers until LiveKit's departure timeout: not this call's
    earlier = frozenset(await _call_rooms(stack))
    fs = fs_of(stack)
    ports = stack.options.ports
    local_ip = PROVIDER_IP if path == "provider" else "127.0.0.1"
    capture = RtpCapture(ip=local_ip, speak=silence(HANGUP_AFTER_S + 2, RATE))
    seen: dict[str, Any] = {}
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_room(stack, seen, stop, earlier))
    common: dict[str, Any] = {"workdir": workdir, "pcm": None,
                              "caller": CALLER, "rtp_port": capture.port, "timeout_s": 60,
                              "hangup_after_s": HANGUP_AFTER_S, "local_ip": local_ip}
    sipp: SippCall
    if path == "softphone":
        sipp = start_sipp(target=internal_sip(stack), number="5000", scenario=SOFTPHONE_SCENARIO,
                          user="1001", password=fs.options.dev_phone_password, **common)
    elif path == "provider":
        sipp = start_sipp(target=f"127.0.0.1:{ports.freeswitch.external_sip}",
                          number=RESTAURANT_NUMBER, scenario=PROVIDER_SCENARIO, **common)
    else:
        sipp = start_sipp(target=f"127.0.0.1:{ports.sip}", number=RESTAURANT_NUMBER,
                          scenario=PROVIDER_SCENARIO, **common)
    try:
        rc = await asyncio.to_thread(sipp.wait, 90)
    finally:
        stop.set()
        await watcher
        sipp.kill()
        capture.close()
    messages = sipp.messages()
    invite = _first(messages, "sent", "INVITE")
    first_audio = capture.first_audible()
    assert rc == 0, f"{path} call failed (rc {rc}):\n{sipp.output()[-3000:]}"
    assert invite is not None and first_audio is not None, f"{path}: the agent was never heard"
    return {"latency": first_audio - invite, "seen": seen, "sources": capture.sources}


async def test_provider_call_reaches_the_agent_with_the_callers_number(fs_stack, tmp_path,
                                                                      capsys):
    call = await _short_call(fs_stack, tmp_path, path="provider")
    assert "agent" in call["seen"], "no agent joined the provider's call"
    attributes = call["seen"]["sip"]["attributes"]
    assert attributes.get("sip.phoneNumber") == CALLER, attributes
    assert attributes.get("sip.trunkPhoneNumber") == RESTAURANT_NUMBER, attributes
    fs_rtp = fs_stack.options.ports.freeswitch.rtp
    # the media is anchored on FreeSWITCH (the caller hears it, not LiveKit SIP directly)
    assert {port for _, port in call["sources"]} <= set(range(fs_rtp[0], fs_rtp[1] + 1)), \
        call["sources"]
    with capsys.disabled():
        print(f"\nprovider call from {PROVIDER_IP}: sip.phoneNumber "
              f"{attributes['sip.phoneNumber']}, INVITE -> first agent audio "
              f"{call['latency']:.2f} s")


async def test_what_freeswitch_adds_to_the_first_audio(fs_stack, tmp_path, capsys):
    """Short silent calls, alternately through FreeSWITCH (softphone 1001 -> 5000) and straight
    to LiveKit SIP, in the same stack: INVITE -> first audible agent audio for each."""
    await asyncio.to_thread(register, workdir=tmp_path / "register", target=internal_sip(fs_stack),
                            user="1001", password=fs_of(fs_stack).options.dev_phone_password)
    latencies: dict[str, list[float]] = {"direct": [], "softphone": []}
    for n, path in enumerate(("direct", "softphone", "direct", "softphone")):
        call = await _short_call(fs_stack, tmp_path / f"{n}-{path}", path=path)
        latencies[path].append(call["latency"])
    direct = statistics.median(latencies["direct"])
    through = statistics.median(latencies["softphone"])
    report = (f"INVITE -> first agent audio, median of {len(latencies['direct'])} calls each: "
              f"direct to LiveKit SIP {direct:.2f} s "
              f"({', '.join(f'{x:.2f}' for x in latencies['direct'])}), "
              f"through FreeSWITCH {through:.2f} s "
              f"({', '.join(f'{x:.2f}' for x in latencies['softphone'])}); "
              f"FreeSWITCH adds {through - direct:+.2f} s")
    log.info("%s", report)
    with capsys.disabled():  # in the CI log even when the test passes
        print(f"\n{report}")
    # Not a benchmark (bench/ measures): only that FreeSWITCH adds no stall a caller would hear
    # as dead air; seconds here mean a codec, ringback, re-INVITE or media-latching problem.
    assert through - direct < 2.0, report


async def test_softphone_call_places_an_order_and_the_agent_hangs_up(fs_stack, tmp_path, capsys):
    fs = fs_of(fs_stack)
    earlier = frozenset(await _call_rooms(fs_stack))
    lines = list(Script.load(SCRIPT).caller)[:4]  # the fifth is the transfer call's
    pcm = await asyncio.to_thread(caller_audio, lines, lead_in=5.0, gap=8.0, tail=40.0)
    registration = await asyncio.to_thread(
        register, workdir=tmp_path / "register", target=internal_sip(fs_stack), user="1001",
        password=fs.options.dev_phone_password)
    reg_messages = registration.messages()
    assert registration.process.returncode == 0, registration.output()[-2000:]
    assert fs.api("sofia status profile internal reg").count("1001@") >= 1

    rc, sipp, capture, seen = await _softphone_dials_5000(fs_stack, tmp_path, pcm, earlier, 240)

    messages = reg_messages + sipp.messages()
    events = [(t, f"softphone {d} {first}") for t, d, first in messages]
    for key, label in (("room_at", f"room {seen.get('room')} created"),
                       ("sip_at", "caller joined the room (SIP participant)"),
                       ("agent_at", f"agent joined ({seen.get('agent')})")):
        if key in seen:
            events.append((seen[key], label))
    first_audio = capture.first_audible()
    if first_audio:
        events.append((first_audio, "first audible agent audio at the softphone (RTP)"))
    invite = _first(messages, "sent", "INVITE") or time.time()
    report = _timeline(events, invite)
    log.info("softphone call timeline (0 = first INVITE):\n%s", report)
    with capsys.disabled():  # the timeline belongs in the CI log even when the test passes
        print(f"\nsoftphone call through FreeSWITCH, timeline (0 = first INVITE):\n{report}")
        if first_audio:
            print(f"INVITE -> first agent audio (softphone, through FreeSWITCH): "
                  f"{first_audio - invite:.2f} s")

    assert rc == 0, f"SIPp call failed (rc {rc}):\n{sipp.output()[-3000:]}"
    assert any(d == "received" and f.startswith("BYE") for _, d, f in messages), \
        "the agent's hang-up never reached the softphone as a BYE"
    assert "agent" in seen, "no agent joined the call's room"
    attributes = seen["sip"]["attributes"]
    assert attributes.get("sip.phoneNumber") == "1001", attributes
    assert attributes.get("sip.trunkPhoneNumber") == RESTAURANT_NUMBER, attributes
    assert first_audio is not None, "no audible RTP came back: the agent never spoke"

    llm_log = _fake_log(fs_stack.fakes.llm)["requests"]
    assert not [e for r in llm_log for e in r["errors"]]
    called = [c["name"] for r in llm_log for c in r["tool_calls"]]
    assert called == ["start_order", "add_item", "set_customer", "review_order", "confirm",
                      "end_call"], called

    orders = await asyncio.to_thread(_orders, PROJECT)
    assert len(orders) == 1, orders
    order = orders[0]
    assert order["customer_phone"] == CALLER and order["customer_name"] == "Sam Rivera"
    assert [line["item_id"] for line in order["lines"]] == ["cappuccino"], order["lines"]
    assert order["call_id"] == seen["room"], (order["call_id"], seen["room"])
    assert await _room_gone(fs_stack, seen["room"]), "the agent hung up but the room stays"
    assert fs.errors_logged() == [], "\n".join(fs.errors_logged())


async def test_a_caller_who_says_nothing_is_asked_then_let_go(fs_stack, tmp_path, capsys):
    """A pocket dial, a handset put down: the caller's line carries only its noise. 15 s
    after the greeting the agent asks whether they are still there, 12 s later it says
    goodbye and hangs up (a BYE), instead of holding an agent, a channel and the providers
    on a line nobody is on. No model request is made for it."""
    earlier = frozenset(await _call_rooms(fs_stack))
    llm_before = len(_fake_log(fs_stack.fakes.llm)["requests"])
    noise = await asyncio.to_thread(caller_audio, [], lead_in=80.0, gap=0.0, tail=0.0)
    rc, sipp, _, seen = await _softphone_dials_5000(fs_stack, tmp_path, noise, earlier, 120)
    messages = sipp.messages()
    assert rc == 0, f"SIPp call failed (rc {rc}):\n{sipp.output()[-3000:]}"
    invite = _first(messages, "sent", "INVITE")
    bye = _first(messages, "received", "BYE")
    assert invite is not None and bye is not None, "the agent never hung up"
    spoken = [(e["at"], e["text"].strip()) for e in _fake_log(fs_stack.fakes.tts)["spoken"]
              if e["at"] >= invite]
    greeting = [t for t, text in spoken if text.startswith("Thanks for calling")]
    asked = [t for t, text in spoken if text == "Are you still there?"]
    goodbye = [t for t, text in spoken if text.startswith("I'll let you go now")]
    assert len(greeting) == len(asked) == len(goodbye) == 1, spoken
    with capsys.disabled():
        print("\nsilent caller (0 = INVITE): " + ", ".join(
            f"{what} {t - invite:.1f} s" for what, t in (
                ("greeting", greeting[0]), ("asked", asked[0]), ("goodbye", goodbye[0]),
                ("BYE", bye))))
    assert greeting[0] + 15 <= asked[0] < greeting[0] + 30, spoken  # 15 s after the greeting
    assert asked[0] + 12 <= goodbye[0] < bye < asked[0] + 30, (asked, goodbye, bye)
    assert len(_fake_log(fs_stack.fakes.llm)["requests"]) == llm_before
    assert await _room_gone(fs_stack, seen["room"]), "the agent hung up but the room stays"


async def test_speak_to_a_person_rings_the_staff_phone(fs_stack, tmp_path, capsys):
    """The caller asks for a person: the agent's transfer makes LiveKit SIP send a REFER,
    FreeSWITCH rings 1002 (a SIPp staff phone, registered) and connects the caller to it."""
    fs = fs_of(fs_stack)
    line = list(Script.load(SCRIPT).caller)[4]
    staff_rtp = RtpCapture(speak=silence(30.0, RATE))  # the staff phone's media
    staff, staff_port = answer_calls(workdir=tmp_path / "staff", rtp_port=staff_rtp.port)
    registration = await asyncio.to_thread(
        register, workdir=tmp_path / "register-1002", target=internal_sip(fs_stack), user="1002",
        password=fs.options.staff_phone_password, contact_port=staff_port)
    assert registration.process.returncode == 0, registration.output()[-2000:]

    pcm = await asyncio.to_thread(caller_audio, [line], lead_in=4.0, gap=0.0, tail=30.0)
    caller_rtp = RtpCapture(speak=pcm)
    caller = start_sipp(workdir=tmp_path / "caller", pcm=None, target=internal_sip(fs_stack),
                        number="5000", caller="1001", rtp_port=caller_rtp.port,
                        scenario=SOFTPHONE_SCENARIO, user="1001",
                        password=fs.options.dev_phone_password, timeout_s=90,
                        hangup_after_s=25.0)
    try:
        rc = await asyncio.to_thread(caller.wait, 120)
        staff_rc = await asyncio.to_thread(staff.wait, 30)
    finally:
        caller.kill()
        staff.kill()
        caller_rtp.close()
        staff_rtp.close()
    staff_messages = staff.messages()
    events = [(t, f"caller {d} {f}") for t, d, f in caller.messages()]
    events += [(t, f"staff phone {d} {f}") for t, d, f in staff_messages]
    zero = _first(caller.messages(), "sent", "INVITE") or time.time()
    report = _timeline(events, zero)
    with capsys.disabled():
        print(f"\ntransfer to the staff phone, timeline (0 = caller's INVITE):\n{report}")

    assert rc == 0, f"caller: rc {rc}\n{caller.output()[-2000:]}"
    assert staff_rc == 0, f"staff phone: rc {staff_rc}\n{staff.output()[-2000:]}"
    invite = next((f for _, d, f in staff_messages if d == "received"
                   and f.startswith("INVITE")), None)
    assert invite is not None, "the staff phone never rang"
    llm_log = _fake_log(fs_stack.fakes.llm)["requests"]
    called = [c["name"] for r in llm_log for c in r["tool_calls"]]
    assert called[-1] == "transfer_to_staff", called
    # the staff phone got the caller's media, from FreeSWITCH (which anchors it)
    fs_rtp = fs_stack.options.ports.freeswitch.rtp
    assert staff_rtp.packets, "no media reached the staff phone"
    assert {port for _, port in staff_rtp.sources} <= set(range(fs_rtp[0], fs_rtp[1] + 1))
    assert "bridge(user/1002@" in fs.log_path.read_text(errors="replace")


async def test_nobody_at_the_staff_phone_the_caller_returns_to_a_message_offer(fs_stack, tmp_path,
                                                                           capsys):
    """Cold transfer with 1002 not registered: FreeSWITCH bridges the caller back to LiveKit SIP,
    marked; the new call's agent offers to take a message instead of the usual greeting."""
    fs = fs_of(fs_stack)
    await forget_registrations(fs)
    earlier = frozenset(await _call_rooms(fs_stack))
    line = list(Script.load(SCRIPT).caller)[5]
    pcm = await asyncio.to_thread(caller_audio, [line], lead_in=4.0, gap=0.0, tail=30.0)
    caller_rtp = RtpCapture(speak=pcm)
    caller = start_sipp(workdir=tmp_path / "caller", pcm=None, target=internal_sip(fs_stack),
                        number="5000", caller="1001", rtp_port=caller_rtp.port,
                        scenario=SOFTPHONE_SCENARIO, user="1001",
                        password=fs.options.dev_phone_password, timeout_s=90,
                        hangup_after_s=25.0)
    returned: dict[str, Any] = {}
    lk = api.LiveKitAPI(fs_stack.livekit_http, fs_stack.api_key, fs_stack.api_secret)
    try:
        while caller.process.poll() is None and not returned:
            for room in set(await _call_rooms(fs_stack)) - earlier:
                people = (await lk.room.list_participants(
                    api.ListParticipantsRequest(room=room))).participants
                for p in people:
                    if p.attributes.get("phoneline.returned"):
                        returned = {"room": room, "at": time.time(),
                                    "attributes": dict(p.attributes)}
            await asyncio.sleep(0.3)
        rc = await asyncio.to_thread(caller.wait, 120)
    finally:
        await lk.aclose()
        caller.kill()
        caller_rtp.close()
    spoken = _fake_log(fs_stack.fakes.tts)["spoken"]
    offer = next((s for s in spoken if s["text"].startswith("Sorry, nobody from the team")), None)
    with capsys.disabled():
        print(f"\ncold transfer, 1002 not registered: the caller came back as room "
              f"{returned.get('room')} with {returned.get('attributes')}; agent: "
              f"{offer['text'] if offer else None!r}")
    assert rc == 0, f"caller: rc {rc}\n{caller.output()[-2000:]}"
    assert returned, "the caller never came back to the agent as a marked call"
    assert returned["attributes"]["phoneline.returned"] == "staff-unavailable"
    assert returned["attributes"].get("sip.phoneNumber") == "1001", returned["attributes"]
    assert offer is not None, [s["text"] for s in spoken]
    assert caller_rtp.first_audible(after=offer["at"]) is not None, "the offer was never heard"
    assert "bridge(user/1002@" in fs.log_path.read_text(errors="replace")


# Last in the module: it kills the stack's LiveKit SIP, which no later call could get past.
async def test_a_caller_whose_livekit_sip_dies_gets_a_bye_not_dead_air(fs_stack, tmp_path):
    """LiveKit SIP dies mid-call (a crash, its container killed): FreeSWITCH's leg to it gets
    no more RTP, hangs up after `livekit_media_timeout` (10 s), and the caller's phone gets a
    BYE, so they can call again, instead of silence until they give up (the 5-minute timeout
    of their own leg). Measured through compose before: 52 s of silence and no BYE."""
    fs = fs_of(fs_stack)
    capture = RtpCapture(speak=silence(90, RATE))
    sipp = start_sipp(workdir=tmp_path / "call", pcm=None, target=internal_sip(fs_stack),
                      number="5000", caller="1001", rtp_port=capture.port,
                      scenario=SOFTPHONE_SCENARIO, user="1001",
                      password=fs.options.dev_phone_password, timeout_s=80)
    try:
        for _ in range(300):  # the greeting, within 30 s: the call is up
            if capture.first_audible() is not None:
                break
            await asyncio.sleep(0.1)
        assert capture.first_audible() is not None, "the agent was never heard"
        killed = time.time()
        fs_stack.procs["livekit-sip"].popen.kill()
        rc = await asyncio.to_thread(sipp.wait, 60)
    finally:
        sipp.kill()
        capture.close()
    bye = next((t for t, d, first in sipp.messages()
                if d == "received" and first.startswith("BYE") and t > killed), None)
    assert bye is not None, f"no BYE reached the caller (rc {rc}):\n{sipp.output()[-2000:]}"
    log.info("LiveKit SIP killed: the caller's BYE came %.1f s later", bye - killed)
    assert 8.0 <= bye - killed <= 20.0, bye - killed  # the timeout, not something sooner
