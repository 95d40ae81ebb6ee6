"""The kitchen taps "sold out" on the board: a call in progress knows it on its next turn."""

from __future__ import annotations

import asyncio

from domain.menu import Catalog, Menu
from store import MenuWatch, close_sync_client, make_sync_client
from testkit.scripted_llm import Call
from tests.board.conftest import screenshot, until
from tests.conversation.harness import open_call, tool_output


async def test_sold_out_on_the_board_reaches_the_next_llm_request_of_a_live_call(
        board_db, board_server, tablet):
    page = tablet
    catalog = Catalog(Menu([]), await board_db.load_restaurant_settings())
    client = make_sync_client(board_server.settings)
    loop = asyncio.get_running_loop()
    sold_out = asyncio.Event()

    def deliver(items):  # the worker's menu listener, on its own thread
        catalog.replace_menu(items)
        if not catalog.menu.get("blueberry-muffin").available:
            loop.call_soon_threadsafe(sold_out.set)

    watch = MenuWatch(client, on_menu=deliver, on_settings=lambda s: None)
    try:
        assert await asyncio.to_thread(watch.wait_ready, 10)
        call = await open_call(
            board_db, Call("start_order"), Call("add_item", {"item": "blueberry muffin"}),
            "One blueberry muffin.",
            Call("add_item", {"item": "blueberry muffin"}), "Sorry, the muffins are gone.",
            catalog=catalog,
        )
        result = await call.caller_says("A blueberry muffin please")
        assert not tool_output(result, "add_item")[1]

        await page.goto(board_server.url + "/menu")
        await until(page, "window.__board.ready")
        item = page.locator('.menu-item[data-id="blueberry-muffin"]')
        assert await item.get_attribute("data-available") == "true"
        await item.locator("button[data-action=sold-out]").click()
        async with asyncio.timeout(10):
            await sold_out.wait()
        # the board shows it from the same listener, without a reload
        await page.locator('.menu-item[data-id="blueberry-muffin"][data-available="false"]'
                           ).wait_for()
        await screenshot(page, "menu")

        first_request_of_turn = len(call.llm.requests)
        result = await call.caller_says("And another blueberry muffin")
        output, is_error = tool_output(result, "add_item")
        assert is_error and "sold out" in output
        # the model's very next request already carried the refreshed menu text
        instructions = call.llm.requests[first_request_of_turn].agent_instructions
        assert "Blueberry Muffin" in instructions.split("sold out today:")[1]
        assert not call.llm.overrun and not call.llm.steps
    finally:
        watch.close()
        close_sync_client(client)
        await asyncio.to_thread(_available_again, board_server.settings)


def _available_again(settings) -> None:
    from store.menu_seed import set_availability

    client = make_sync_client(settings)
    try:
        set_availability(client, ["blueberry-muffin"], True)
    finally:
        close_sync_client(client)
