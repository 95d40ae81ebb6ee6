"""The agent's way out, through the real FreeSWITCH: LiveKit SIP's outbound trunk -> FreeSWITCH's
`outbound` profile -> the staff phone 1002 or, through the provider, a guest's number.

Everything on loopback: LiveKit server and SIP, FreeSWITCH bound to 127.0.0.1, the provider
is a SIPp phone on 127.0.0.5 (FreeSWITCH's PROVIDER_OUTBOUND), strangers call from 127.0.0.4.
No worker: the calls are placed with LiveKit's CreateSIPParticipant, as the worker and the
dialer do.

- scripts/setup_sip.py creates the trunk `restaurant-outbound` idempotently;
- the trunk rings a guest's US number through the provider, with the restaurant's caller ID;
  and the staff phone 1002 (registered: answered; not registered: refused at once);
- premium rate, toll-free, another NANP country and abroad are refused without a packet to the
  provider; abroad is allowed once the restaurant enables it (`outbound_international`);
- only the trunk: no credentials 407, the trunk's password from another address 403, a phone's
  password on the outbound port 403, a softphone or the provider port dialling a guest 404.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from livekit import api

from scripts.devstack import Ports, Stack, StackOptions
from scripts.freeswitch import FreeSwitch, FreeSwitchError, find_freeswitch
from telephony.sip_outbound import outbound_trunk_id
from testkit.caller import (
    SIPP_DIR,
    RtpCapture,
    answer_calls,
    free_udp_port,
    register,
    sip_final_status,
    start_sipp,
)
from testkit.emulator import EMULATOR_JAR
from tests.telephony.helpers import forget_registrations, fs_of, require
from tests.telephony.test_sip_call_e2e import _binaries_present

log = logging.getLogger("telephony.outbound")
HERE = Path(__file__).resolve().parent
SOFTPHONE_SCENARIO = SIPP_DIR / "softphone_uac.xml"
RESTAURANT_NUMBER = "+15550100"
GUEST = "+16175550123"
GUEST_IP = "127.0.0.5"  # the provider's termination (a SIPp phone)
PROVIDER_IP = "127.0.0.3"  # the provider's inbound signalling (PROVIDER_CIDRS)
STRANGER_IP = "127.0.0.4"


def _freeswitch_present() -> None:
    try:
        find_freeswitch()
    except FreeSwitchError:
        require(False, "FreeSWITCH (built by scripts/build_freeswitch.sh)")


@pytest.fixture(scope="module")
def guest_port() -> int:
    return free_udp_port(GUEST_IP)


@pytest.fixture(scope="module")
def out_stack(firestore_emulator, tmp_path_factory, guest_port) -> Iterator[Stack]:
    _binaries_present()
    _freeswitch_present()
    require(EMULATOR_JAR.exists() or bool(firestore_emulator.host), "the Firestore emulator")
    stack = Stack(StackOptions(
        ports=Ports.ephemeral(),
        workdir=tmp_path_factory.mktemp("fs-outbound"),
        numbers=(RESTAURANT_NUMBER,),
        allow=("127.0.0.1",),
        firestore_host=firestore_emulator.host,
        seed_menu=False,
        worker=None,
        ignore_load=True,
        freeswitch=True,
        provider_cidrs=f"{PROVIDER_IP}/32",
        provider_outbound=f"{GUEST_IP}:{guest_port}",
    ))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def _provider_bridges(fs: FreeSwitch) -> int:
    """Bridges the dialplan ran towards the provider (a guest's number)."""
    text = fs.log_path.read_text(errors="replace")
    return len(re.findall(r"EXECUTE \[depth=\d+\] \S+ bridge\(\S*sofia/(?:external/\+|gateway/)",
                          text))


async def _dial(stack: Stack, number: str, *, ringing_s: float = 15.0) -> tuple[bool, str]:
    """Place a call through the outbound trunk into a fresh room; (answered, error text)."""
    lk = api.LiveKitAPI(stack.livekit_http, stack.api_key, stack.api_secret)
    room = f"outbound-test-{time.monotonic_ns()}"
    try:
        trunk = await outbound_trunk_id(lk)
        request = api.CreateSIPParticipantRequest(
            sip_trunk_id=trunk, sip_call_to=number, room_name=room,
            participant_identity="callee", wait_until_answered=True)
        request.ringing_timeout.FromSeconds(int(ringing_s))
        try:
            await lk.sip.create_sip_participant(request)
        except api.TwirpError as e:
            return False, f"{e.code}: {e.message} {e.metadata}"
        await lk.room.delete_room(api.DeleteRoomRequest(room=room))  # hang up
        return True, ""
    finally:
        await lk.aclose()


async def _outbound_trunks(stack: Stack) -> list:
    from livekit.protocol import sip as sip_pb

    lk = api.LiveKitAPI(stack.livekit_http, stack.api_key, stack.api_secret)
    try:
        return list((await lk.sip.list_outbound_trunk(sip_pb.ListSIPOutboundTrunkRequest())).items)
    finally:
        await lk.aclose()


async def _registered(fs: FreeSwitch, user: str, wait_s: float = 20.0) -> bool:
    """FreeSWITCH writes registrations through its SQL queue: a moment after the 200 OK, and
    seconds after it on a busy machine (seen: 5 s was not enough while `show registrations`
    already listed the phone)."""
    # The contact shows a moment before `bridge user/...` finds it (seen here: a bridge 40 ms
    # after the first sighting failed with USER_NOT_REGISTERED): wait for it to settle.
    deadline = time.monotonic() + wait_s
    while True:
        if _reachable(fs, user):
            await asyncio.sleep(0.5)
            if _reachable(fs, user):
                return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)


