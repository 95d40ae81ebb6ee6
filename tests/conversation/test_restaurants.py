"""Several restaurants on one deployment: a call sees only the restaurant it dialled."""

from __future__ import annotations

import asyncio
import time as _time
from collections.abc import Callable
from datetime import date, datetime, time

import pytest
from livekit.agents import AgentSession

from agents.call import UNKNOWN_NUMBER_LINE, turn_away
from config import FirestoreSettings
from domain.lines import UNKNOWN_NUMBER_LINES
from models import Reservation, RestaurantSettings
from scripts.seed_menu import main as seed_script
from store import FirebaseManager, close_sync_client, make_sync_client
from store.directory import DirectoryEntry, only_restaurant, resolve_restaurant, route
from store.live_menus import LiveMenus
from store.menu_file import load_menu_file
from testkit.firestore import MENU_PATH, ROOT, seed_menu_file
from testkit.scripted_llm import Call, ScriptedLLM
from tests.conversation.harness import CALLER, NOW, OPENED, count_docs, open_call, tool_output

OTHER = "casa-lupita"
ROOM = load_menu_file(MENU_PATH).restaurant.seating  # the café's tables, at both restaurants


async def _seed_both(db: FirebaseManager, settings: FirestoreSettings) -> FirebaseManager:
    """The café menu under `main` and, with the same item ids, under the other restaurant."""
    await asyncio.to_thread(seed_menu_file, settings)
    await asyncio.to_thread(seed_menu_file, settings, restaurant_id=OTHER)
    return db.for_restaurant(OTHER)


async def _booking_at(db: FirebaseManager, code: str = "KXT4MA") -> Reservation:
    made = datetime(2026, 11, 18, 10, 0, tzinfo=NOW.tzinfo)
    res = Reservation(code=code, date=date(2026, 11, 21), time=time(19, 0), party_size=2,
                      name="Dana Fox", phone=CALLER, call_id="call-earlier",
                      created_at=made, updated_at=made)
    await db.book_reservation(res, ROOM, made.date())
    return res


async def test_a_caller_of_one_restaurant_cannot_find_or_change_a_booking_at_another(
    db: FirebaseManager, firestore_settings: FirestoreSettings
) -> None:
    other = await _seed_both(db, firestore_settings)
    await _booking_at(other)  # same caller ID, a code the caller knows
    call = await open_call(
        db,
        Call("start_reservation", {"action": "change"}),
        Call("find_reservations"),
        "I can't find a booking under your number.",
        Call("change_reservation", {"code": "KXT4MA", "time": "20:00"}),
        "I can't find that one.",
        Call("cancel_reservation", {"code": "KXT4MA"}),
        "Sorry, no booking with that code here.",
    )
    result = await call.caller_says("I need to change my reservation")
    output, _ = tool_output(result, "find_reservations")
    assert "KXT4MA" not in output and "Dana Fox" not in output
    result = await call.caller_says("Code K X T 4 M A, make it eight")
    output, is_error = tool_output(result, "change_reservation")
    assert is_error and "KXT4MA" in output
    result = await call.caller_says("Then cancel it")
    output, is_error = tool_output(result, "cancel_reservation")
    assert is_error and "KXT4MA" in output
    await call.hang_up()
    saved = (await other.db.document("reservations/KXT4MA").get()).to_dict()
    assert saved["status"] == "confirmed" and saved["time"] == "19:00:00"
    assert (await count_docs(db, "reservations", "seating")) == {"reservations": 0, "seating": 0}
    log = (await db.db.document(f"call_logs/{call.userdata.call_id}").get()).to_dict()
    assert log["restaurant_id"] == "main"
    assert not (await other.db.document(f"call_logs/{call.userdata.call_id}").get()).exists


async def test_the_same_booking_code_at_two_restaurants_are_two_bookings(
    db: FirebaseManager, firestore_settings: FirestoreSettings
) -> None:
    other = await _seed_both(db, firestore_settings)
    await _booking_at(other)
    mine = await _booking_at(db)
    cancelled = await db.cancel_reservation(mine.code, call_id="call-x", now=NOW)
    assert cancelled.status == "cancelled"
    assert (await other.get_reservation("KXT4MA")).status == "confirmed"  # type: ignore[union-attr]
    assert [h.code for h in await other.holds_on(date(2026, 11, 21))] == ["KXT4MA"]
    assert await db.holds_on(date(2026, 11, 21)) == []


async def test_a_queued_write_is_replayed_into_the_restaurant_that_queued_it(
    db: FirebaseManager, firestore_settings: FirestoreSettings
) -> None:
    other = db.for_restaurant(OTHER)
    res = Reservation(code="QUEUED", date=date(2026, 11, 21), time=time(19, 0), party_size=2,
                      name="Dana Fox", phone=CALLER, call_id="call-q",
                      created_at=NOW, updated_at=NOW)
    payload = {"restaurant_id": OTHER, "reservation": res.model_dump(mode="json"),
               "seating": ROOM.model_dump(mode="json"), "analytics_day": "2026-11-20"}
    await db.outbox.append("booking", payload, record_id=res.code)
    assert await db.replay_outbox() == 1  # replayed by the default restaurant's manager
    assert (await other.get_reservation("QUEUED")) is not None
    assert (await db.get_reservation("QUEUED")) is None


