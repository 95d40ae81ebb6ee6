"""Two restaurants on one deployment, each with its own board: staff of one never see or change
the other's orders, bookings, messages, menu or accounts — not in the browser, not at the API,
not with the other's ids or cookies."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from models import Message
from services.board.guard import COOKIE
from store import FirebaseManager
from store.menu_file import load_menu_file
from testkit.emulator import Emulator
from testkit.firestore import ROOT, seed_menu_file
from testkit.records import make_order, make_reservation
from tests.board.conftest import BoardServer, api_client, run_board, sign_in

OTHER = "casa-lupita"
OTHER_FILE = ROOT / "data" / "casa-lupita.yaml"


@pytest.fixture(scope="module")
def other_board(firestore_emulator: Emulator, board_server: BoardServer,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoardServer]:
    """Casa Lupita's board, on the same Firestore project as the café's."""
    work = tmp_path_factory.mktemp("board-other")
    seed_menu_file(board_server.settings, OTHER_FILE, restaurant_id=OTHER)
    with run_board(firestore_emulator, board_server.settings, work,
                   ("lupita", secrets.token_urlsafe(12)), restaurant=OTHER) as server:
        yield server


@pytest.fixture
async def at_other(board_db: FirebaseManager, other_board: BoardServer
                   ) -> AsyncIterator[dict[str, str]]:
    """An order, a booking and a message of Casa Lupita, made as its calls make them."""
    other = board_db.for_restaurant(OTHER)
    tag = secrets.token_hex(3)
    now = datetime.now(UTC)
    order = make_order(f"call-lupita-{tag}", name="Lupe Otra", created_at=now)
    await other.save_order(order, now.date())
    res = make_reservation(f"call-lupita-{tag}", day=date.today() + timedelta(days=3),
                           name="Rosa Otra")
    seating = load_menu_file(OTHER_FILE).restaurant.seating
    await other.book_reservation(res, seating, now.date())
    msg = Message(id=f"msg-lupita-{tag}", call_id=f"call-lupita-{tag}", name="Marta Otra",
                  phone="+16175550177", reason="Call me about catering", created_at=now)
    await other.save_message(msg)
    yield {"order": order.id, "code": res.code, "message": msg.id}


async def test_staff_of_one_restaurant_cannot_reach_anothers_data_at_the_api(
        board_db, board_server, other_board, at_other):
    other = board_db.for_restaurant(OTHER)
    ours = await api_client(board_server)
    theirs = await api_client(other_board)
    try:
        # What Casa Lupita's board lists, the café's does not, even by id.
        for path, key, ident in (("/api/orders", "orders", at_other["order"]),
                                 ("/api/messages", "messages", at_other["message"])):
            listed = {d["_id"] for d in
                      (await theirs.get(path)).json()[key]}
            assert ident in listed, (path, listed)
            seen = (await ours.get(path)).text
            assert ident not in seen and "Otra" not in seen, path
        reservations = (await ours.get("/api/reservations")).text
        assert at_other["code"] not in reservations and "Rosa Otra" not in reservations

        # Even with the ids and versions Casa Lupita's board hands out.
        versions = {d["_id"]: d["_version"] for path, key in (
            ("/api/orders", "orders"), ("/api/messages", "messages"),
            ("/api/reservations", "reservations")) for d in (await theirs.get(path)).json()[key]}
        ticket = await ours.get(f"/orders/{at_other['order']}/ticket")
        assert ticket.status_code == 404 and "Lupe" not in ticket.text
        status = await ours.post(f"/api/orders/{at_other['order']}/status",
                                 json={"status": "cancelled", "reason": "no",
                                       "version": versions[at_other["order"]]})
        assert status.status_code == 404, status.text
        cancel = await ours.post(f"/api/bookings/{at_other['code']}/cancel",
                                 json={"version": versions[at_other["code"]]})
        assert cancel.status_code == 404, cancel.text
        change = await ours.post(f"/api/bookings/{at_other['code']}/change",
                                 json={"date": (date.today() + timedelta(days=3)).isoformat(),
                                       "time": "20:00", "party": 2,
                                       "version": versions[at_other["code"]]})
        assert change.status_code == 404, change.text
        done = await ours.post(f"/api/messages/{at_other['message']}/done",
                               json={"done": True, "version": versions[at_other["message"]]})
        assert done.status_code == 404, done.text
        sold_out = await ours.post("/api/menu/tacos-al-pastor/availability",
                                   json={"available": False})
        assert sold_out.status_code == 404, sold_out.text

        # Nothing at Casa Lupita moved.
        order = (await other.db.document(f"orders/{at_other['order']}").get()).to_dict()
        assert order["status"] == "confirmed"
        res = (await other.db.document(f"reservations/{at_other['code']}").get()).to_dict()
        assert res["status"] == "confirmed" and res["time"].startswith("19:00")
        msg = (await other.db.document(f"messages/{at_other['message']}").get()).to_dict()
        assert msg["status"] == "new"
        tacos = (await other.db.document("menu_items/tacos-al-pastor").get()).to_dict()
        assert tacos["available"] is True

        # Casa Lupita's own staff can act on it.
        current = next(d for d in (await theirs.get("/api/orders")).json()["orders"]
                       if d["_id"] == at_other["order"])
        moved = await theirs.post(f"/api/orders/{at_other['order']}/status",
                                  json={"status": "preparing", "version": current["_version"]})
        assert moved.status_code == 200, moved.text

        # Accounts: each owner sees only their restaurant's staff.
        our_staff = {u["username"] for u in (await ours.get("/api/users")).json()["users"]}
        their_staff = {u["username"] for u in (await theirs.get("/api/users")).json()["users"]}
        assert board_server.owner[0] in our_staff and other_board.owner[0] not in our_staff
        assert their_staff == {other_board.owner[0]}
        changed = await ours.post(f"/api/users/{other_board.owner[0]}", json={"disabled": True})
        assert changed.status_code == 422, changed.text  # no such user here
    finally:
        await ours.aclose()
        await theirs.aclose()


async def test_an_account_or_a_session_of_one_restaurant_does_not_open_anothers_board(
        board_server, other_board):
    async with httpx.AsyncClient(base_url=other_board.url, timeout=15) as client:
        form = await client.get("/login")
        csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
        wrong = await client.post("/login", data={
            "username": board_server.owner[0], "password": board_server.owner[1],
            "csrf": csrf, "next": "/orders"})
        assert wrong.status_code == 303 and "error=wrong" in wrong.headers["location"]
    ours = await api_client(board_server)
    try:
        cookie = ours.cookies.get(COOKIE)
        assert cookie
        async with httpx.AsyncClient(base_url=other_board.url, timeout=15,
                                     cookies={COOKIE: cookie}) as stolen:
            assert (await stolen.get("/api/me")).status_code == 401
            assert (await stolen.get("/api/orders")).status_code == 401
    finally:
        await ours.aclose()


async def test_each_restaurants_tablet_shows_its_own_orders_only(
        browser, board_server, other_board, at_other):
    ours = await sign_in(browser, board_server)
    theirs = await sign_in(browser, other_board, other_board.owner)
    try:
        card = f'article[data-id="{at_other["order"]}"]'
        await theirs.locator(card).wait_for(timeout=10_000)
        assert "Casa Lupita" in await theirs.inner_text("header")
        await asyncio.sleep(1.0)  # the café's tablet has had its stream's first state
        assert await ours.locator(card).count() == 0
        header = await ours.inner_text("header")
        assert "Casa Lupita" not in header
        await ours.goto(board_server.url + "/messages")
        await ours.wait_for_load_state()
        assert "Marta Otra" not in await ours.inner_text("body")
    finally:
        await ours.context.close()
        await theirs.context.close()