def _reachable(fs: FreeSwitch, user: str) -> bool:
    """What `bridge user/...` looks up: the phone's contact, or error/user_not_registered."""
    domain = fs.api("global_getvar domain").strip()
    return fs.api(f"sofia_contact */{user}@{domain}").strip().startswith("sofia/")


def _invite_text(call) -> str:
    """The first INVITE the SIPp phone received, whole."""
    text = call.message_log.read_text(errors="replace") if call.message_log.exists() else ""
    m = re.search(r"message received[^\n]*\n+\s*(INVITE .*?)(?:\n-{10,}|\Z)", text, re.DOTALL)
    return m.group(1) if m else ""


# --- the trunk ------------------------------------------------------------------------------


async def test_setup_sip_creates_the_outbound_trunk_once(out_stack):
    assert "created outbound trunk" in out_stack.setup_output, out_stack.setup_output
    trunks = await _outbound_trunks(out_stack)
    assert len(trunks) == 1
    trunk = trunks[0]
    fs_port = out_stack.options.ports.freeswitch.outbound_sip
    assert trunk.name == "restaurant-outbound"
    assert trunk.address == f"127.0.0.1:{fs_port}"
    assert list(trunk.numbers) == [RESTAURANT_NUMBER]
    assert trunk.auth_username == "livekit-outbound"
    again = await asyncio.to_thread(out_stack.setup_sip)
    assert f"unchanged outbound trunk {trunk.sip_trunk_id}" in again, again
    assert "nothing to change" in again
    # a new password (rotated in .env) updates the same trunk in place; and back
    password = out_stack.outbound_password
    try:
        out_stack.outbound_password = "rotated-" + password
        changed = await asyncio.to_thread(out_stack.setup_sip)
        assert f"updated outbound trunk {trunk.sip_trunk_id}" in changed, changed
    finally:
        out_stack.outbound_password = password
        restored = await asyncio.to_thread(out_stack.setup_sip)
    assert f"updated outbound trunk {trunk.sip_trunk_id}" in restored
    assert [t.sip_trunk_id for t in await _outbound_trunks(out_stack)] == [trunk.sip_trunk_id]
    assert password not in again + restored, "setup_sip printed the trunk's password"


