"""A call ordering from the menu imported from Square's catalog, and that order going back to
Square: the import script and the official SDK against the fake Square, the menu seeded as
seed_menu seeds it, the real agents with a scripted LLM, the real emulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from square import AsyncSquare

from actions.pos import PosHandoff
from domain.pos_catalog import read_id_map
from fakes import square as fake_square
from scripts import import_square_catalog as importer
from store.outbox import Outbox
from store.pos_orders import pos_state
from testkit.firestore import seed_menu_file
from testkit.scripted_llm import Call
from testkit.square import serve_square
from tests.conftest import ROOT
from tests.conversation.harness import open_call, tool_output


async def test_a_caller_orders_from_the_menu_imported_from_square(
        db, firestore_settings, tmp_path, monkeypatch):
    async with serve_square() as square:
        square.state.catalog = json.loads(
            (ROOT / "testkit" / "square_catalog.json").read_text())["objects"]
        monkeypatch.setenv("SQUARE_ACCESS_TOKEN", square.state.token)
        monkeypatch.setenv("SQUARE_BASE_URL", square.url)
        monkeypatch.setenv("ENV_FILE", "/nonexistent")
        menu = tmp_path / "square-menu.yaml"
        assert await asyncio.to_thread(importer.main, [
            "--location", fake_square.DEFAULT_LOCATION, "--out", str(menu)]) == 0
        await asyncio.to_thread(seed_menu_file, firestore_settings, menu)

        call = await open_call(
            db,
            Call("start_order"),
            Call("add_item", {"item": "large classic burrito",
                              "options": ["steak", "guacamole"]}),
            "A large classic burrito with steak and guacamole. What name is it under?",
            Call("set_customer", {"name": "Sam Rivera"}),
            Call("review_order"),
            Call("confirm"),
            "Order placed. Anything else?",
        )
        sq = AsyncSquare(token=square.state.token, base_url=square.url)
        ids = json.loads(await asyncio.to_thread(Path(f"{menu}.square-ids.json").read_text))
        call.userdata.services.pos = PosHandoff(
            sq, fake_square.DEFAULT_LOCATION, Outbox(tmp_path / "pos.jsonl"), db.for_restaurant,
            catalog=read_id_map(ids)[1])
        result = await call.caller_says("A large classic burrito with steak and guacamole")
        added, is_error = tool_output(result, "add_item")
        # $12.00 + $1.50 large + $2.00 steak + $1.50 guacamole, priced from Square's catalog
        assert not is_error and "$17.00" in added, added
        await call.caller_says("It's Sam Rivera")
        result = await call.caller_says("Yes")
        said, is_error = tool_output(result, "confirm")
        assert not is_error and said.startswith("Order placed")
        await call.userdata.services.pos.send_pending()

    [doc] = [d async for d in db.db.collection("orders").stream()]
    order = doc.to_dict()
    [line] = order["lines"]
    assert (line["item_id"], line["size"]) == ("classic-burrito", "large")
    assert [o["option_id"] for o in line["options"]] == ["steak", "guacamole"]
    assert order["subtotal_cents"] == 1700
    [made] = square.orders()
    sent = made["line_items"][0]  # by catalog id: Square names and prices it from its catalog
    assert (sent["catalog_object_id"], sent["name"], sent["variation_name"]) == (
        "ITEM009-V1", "Classic Burrito", "Large")
    assert [m["catalog_object_id"] for m in sent["modifiers"]] == ["ML-PROTEIN-M1",
                                                                   "ML-EXTRAS-M0"]
    assert made["total_money"]["amount"] == order["total_cents"]
    state = await pos_state(db, doc.id)
    assert state is not None and state.state == "sent" and not state.totals_differ
