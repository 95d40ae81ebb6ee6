"""The kitchen marks an item sold out with the staff script: the next turn of a live call knows."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from domain.menu import Catalog, Menu
from store import MenuWatch, close_sync_client, make_sync_client
from testkit.scripted_llm import Call
from tests.conftest import ROOT
from tests.conversation.harness import open_call, tool_output


async def test_sold_out_reaches_the_next_turn_of_a_call(seeded_db, firestore_settings):
    catalog = Catalog(Menu([]), await seeded_db.load_restaurant_settings())
    client = make_sync_client(firestore_settings)
    loop = asyncio.get_running_loop()
    sold_out = asyncio.Event()

    def deliver(items):  # runs on the watch thread, as in the worker
        catalog.replace_menu(items)
        if not catalog.menu.get("latte").available:
            loop.call_soon_threadsafe(sold_out.set)

    watch = MenuWatch(client, on_menu=deliver, on_settings=lambda s: None)
    try:
        assert await asyncio.to_thread(watch.wait_ready, 10)
        call = await open_call(
            seeded_db, Call("start_order"), Call("add_item", {"item": "latte"}), "One latte.",
            Call("add_item", {"item": "latte"}), "Sorry, we just sold out of lattes.",
            catalog=catalog,
        )
        result = await call.caller_says("A latte please")
        assert not tool_output(result, "add_item")[1]
        before = call.session.current_agent.instructions
        assert "Latte" in before.split("sold out today")[0]

        env = {**os.environ, "FIRESTORE_EMULATOR_HOST": firestore_settings.firestore_emulator_host,
               "GOOGLE_CLOUD_PROJECT": firestore_settings.google_cloud_project}
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "scripts/seed_menu.py", "--sold-out", "latte"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        async with asyncio.timeout(10):
            await sold_out.wait()

        result = await call.caller_says("And another latte")
        output, is_error = tool_output(result, "add_item")
        assert is_error and "Latte is sold out today" in output
        # the order agent's menu text was refreshed for the model too
        assert "Latte" in call.session.current_agent.instructions.split("sold out today:")[1]
    finally:
        watch.close()
        close_sync_client(client)