async def test_sold_out_at_one_restaurant_does_not_reach_the_others_calls(
    db: FirebaseManager, firestore_settings: FirestoreSettings
) -> None:
    await _seed_both(db, firestore_settings)
    client = make_sync_client(firestore_settings)
    menus = LiveMenus(client, settings_for=lambda s: s or RestaurantSettings(name="?"))
    try:
        mine, theirs = await menus.acquire("main"), await menus.acquire(OTHER)
        assert mine.menu.get("croissant").available  # type: ignore[union-attr]
        code = await asyncio.to_thread(
            seed_script, ["--restaurant", OTHER, "--sold-out", "croissant"])
        assert code == 0
        sold_out = await asyncio.to_thread(
            _within, 10, lambda: not theirs.menu.get("croissant").available)  # type: ignore[union-attr]
        assert sold_out, "the restaurant's own calls see its sold-out change"
        await asyncio.sleep(0.5)  # time for a wrongly shared listener to deliver it too
        assert mine.menu.get("croissant").available  # type: ignore[union-attr]
        assert theirs.settings.name == mine.settings.name  # both seeded from the café file
    finally:
        menus.close()
        close_sync_client(client)


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = _time.monotonic() + seconds
    while not condition() and _time.monotonic() < deadline:
        _time.sleep(0.05)
    return condition()


async def test_menu_watches_only_for_restaurants_with_calls_in_progress(
    db: FirebaseManager, firestore_settings: FirestoreSettings
) -> None:
    await _seed_both(db, firestore_settings)
    await asyncio.to_thread(seed_menu_file, firestore_settings, restaurant_id="third")
    client = make_sync_client(firestore_settings)
    menus = LiveMenus(client, settings_for=lambda s: s or RestaurantSettings(name="?"))
    try:
        assert menus.watching() == []
        first = await menus.acquire("main")
        second = await menus.acquire("main")
        assert first is second, "two calls of one restaurant share its live menu"
        await menus.acquire(OTHER)
        assert menus.watching() == [OTHER, "main"]  # not "third": nobody is calling it
        menus.release(OTHER)
        menus.release("main")
        assert menus.watching() == ["main"]  # one call of main still on the line
        menus.release("main")
        assert menus.watching() == []
        # A single-restaurant deployment warms its one menu before the call, and the call's
        # end still stops it.
        await asyncio.to_thread(menus.warm, "main")
        assert menus.watching() == ["main"]
        assert (await menus.acquire("main")).menu.get("croissant") is not None
        menus.release("main")
        assert menus.watching() == []
    finally:
        menus.close()
        close_sync_client(client)


async def test_an_unknown_number_gets_the_fixed_line_and_no_llm_request() -> None:
    llm = ScriptedLLM([])
    OPENED.append(llm)  # the conftest fails the test on any LLM request
    session: AgentSession = AgentSession(llm=llm)
    closed = asyncio.Event()
    session.on("close", lambda _: closed.set())
    await turn_away(session, "+15550999")
    assert closed.is_set()
    said = [i.text_content for i in session.history.items if i.type == "message"]
    assert said == list(UNKNOWN_NUMBER_LINES.values())  # English, then Spanish
    assert " ".join(said) == UNKNOWN_NUMBER_LINE


@pytest.mark.parametrize("bad", ["Casa Lupita", "../main", ""])
def test_the_staff_script_refuses_a_restaurant_id_that_is_not_a_slug(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert seed_script(["--restaurant", bad, "--sold-out", "croissant"]) == 1
    assert "--restaurant" in capsys.readouterr().err


def test_dialled_numbers_route_to_their_restaurant() -> None:
    lupita = DirectoryEntry(OTHER, "Casa Lupita", ("+15550200",))
    quiet_main = DirectoryEntry("main", "Harbor Street Café", ())
    strict_main = DirectoryEntry("main", "Harbor Street Café", ("+15550100",))
    # No routing configured at all: the single-restaurant deployment answers everything.
    assert route([], "+15550100") == "main"
    assert route([quiet_main], "+19995550000") == "main"
    # A second restaurant does not cut the first one off while main lists no numbers.
    assert route([quiet_main, lupita], "+15550200") == OTHER
    assert route([quiet_main, lupita], "+15550100") == "main"
    # Once main lists its numbers, an unknown number rings nobody.
    assert route([strict_main, lupita], "+15550100") == "main"
    assert route([strict_main, lupita], "+15550200") == OTHER
    assert route([strict_main, lupita], "+15550999") is None
    assert route([strict_main, lupita], None) == "main"  # console mode dials nothing
    # One number listed by two restaurants is a mistake: refused, not guessed.
    assert route([strict_main, DirectoryEntry("x", "X", ("+15550200",)), lupita],
                 "+15550200") is None
    # Only a deployment of the default restaurant alone knows its restaurant before a call.
    assert only_restaurant([]) == "main" and only_restaurant([quiet_main]) == "main"
    assert only_restaurant([quiet_main, lupita]) is None


async def test_the_staff_script_seeds_a_second_restaurant_and_its_numbers(
    db: FirebaseManager, firestore_settings: FirestoreSettings
) -> None:
    await asyncio.to_thread(seed_menu_file, firestore_settings)
    code = await asyncio.to_thread(
        seed_script, [str(ROOT / "data" / "casa-lupita.yaml"), "--restaurant", OTHER])
    assert code == 0
    assert await resolve_restaurant(db.client, "+15550200") == OTHER
    assert await resolve_restaurant(db.client, "+15550100") == "main"
    lupita = db.for_restaurant(OTHER)
    assert (await lupita.load_restaurant_settings()).name == "Casa Lupita"  # type: ignore[union-attr]
    assert {i.id for i in await lupita.load_menu()} >= {"tacos-al-pastor", "horchata"}
    assert "tacos-al-pastor" not in {i.id for i in await db.load_menu()}
    assert (await db.load_restaurant_settings()).name == "Harbor Street Café"  # type: ignore[union-attr]