async def test_the_trunk_rings_a_guest_through_the_provider(out_stack, tmp_path, guest_port,
                                                          capsys):
    fs = fs_of(out_stack)
    rtp = RtpCapture(ip=GUEST_IP)
    guest, _ = answer_calls(workdir=tmp_path / "guest", rtp_port=rtp.port, local_ip=GUEST_IP,
                            port=guest_port, timeout_s=60)
    await asyncio.sleep(0.5)  # SIPp binds its port
    started = time.time()
    try:
        answered, error = await _dial(out_stack, GUEST)
        dialled = time.time()
        rc = await asyncio.to_thread(guest.wait, 30)
    finally:
        guest.kill()
        rtp.close()
    assert answered, error
    assert rc == 0, f"the guest's phone: rc {rc}\n{guest.output()[-2000:]}"
    invite = _invite_text(guest)
    assert invite.startswith(f"INVITE sip:{GUEST}@{GUEST_IP}:{guest_port}"), invite[:300]
    from_header = next(line for line in invite.splitlines() if line.lower().startswith("from:"))
    assert RESTAURANT_NUMBER in from_header, from_header
    received = [(t, f) for t, d, f in guest.messages() if d == "received"]
    assert any(f.startswith("BYE") for _, f in received), "hanging up never reached the guest"
    assert _provider_bridges(fs) >= 1
    with capsys.disabled():
        ring = received[0][0] - started
        print(f"\noutbound trunk -> FreeSWITCH -> provider: guest's phone rang {ring:.2f} s after "
              f"CreateSIPParticipant, answered call returned after {dialled - started:.2f} s")


@pytest.mark.parametrize(("number", "what"), [
    ("+19005550123", "premium rate"),
    ("+19765550123", "premium rate (976)"),
    ("+18005550123", "toll-free"),
    ("+18095550123", "Dominican Republic (+1, international)"),
    ("+14165550123", "Toronto (+1, international)"),
    ("+442079460000", "London"),
    ("+15005550123", "a personal (follow-me) number"),
    ("5000", "the agent's own extension"),
    ("1001", "the developer's softphone"),
])
async def test_the_trunk_never_dials_premium_tollfree_or_abroad(out_stack, number, what):
    fs = fs_of(out_stack)
    before = _provider_bridges(fs)
    answered, error = await _dial(out_stack, number, ringing_s=5)
    assert not answered, f"{what} was dialled"
    assert _provider_bridges(fs) == before, f"{what}: FreeSWITCH bridged to the provider"
    log.info("%s (%s): %s", number, what, error)


async def test_abroad_once_the_restaurant_enables_it(out_stack, tmp_path, guest_port):
    fs = fs_of(out_stack)
    london = "+442079460000"
    fs.api("global_setvar outbound_international=true")
    rtp = RtpCapture(ip=GUEST_IP)
    guest, _ = answer_calls(workdir=tmp_path / "guest", rtp_port=rtp.port, local_ip=GUEST_IP,
                            port=guest_port, timeout_s=60)
    await asyncio.sleep(0.5)
    try:
        answered, error = await _dial(out_stack, london)
        premium, _ = await _dial(out_stack, "+19005550123", ringing_s=5)
        rc = await asyncio.to_thread(guest.wait, 30)
    finally:
        fs.api("global_setvar outbound_international=false")
        guest.kill()
        rtp.close()
    assert answered, error
    assert rc == 0, guest.output()[-2000:]
    assert _invite_text(guest).startswith(f"INVITE sip:{london}@"), _invite_text(guest)[:200]
    assert not premium, "premium rate stays closed with international on"
    assert not (await _dial(out_stack, london, ringing_s=5))[0], "off again: London refused"


