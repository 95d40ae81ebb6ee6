"""SIGTERM to the worker during calls (a deploy, `docker compose stop`): the calls in progress
go on to their natural end, every call log is written, no new call is taken, and the worker
then exits by itself.

The real stack without telephony (scripts/devstack.py: redis, LiveKit server, the fake AI
providers, `python main.py start`), the Firestore emulator of the test session, and two
callers that are LiveKit SDK participants publishing speech into their own rooms."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
import yaml
from livekit import api

from bench.concurrency import LLM_RULES, RATE, Caller, tagged
from config import FirestoreSettings
from fakes.audio import speech_or_tone
from scripts.devstack import Ports, Stack, StackError, StackOptions, find_binary, free_port
from store import close_sync_client, make_sync_client
from store.scope import scoped
from testkit.clock import open_timezone
from testkit.emulator import Emulator
from tests.conftest import seed_menu_file

PROJECT = "demo-drain"
LINES = ["Hi, I'd like a large cappuccino please", "It's Sam Rivera", "Yes, that's right",
         "No, that's all, bye"]
CALLS = 2
BOUND_S = 240


def _have_livekit() -> bool:
    try:
        find_binary("LIVEKIT_SERVER_BIN", "livekit-server", "server")
        find_binary("REDIS_SERVER_BIN", "redis-server")
    except StackError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _have_livekit(),
                                reason="LiveKit server / redis not installed (make deps)")


@pytest.fixture
def stack(firestore_emulator: Emulator, tmp_path: Path):
    settings = FirestoreSettings(firestore_emulator_host=firestore_emulator.host,
                                 google_cloud_project=PROJECT)
    firestore_emulator.reset(PROJECT)
    seed_menu_file(settings)
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump({
        "caller": [tagged(line, n) for line in LINES for n in range(CALLS)],
        "llm": LLM_RULES,
    }, sort_keys=False))
    ports = Ports(redis=free_port(), livekit=free_port(), livekit_tcp=free_port(),
                  livekit_udp=(14000, 14099), sip=free_port(), sip_rtp=(14200, 14299),
                  sip_health=free_port(), firestore=free_port())
    s = Stack(StackOptions(
        ports=ports, workdir=tmp_path / "stack", project=PROJECT, seed_menu=False,
        firestore_host=firestore_emulator.host, fakes_script=script, worker="start",
        worker_env={"AGENT_MAX_CALLS": "8", "RESTAURANT_TIMEZONE": open_timezone(),
                    "AGENT_HTTP_PORT": str(free_port())},
    ))
    try:
        s.start_redis()
        s.start_livekit()
        s.start_firestore()
        s.start_fakes()
        s.start_worker()
        yield s
    finally:
        s.stop()
        s.close()


def _firestore(emu: Emulator) -> tuple[dict[str, dict], int]:
    client = make_sync_client(FirestoreSettings(firestore_emulator_host=emu.host,
                                                google_cloud_project=PROJECT))
    try:
        logs = {d.id: d.to_dict() for d in scoped(client).collection("call_logs").stream()}
        orders = len(list(scoped(client).collection("orders").stream()))
        return logs, orders
    finally:
        close_sync_client(client)


async def test_sigterm_lets_calls_finish_and_every_call_log_is_written(
    stack: Stack, firestore_emulator: Emulator
):
    speech = {line: speech_or_tone(line, RATE) for line in LINES}
    callers = [Caller(n, f"drain-{n}-{os.urandom(3).hex()}", f"+161755501{n:02d}")
               for n in range(CALLS)]
    lkapi = api.LiveKitAPI(stack.livekit_http, stack.api_key, stack.api_secret)
    worker = stack.procs["worker"].popen
    try:
        async with asyncio.timeout(BOUND_S):
            for c in callers:  # two calls ring
                token = (api.AccessToken(stack.api_key, stack.api_secret)
                         .with_identity(f"caller-{c.index}")
                         .with_attributes({"sip.phoneNumber": c.phone})
                         .with_grants(api.VideoGrants(room_join=True, room=c.room_name))
                         .to_jwt())
                await c.join(stack.livekit_url, token)
                await lkapi.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(
                    agent_name=stack.options.agent_name, room=c.room_name))
            for c in callers:
                assert await c.heard_since(c.joined_at, 60) is not None, "no greeting"
                assert await c.until_listening(30)

            async def turn(line: str) -> None:
                ends = await asyncio.gather(*(c.say(speech[line]) for c in callers))
                for c, ended in zip(callers, ends, strict=True):
                    if line != LINES[-1]:
                        assert await c.heard_since(ended, 30) is not None, f"no answer: {line}"
                        assert await c.until_listening(30)

            await turn(LINES[0])  # both calls are mid-order ...
            sent_at = time.monotonic()
            os.kill(worker.pid, signal.SIGTERM)  # ... when the worker is told to stop
            await asyncio.sleep(2)
            assert worker.poll() is None, "the worker quit with calls in progress"
            assert stack.log_contains("worker", "draining worker")

            # A call that rings now is not taken by the draining worker.
            late = f"drain-late-{os.urandom(3).hex()}"
            await lkapi.room.create_room(api.CreateRoomRequest(name=late))
            await lkapi.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(
                agent_name=stack.options.agent_name, room=late))

            for line in LINES[1:]:
                await turn(line)
            for c in callers:  # the agent says goodbye and hangs up
                await asyncio.wait_for(c.gone.wait(), 60)
            await asyncio.to_thread(worker.wait, 60)  # then it exits by itself
            drained_in = time.monotonic() - sent_at
    finally:
        await asyncio.gather(*(c.leave() for c in callers), return_exceptions=True)
        await lkapi.aclose()

    assert worker.returncode == 0, stack.procs["worker"].tail()
    logs, orders = await asyncio.to_thread(_firestore, firestore_emulator)
    rooms = {c.room_name for c in callers}
    assert set(logs) == rooms, f"call logs {sorted(logs)} for calls {sorted(rooms)}"
    assert all(log["outcome"] == "order" for log in logs.values())
    assert orders == CALLS
    assert late not in logs
    print(f"\nSIGTERM mid-call: {CALLS} calls finished, {len(logs)} call logs, {orders} orders; "
          f"worker exited {worker.returncode} {drained_in:.1f}s after SIGTERM")
