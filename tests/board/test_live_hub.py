"""The board's live hub keeps its Firestore listeners running.

google-cloud-firestore's Watch closes a listener for good on a stream error it does not
retry and tells nobody (watch.py, `_on_rpc_done`); a board whose listener died would show a
frozen screen while calls keep coming in. The hub restarts a stopped listener and brings its
state up to date, deletions included.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from config import FirestoreSettings
from services.board import live
from store.clients import close_sync_client, make_sync_client
from store.scope import scoped

PROJECT = "demo-live-hub"


async def _until(check, within_s: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "the hub never caught up"
        await asyncio.sleep(0.05)


async def test_a_listener_that_stops_is_started_again_and_catches_up(
        firestore_emulator, monkeypatch):
    monkeypatch.setattr(live, "WATCH_CHECK_S", 0.2)
    firestore_emulator.reset(PROJECT)
    client = make_sync_client(FirestoreSettings(
        firestore_emulator_host=firestore_emulator.host, google_cloud_project=PROJECT))
    db = scoped(client)
    calls = db.collection("call_logs")
    now = datetime.now(UTC)
    await asyncio.to_thread(calls.document("call-gone").set, {"started_at": now})
    hub = live.Hub(db, asyncio.get_running_loop()).start()
    try:
        await _until(lambda: "call-gone" in hub.state["calls"])
        sub = hub.subscribe(frozenset({"calls"}))

        # what the library does on an error it gives up on: the watch closes, silently
        hub._watches["calls"].close()
        await asyncio.to_thread(calls.document("call-gone").delete)
        await asyncio.to_thread(calls.document("call-new").set, {"started_at": now})

        await _until(lambda: "call-new" in hub.state["calls"])
        assert "call-gone" not in hub.state["calls"]  # deleted while no listener ran
        seen = []
        while not sub.queue.empty():
            change = sub.queue.get_nowait()
            assert change is not None
            seen.append((change.op, change.id))
        assert ("remove", "call-gone") in seen and ("upsert", "call-new") in seen
        # the other topics kept their own listeners
        assert not hub._stopped(hub._watches["orders"])
    finally:
        hub.close()
        close_sync_client(client)
