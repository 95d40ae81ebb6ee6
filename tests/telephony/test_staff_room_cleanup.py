"""A warm transfer's staff side room left behind by a crash is cleared by the call watcher
(issue 26 §5), against a real LiveKit server (with its redis; no SIP needed): the room whose
call is over and the room whose briefing worker is gone are deleted (staff get a BYE), the
room of a transfer under way is left alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from livekit import api, rtc

from scripts.devstack import Stack
from services.call_watch import CallWatch, WatchOptions
from telephony.redispatch import BRIEFING_IDENTITY
from tests.telephony.helpers import livekit_only


@pytest.fixture(scope="module")
def livekit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from livekit_only(tmp_path_factory)


@pytest.fixture
async def lk(livekit_server: Stack) -> AsyncIterator[api.LiveKitAPI]:
    client = api.LiveKitAPI(livekit_server.livekit_http, livekit_server.api_key,
                            livekit_server.api_secret)
    try:
        yield client
    finally:
        await client.aclose()


async def _join(stack: Stack, room: str, identity: str) -> rtc.Room:
    token = (api.AccessToken(stack.api_key, stack.api_secret).with_identity(identity)
             .with_grants(api.VideoGrants(room_join=True, room=room)).to_jwt())
    joined = rtc.Room()
    await joined.connect(stack.livekit_url, token)
    return joined


async def _rooms(lk: api.LiveKitAPI) -> set[str]:
    return {r.name for r in (await lk.room.list_rooms(api.ListRoomsRequest())).rooms}


async def test_staff_rooms_nobody_bridges_are_cleared_and_a_live_one_is_kept(
        livekit_server: Stack, lk: api.LiveKitAPI) -> None:
    stack = livekit_server
    for call in ("call-live", "call-crashed"):  # call rooms still up (their callers wait)
        await lk.room.create_room(api.CreateRoomRequest(name=call, empty_timeout=120))
    joined = [
        await _join(stack, "staff-call-live", BRIEFING_IDENTITY),
        await _join(stack, "staff-call-live", "staff"),
        await _join(stack, "staff-call-crashed", "staff"),  # the briefing worker died
        await _join(stack, "staff-call-over", BRIEFING_IDENTITY),  # its call is gone
        await _join(stack, "staff-call-over", "staff"),
    ]
    left = asyncio.Event()
    joined[2].on("disconnected", lambda *_: left.set())
    watch = CallWatch(lk, stack.livekit_url, stack.api_key, stack.api_secret,
                      WatchOptions(agentless_grace_s=0.5))
    try:
        await watch.tick()
        rooms = await _rooms(lk)
        assert "staff-call-over" not in rooms
        assert {"staff-call-live", "staff-call-crashed"} <= rooms  # the grace first
        await asyncio.sleep(0.6)
        await watch.tick()
        rooms = await _rooms(lk)
        assert "staff-call-crashed" not in rooms and "staff-call-live" in rooms
        async with asyncio.timeout(10):
            await left.wait()  # staff's leg was ended, not left in silence
        assert [(room, what) for _, room, what in watch.events] == [
            ("staff-call-over", "staff room cleared"),
            ("staff-call-crashed", "staff room cleared")]
    finally:
        for room in joined:
            await room.disconnect()
        await watch.health.aclose()


async def test_an_outbound_calls_saved_state_is_kept_while_its_room_is_up(
        livekit_server: Stack, lk: api.LiveKitAPI, db) -> None:
    """The watcher sweeps saved call state no room holds; an outbound call (`out-` room) saves
    its state too, and a quiet stretch must not cost a re-dispatched agent the guest's answer."""
    from tests.test_call_reaper import _snapshot

    await lk.room.create_room(api.CreateRoomRequest(name="out-guest-1", empty_timeout=120))
    for call_id in ("out-guest-1", "out-gone", "call-gone"):
        await db.save_call_snapshot(call_id, _snapshot(call_id))
    watch = CallWatch(lk, livekit_server.livekit_url, livekit_server.api_key,
                      livekit_server.api_secret,
                      WatchOptions(reap_every_s=0.0, snapshot_expiry_s=0.0), db=db)
    try:
        await asyncio.sleep(0.1)  # every snapshot is now older than the expiry
        await watch.tick()
        assert await db.load_call_snapshot("out-guest-1") is not None
        assert await db.load_call_snapshot("out-gone") is None
        assert await db.load_call_snapshot("call-gone") is None
    finally:
        await lk.room.delete_room(api.DeleteRoomRequest(room="out-guest-1"))
        await watch.health.aclose()
