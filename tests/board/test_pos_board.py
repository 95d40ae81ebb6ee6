"""Staff see each order's POS state and resend it: `python -m services.board` with Square set to
the fake (official SDK), over its signed-in API; a resend never makes a second Square order."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from config import FirestoreSettings
from fakes import square as fake_square
from services.board.auth import Accounts
from store import connect
from testkit.emulator import Emulator
from testkit.firestore import seed_menu_file
from testkit.records import make_order
from testkit.square import serve_square
from tests.board.conftest import PROJECT, api_client, run_board


async def test_staff_see_the_pos_state_and_resend_without_a_twin(
        firestore_emulator: Emulator, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = FirestoreSettings(firestore_emulator_host=firestore_emulator.host,
                                 google_cloud_project=PROJECT, outbox_path=tmp_path / "o.jsonl")
    await asyncio.to_thread(seed_menu_file, settings)
    async with serve_square() as square:
        for key, value in square.env(str(tmp_path / "pos.jsonl")).items():
            monkeypatch.setenv(key, value)
        db = await connect(settings)
        # Its own owner account: the restaurant's first owner may already exist (other board
        # tests share the emulator), and then BOARD_OWNER_* creates nobody.
        owner = (f"pos-owner-{uuid.uuid4().hex[:8]}", "pos-owner-pw-1")
        await Accounts(db.db, 12).create_user(*owner, "owner")
        order = make_order("call-board-pos")
        await db.save_order(order, order.created_at.date())
        await square.fault("down")
        with run_board(firestore_emulator, settings, tmp_path, owner) as server:
            client = await api_client(server)
            try:
                r = await client.post(f"/api/pos/{order.id}/resend")
                assert r.status_code == 200, r.text
                assert r.json()["pos"]["state"] == "waiting"
                assert "503 SERVICE_UNAVAILABLE" in r.json()["pos"]["reason"]
                await square.fault("ok")
                for _ in range(2):  # staff press it twice
                    r = await client.post(f"/api/pos/{order.id}/resend")
                    assert r.json()["pos"]["state"] == "sent"
                listed = (await client.get("/api/pos")).json()["pos"]
                mine = next(p for p in listed if p["order_id"] == order.id)
                assert mine["pos_total_cents"] == order.total_cents
                assert not mine["totals_differ"]
                assert (await client.post("/api/pos/no-such-order/resend")).status_code == 404
            finally:
                await client.aclose()
        await db.close()
    assert len(square.orders()) == 1
    assert square.orders()[0]["reference_id"] == order.order_number
    assert fake_square.DEFAULT_LOCATION == square.orders()[0]["location_id"]