async def test_the_trunk_rings_the_staff_phone_or_fails_fast(out_stack, tmp_path, capsys):
    fs = fs_of(out_stack)
    await forget_registrations(fs)
    started = time.monotonic()
    answered, refusal = await _dial(out_stack, "1002")
    refused_after = time.monotonic() - started
    assert not answered, "1002 is not registered, yet the call was answered"
    assert refused_after < 5.0, f"an unregistered staff phone took {refused_after:.1f} s"

    staff_rtp = RtpCapture(speak=None)
    staff, staff_port = answer_calls(workdir=tmp_path / "staff", rtp_port=staff_rtp.port,
                                     timeout_s=60)
    registration = await asyncio.to_thread(
        register, workdir=tmp_path / "register-1002",
        target=f"127.0.0.1:{out_stack.options.ports.freeswitch.internal_sip}", user="1002",
        password=fs.options.staff_phone_password, contact_port=staff_port)
    assert registration.process.returncode == 0, registration.output()[-2000:]
    assert await _registered(fs, "1002"), "1002's registration never showed in FreeSWITCH"
    try:
        started = time.monotonic()
        answered, error = await _dial(out_stack, "1002")
        answered_after = time.monotonic() - started
        rc = await asyncio.to_thread(staff.wait, 30)
    finally:
        staff.kill()
        staff_rtp.close()
        await forget_registrations(fs)
    assert answered, error
    assert rc == 0, staff.output()[-2000:]
    with capsys.disabled():
        print(f"\noutbound trunk -> 1002: not registered, refused after {refused_after:.2f} s "
              f"({refusal[:160]}); registered, answered after {answered_after:.2f} s")


# --- only the trunk -------------------------------------------------------------------------


async def test_nobody_else_can_dial_out(out_stack, tmp_path, guest_port, capsys):
    fs = fs_of(out_stack)
    ports = out_stack.options.ports.freeswitch
    before = _provider_bridges(fs)
    outbound = f"127.0.0.1:{ports.outbound_sip}"

    # no credentials at all, from anywhere: challenged
    bare = await asyncio.to_thread(sip_final_status, from_ip=STRANGER_IP,
                                   target_port=ports.outbound_sip, number=GUEST, caller="x")
    assert bare.startswith("SIP/2.0 407"), bare

    async def attempt(name: str, *, target: str, number: str, user: str, password: str,
                      local_ip: str = "127.0.0.1") -> list[str]:
        call = start_sipp(workdir=tmp_path / name, pcm=None, target=target, number=number,
                          caller=user, rtp_port=9, scenario=SOFTPHONE_SCENARIO, user=user,
                          password=password, timeout_s=20, local_ip=local_ip)
        rc = await asyncio.to_thread(call.wait, 40)
        received = [f for _, d, f in call.messages() if d == "received"]
        assert rc != 0, f"{name}: the call went through\n{received}"
        return [f for f in received if re.match(r"SIP/2.0 [3-6]\d\d", f)
                and not f.startswith("SIP/2.0 407")]

    # the trunk's own password, but not from LiveKit SIP's address: refused by the dialplan
    stolen = await attempt("stolen", target=outbound, number=GUEST, user="livekit-outbound",
                           password=out_stack.outbound_password, local_ip=STRANGER_IP)
    assert stolen and stolen[-1].startswith("SIP/2.0 403"), stolen
    # a phone's password on the outbound port: not a user of that domain
    phone = await attempt("phone-on-outbound", target=outbound, number=GUEST, user="1001",
                          password=fs.options.dev_phone_password)
    assert phone and phone[-1].startswith("SIP/2.0 403"), phone
    # the softphone, properly authenticated on its own port, dialling a guest
    softphone = await attempt("softphone", target=f"127.0.0.1:{ports.internal_sip}",
                              number=GUEST, user="1001", password=fs.options.dev_phone_password)
    assert softphone and softphone[-1].startswith("SIP/2.0 404"), softphone
    # the provider's own address dialling a guest back out
    provider = await asyncio.to_thread(sip_final_status, from_ip=PROVIDER_IP,
                                       target_port=ports.external_sip, number=GUEST,
                                       caller=RESTAURANT_NUMBER)
    assert provider.startswith("SIP/2.0 404"), provider
    assert _provider_bridges(fs) == before, "a refused call reached the provider"
    with capsys.disabled():
        print(f"\ndialling {GUEST} out: no credentials -> {bare}; the trunk's password from "
              f"{STRANGER_IP} -> {stolen[-1]}; 1001's password on the outbound port -> "
              f"{phone[-1]}; 1001 on its own port -> {softphone[-1]}; provider port from "
              f"{PROVIDER_IP} -> {provider}")


def test_freeswitch_logged_no_errors(out_stack):
    errors = fs_of(out_stack).errors_logged()
    assert errors == [], "\n".join(errors)
    assert "outbound" in fs_of(out_stack).api("sofia status")
