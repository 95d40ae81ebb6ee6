"""A real SIP call, end to end, through the same native stack `make dev` runs.

redis-server, LiveKit server, LiveKit SIP, the Firestore emulator, the fake AI providers and
the real worker (`python main.py start`) are started by scripts/devstack.py; SIPp then calls
the restaurant number exactly as FreeSWITCH bridges a caller (from 127.0.0.1, the trunk's only
allowed address, caller ID in From, PCMU offer in the INVITE) and plays the caller's speech
(espeak-ng) as PCMU RTP. The agent greets, takes an order for a large cappuccino through the
real tools, saves it in Firestore and hangs up: SIPp's scenario only passes on the agent's BYE.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from livekit import api

from fakes.script import Script
from scripts.devstack import Ports, Stack, StackError, StackOptions, find_binary
from testkit.caller import RtpCapture, caller_audio, start_sipp
from testkit.clock import open_timezone
from testkit.emulator import EMULATOR_JAR
from tests.telephony.helpers import require, require_tools

log = logging.getLogger("telephony.e2e")
HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "order_call.yaml"
RESTAURANT_NUMBER = "+15550100"
CALLER = "+16175550199"
PROJECT = "demo-telephony"  # apart from the other tests' project, which they wipe per test


def _binaries_present() -> None:
    require_tools("redis-server", "sipp", "java")
    for env_var, names in (("LIVEKIT_SERVER_BIN", ("livekit-server", "server")),
                           ("LIVEKIT_SIP_BIN", ("livekit-sip",))):
        try:
            find_binary(env_var, *names)
        except StackError:
            require(False, f"`{names[0]}` (built by scripts/install_deps.sh)")
    require(shutil.which("espeak-ng") is not None, "`espeak-ng` (the caller's voice)")


def _fake_log(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base_url}/_fake/log", timeout=5) as resp:
        return json.loads(resp.read())


async def _watch_room(stack: Stack, seen: dict[str, Any], stop: asyncio.Event,
                      exclude: frozenset[str] = frozenset()) -> None:
    """Record when the call's room, its SIP participant and the agent appear (rooms in
    `exclude`, earlier calls' rooms LiveKit has not closed yet, are not this call's)."""
    lk = api.LiveKitAPI(stack.livekit_http, stack.api_key, stack.api_secret)
    try:
        while not stop.is_set():
            try:
                rooms = (await lk.room.list_rooms(api.ListRoomsRequest())).rooms
            except Exception as e:  # the server may be busy; keep polling
                log.debug("list_rooms: %s", e)
                rooms = []
            for room in rooms:
                if not room.name.startswith("call-") or room.name in exclude:
                    continue
                if seen.get("room", room.name) != room.name:
                    continue
                seen.setdefault("room", room.name)
                seen.setdefault("room_at", time.time())
                people = (await lk.room.list_participants(
                    api.ListParticipantsRequest(room=room.name))).participants
                for p in people:
                    if p.kind == api.ParticipantInfo.Kind.SIP and "sip" not in seen:
                        seen["sip"] = {"identity": p.identity, "attributes": dict(p.attributes)}
                        seen["sip_at"] = time.time()
                    if p.kind == api.ParticipantInfo.Kind.AGENT and "agent" not in seen:
                        seen["agent"] = p.identity
                        seen["agent_at"] = time.time()
            await asyncio.sleep(0.25)
    finally:
        await lk.aclose()


def _orders(project: str) -> list[dict[str, Any]]:
    from google.cloud import firestore  # FIRESTORE_EMULATOR_HOST is set by the fixture

    from store.scope import scoped

    client = firestore.Client(project=project)
    try:
        orders = scoped(client).collection("orders").stream()
        return [d.to_dict() | {"id": d.id} for d in orders]
    finally:
        client.close()


def _rejected_invite(stack: Stack, from_ip: str) -> str:
    """Status line LiveKit SIP answers an INVITE from an address the trunk does not allow."""
    sip_port = stack.options.ports.sip
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((from_ip, 0))
        port = sock.getsockname()[1]
        call_id = uuid.uuid4().hex
        sdp = (f"v=0\r\no=- 1 1 IN IP4 {from_ip}\r\ns=-\r\nc=IN IP4 {from_ip}\r\nt=0 0\r\n"
               f"m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        invite = (
            f"INVITE sip:{RESTAURANT_NUMBER}@127.0.0.1:{sip_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {from_ip}:{port};branch=z9hG4bK{call_id[:10]};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:{CALLER}@{from_ip}>;tag=t{call_id[:6]}\r\n"
            f"To: <sip:{RESTAURANT_NUMBER}@127.0.0.1>\r\nCall-ID: {call_id}\r\n"
            f"CSeq: 1 INVITE\r\nContact: <sip:{CALLER}@{from_ip}:{port}>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
        )
        sock.settimeout(2.0)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            sock.sendto(invite.encode(), ("127.0.0.1", sip_port))
            try:
                while True:
                    data = sock.recv(4096).decode(errors="replace")
                    status = data.split("\r\n", 1)[0]
                    code = int(status.split()[1]) if status.startswith("SIP/2.0") else 0
                    if code >= 200:
                        return status
            except TimeoutError:
                continue
        return "no answer"
    finally:
        sock.close()


async def test_sip_call_places_order_and_agent_hangs_up(firestore_emulator, tmp_path, capsys):
    _binaries_present()
    require(EMULATOR_JAR.exists() or bool(firestore_emulator.host), "the Firestore emulator")
    lines = list(Script.load(SCRIPT).caller)
    await asyncio.to_thread(firestore_emulator.reset, PROJECT)  # the menu is seeded again
    # the caller's speech, rendered before the stack starts: no CPU spike while it answers
    pcm = await asyncio.to_thread(caller_audio, lines, lead_in=5.0, gap=8.0, tail=40.0)
    options = StackOptions(
        ports=Ports.ephemeral(),
        workdir=tmp_path / "stack",
        numbers=(RESTAURANT_NUMBER,),
        allow=("127.0.0.1",),  # FreeSWITCH's address: the SIPp caller stands in for it
        firestore_host=firestore_emulator.host,
        project=PROJECT,
        fakes_script=SCRIPT,
        tts_voice="tone",
        worker="start",
        # the machine's load (CI neighbours, other stacks) must not make LiveKit SIP or the
        # worker refuse the call: capacity is bench/'s subject, not this test's
        ignore_load=True,
        # open whatever the hour CI runs at (the sample café closes at 9 pm New York time)
        worker_env={"RESTAURANT_TIMEZONE": open_timezone()},
    )
    stack = Stack(options)
    capture = RtpCapture()
    sipp = None
    watcher_stop = asyncio.Event()
    seen: dict[str, Any] = {}
    try:
        await asyncio.to_thread(stack.start)
        log.info("stack up:\n%s", stack.describe())
        again = await asyncio.to_thread(stack.setup_sip)
        assert "nothing to change" in again, f"setup_sip.py is not idempotent:\n{again}"

        watcher = asyncio.create_task(_watch_room(stack, seen, watcher_stop))
        started = time.time()
        sipp = start_sipp(workdir=tmp_path / "sipp", pcm=pcm,
                          target=f"127.0.0.1:{options.ports.sip}", number=RESTAURANT_NUMBER,
                          caller=CALLER, rtp_port=capture.port, timeout_s=240)
        rc = await asyncio.to_thread(sipp.wait, 270)
        ended = time.time()
        watcher_stop.set()
        await watcher

        messages = sipp.messages()
        timeline = [(t, f"SIPp {d} {first}") for t, d, first in messages]
        for key, label in (("room_at", f"room {seen.get('room')} created"),
                           ("sip_at", "caller joined the room (SIP participant)"),
                           ("agent_at", f"agent joined ({seen.get('agent')})")):
            if key in seen:
                timeline.append((seen[key], label))
        first_packet = capture.packets[0].at if capture.packets else None
        first_audio = capture.first_audible()
        if first_packet:
            timeline.append((first_packet, "first RTP packet back to the caller"))
        if first_audio:
            timeline.append((first_audio, "first audible agent audio (RTP)"))
        invite_at = next((t for t, d, f in messages if d == "sent" and f.startswith("INVITE")),
                         started)
        report = "\n".join(f"  {t - invite_at:7.2f}s  {what}" for t, what in sorted(timeline))
        log.info("call timeline (0 = INVITE sent):\n%s", report)
        with capsys.disabled():  # the timeline belongs in the CI log even when the test passes
            print(f"\ncall timeline (0 = INVITE sent):\n{report}")

        assert rc == 0, f"SIPp call failed (rc {rc}):\n{sipp.output()[-3000:]}"
        assert any(d == "received" and f.startswith("BYE") for _, d, f in messages), \
            "the agent's hang-up never reached the caller as a BYE"
        assert "agent" in seen, "no agent joined the call's room"
        attributes = seen["sip"]["attributes"]
        assert attributes.get("sip.phoneNumber") == CALLER, attributes
        assert attributes.get("sip.trunkPhoneNumber") == RESTAURANT_NUMBER, attributes
        assert first_audio is not None, "no audible RTP came back: the agent never spoke"
        latency = first_audio - invite_at
        log.info("INVITE -> first agent audio: %.2f s (call lasted %.1f s)", latency,
                 ended - invite_at)
        with capsys.disabled():
            print(f"INVITE -> first agent audio: {latency:.2f} s")
        assert latency < 10, f"the greeting took {latency:.1f}s to be heard"
        assert capture.audible_seconds() > 3, "the agent spoke less than the greeting"

        llm_log = _fake_log(stack.fakes.llm)["requests"]
        errors = [e for r in llm_log for e in r["errors"]]
        assert not errors, errors
        called = [c["name"] for r in llm_log for c in r["tool_calls"]]
        assert called == ["start_order", "add_item", "set_customer", "review_order", "confirm",
                          "end_call"], called
        heard = [e["text"] for e in _fake_log(stack.fakes.stt)["emitted"]]
        assert heard[: len(lines)] == lines, heard

        orders = await asyncio.to_thread(_orders, PROJECT)
        assert len(orders) == 1, orders
        order = orders[0]
        assert order["customer_phone"] == CALLER and order["customer_name"] == "Sam Rivera"
        assert [line["item_id"] for line in order["lines"]] == ["cappuccino"], order["lines"]
        assert order["call_id"] == seen["room"], (order["call_id"], seen["room"])

        status = await asyncio.to_thread(_rejected_invite, stack, "127.0.0.2")
        print(f"INVITE from 127.0.0.2 (not FreeSWITCH): {status}")
        # LiveKit SIP drops INVITEs no trunk admits ("inbound flood"): no answer, or a 4xx
        assert not status.startswith("SIP/2.0 2"), f"a stranger's INVITE was accepted: {status}"
        log.info("INVITE from 127.0.0.2 (not FreeSWITCH): %s", status)
        lk = api.LiveKitAPI(stack.livekit_http, stack.api_key, stack.api_secret)
        try:
            rooms = (await lk.room.list_rooms(api.ListRoomsRequest())).rooms
        finally:
            await lk.aclose()
        assert not [r.name for r in rooms if r.name.startswith("call-")], \
            "the stranger's call (or the finished call) still has a room"
    finally:
        watcher_stop.set()
        if sipp is not None:
            sipp.kill()
        capture.close()
        await asyncio.to_thread(stack.stop)
