"""A chain on one board (issue 26 §4): an owner of two restaurants signs in once on the café's
board and switches between the café and a second site, each site's data reached through its own
scope; the café's staff and the café's other owner cannot move to the second site or read it
through any route; the Numbers page compares the owner's sites; the event stream follows the
switch. The board, the emulator and chromium are the real ones (tests/board/conftest.py); the
owner's second site is given with the board's own command line, as the README says."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from google.cloud.firestore_v1.base_query import FieldFilter

from models import Message
from services.board.app import build_app
from services.board.auth import _token_hash
from services.board.guard import COOKIE, OPEN_PATHS
from services.board.settings import load_board_settings
from store import FirebaseManager, close_sync_client, connect, make_sync_client
from store.menu_file import load_menu_file
from store.scope import scoped
from testkit.firestore import ROOT, seed_menu_file
from testkit.records import make_order, make_reservation
from testkit.scripted_llm import Call
from tests.board.checks import axe, overflow, serious, small_targets
from tests.board.conftest import (
    PROJECT,
    SIZES,
    BoardServer,
    api_client,
    screenshot,
    sign_in,
    until,
)
from tests.conversation.harness import open_call

SECOND_FILE = ROOT / "data" / "casa-lupita.yaml"


def board_cli(server: BoardServer, work: Path, *args: str, password: str = ""
              ) -> subprocess.CompletedProcess[str]:
    """`python -m services.board ARGS` on the board's project, as an operator runs it."""
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": server.settings.firestore_emulator_host or "",
           "GOOGLE_CLOUD_PROJECT": PROJECT, "ENV_FILE": str(work / "no.env"),
           "OUTBOX_PATH": str(work / "outbox.jsonl"), "BOARD_NEW_PASSWORD": password}
    env.pop("BOARD_RESTAURANT", None)
    env.pop("FIREBASE_SERVICE_ACCOUNT_PATH", None)
    return subprocess.run([sys.executable, "-m", "services.board", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def chain(board_server: BoardServer, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[dict[str, Any]]:
    """A second restaurant of the deployment ("Lupita Norte", no phone numbers of its own so
    no call is routed to it), a chain owner of the café and Norte, and a café staff member —
    all made with the board's command line. The accounts made here are removed afterwards:
    other modules count on the café's first owner being its only owner."""
    work = tmp_path_factory.mktemp("chain")
    tag = secrets.token_hex(3)
    site = f"norte-{tag}"
    menu = work / "norte.yaml"
    text = SECOND_FILE.read_text().replace("Casa Lupita", "Lupita Norte")
    menu.write_text(re.sub(r"numbers: \[[^\]]*\]", "numbers: []", text))
    seed_menu_file(board_server.settings, menu, restaurant_id=site)
    owner = (f"chain{tag}", secrets.token_urlsafe(12))
    staff = (f"pass{tag}", secrets.token_urlsafe(12))
    unknown = board_cli(board_server, work, "create-user", owner[0], "--owner", "--site",
                        f"nowhere-{tag}", password=owner[1])
    assert unknown.returncode == 1 and "no restaurant" in unknown.stderr, unknown
    made = board_cli(board_server, work, "create-user", owner[0], "--owner", "--site", site,
                     password=owner[1])
    assert made.returncode == 0, made.stderr
    assert f"created owner {owner[0]} on main, {site}" in made.stdout
    made = board_cli(board_server, work, "create-user", staff[0], password=staff[1])
    assert made.returncode == 0, made.stderr
    refused = board_cli(board_server, work, "set-sites", staff[0], site)
    assert refused.returncode == 1 and "only an owner" in refused.stderr
    made_here = [owner[0], staff[0]]
    yield {"site": site, "owner": owner, "staff": staff, "work": work,
           "restaurant": load_menu_file(menu).restaurant, "made": made_here}
    _remove_accounts(board_server, made_here)


def _remove_accounts(server: BoardServer, names: list[str]) -> None:
    client = make_sync_client(server.settings)
    try:
        cafe = scoped(client, "main")
        for name in names:
            cafe.document(f"staff_users/{name}").delete()
            for snap in cafe.collection("staff_sessions").where(
                    filter=FieldFilter("username", "==", name)).stream():
                snap.reference.delete()
    finally:
        close_sync_client(client)


@pytest.fixture(scope="module")
async def records(board_server: BoardServer, chain: dict[str, Any]
                  ) -> AsyncIterator[dict[str, str]]:
    """An order at each site, and a booking and a message at Norte, as calls make them."""
    board_db = await connect(board_server.settings)
    norte = board_db.for_restaurant(chain["site"])
    tag = secrets.token_hex(3)
    now = datetime.now(UTC)
    cafe_order = make_order(f"call-cafe-{tag}", name="Carla Cafe", created_at=now)
    await board_db.save_order(cafe_order, now.date())
    norte_order = make_order(f"call-norte-{tag}", name="Nora Norte", created_at=now, quantity=3)
    await norte.save_order(norte_order, now.date())
    res = make_reservation(f"call-norte-{tag}", day=date.today() + timedelta(days=3),
                           name="Rosa Norte")
    await norte.book_reservation(res, chain["restaurant"].seating, now.date())
    msg = Message(id=f"msg-norte-{tag}", call_id=f"call-norte-{tag}", name="Marta Norte",
                  phone="+16175550177", reason="Call me about catering", created_at=now)
    await norte.save_message(msg)
    try:
        yield {"cafe_order": cafe_order.id, "order": norte_order.id, "code": res.code,
               "message": msg.id}
    finally:
        await board_db.close()


async def _site_orders(board_db: FirebaseManager, site: str, days: int) -> tuple[int, int]:
    """How many orders the site took in its last `days` days (none is cancelled) and their
    total in cents, read from the emulator."""
    tz = ZoneInfo("America/New_York")  # both sites' clock
    first = datetime.now(tz).date() - timedelta(days=days - 1)
    docs = [d.to_dict() async for d in board_db.for_restaurant(site).db.collection(
        "orders").stream()]
    kept = [d for d in docs if d.get("status") != "cancelled"
            and d["created_at"].astimezone(tz).date() >= first]
    return len(kept), sum(int(d["total_cents"]) for d in kept)


async def _orders(client: httpx.AsyncClient) -> set[str]:
    got = await client.get("/api/orders")
    assert got.status_code == 200, got.text
    return {o["_id"] for o in got.json()["orders"]}


# ---------------------------------------------------------------- the owner, in the browser


async def test_a_chain_owner_signs_in_once_switches_sites_and_compares_them(
        browser, board_server, board_db, chain, records):
    page = await sign_in(browser, board_server, chain["owner"])
    cafe_card = f'article[data-id="{records["cafe_order"]}"]'
    norte_card = f'article[data-id="{records["order"]}"]'
    try:
        await page.locator(cafe_card).wait_for(timeout=10_000)
        assert await page.locator(norte_card).count() == 0
        assert "Lupita Norte" not in await page.inner_text("nav .brand")
        # The switcher lists both sites; choosing Norte reloads the page on Norte.
        options = await page.locator("#site option").evaluate_all(
            "els => els.map(e => e.value)")
        assert options == ["main", chain["site"]]
        await page.select_option("#site", chain["site"])
        await page.locator(norte_card).wait_for(timeout=10_000)
        await until(page, "window.__board && window.__board.ready")
        assert "Lupita Norte" in await page.inner_text("nav .brand")
        assert await page.locator(cafe_card).count() == 0, "the café's order on Norte's page"
        await page.goto(board_server.url + "/messages")
        await page.get_by_text("Marta Norte").wait_for(timeout=10_000)

        await page.goto(board_server.url + "/numbers")
        await until(page, "window.__board && window.__board.compared === 2")
        rows = page.locator("#compare tbody tr")
        assert await rows.evaluate_all("rs => rs.map(r => r.dataset.site)") == [
            "main", chain["site"]]
        norte = page.locator(f'#compare tr[data-site="{chain["site"]}"] td')
        cells = await norte.all_inner_texts()
        count, cents = await _site_orders(board_db, chain["site"], 14)
        assert count >= 1 and cells[1] == str(count), cells  # Norte's orders, not the café's
        assert cells[2] == f"${cents / 100:.2f}", cells
        assert "on screen" in await page.inner_text(f'#compare tr[data-site="{chain["site"]}"]')
        # The café's row is what the café's own Numbers say (its other owner's view).
        cafe_owner = await api_client(board_server)
        try:
            own = (await cafe_owner.get("/api/numbers?days=14")).json()["totals"]
        finally:
            await cafe_owner.aclose()
        cafe = await page.locator('#compare tr[data-site="main"] td').all_inner_texts()
        assert cafe[:3] == [str(own["calls"]), str(own["orders"]), f"${own['revenue']:.2f}"]
        await screenshot(page, "numbers-compare-sites")
    finally:
        await page.context.close()


async def test_the_switcher_and_the_comparison_fit_a_phone_and_a_tablet(
        browser, board_server, chain, records):
    """The owner's header (with the switcher) and the Numbers comparison: nothing wider than
    the screen, targets of 44 px, no serious axe-core violation (as test_layout.py checks)."""
    problems: list[str] = []
    for size, viewport in SIZES.items():
        page = await sign_in(browser, board_server, chain["owner"], "/numbers", viewport)
        try:
            await until(page, "window.__board && window.__board.compared === 2")
            await page.wait_for_timeout(150)
            problems += [f"{size}: {p}" for p in await overflow(page)]
            problems += [f"{size}: target {t}" for t in await small_targets(page)]
            problems += [f"{size}: axe {v}" for v in serious(await axe(page))]
            await screenshot(page, f"numbers-sites-{size}", full_page=False)
        finally:
            await page.context.close()
    assert not problems, "\n".join(problems)


async def test_a_call_to_the_second_site_shows_on_the_owners_screen_for_that_site_only(
        browser, board_server, board_db, chain, records):
    """A caller orders from Lupita Norte through the real agents; the chain owner, switched to
    Norte, sees it arrive live; the café's tablet (its other owner) never shows it."""
    owner = await sign_in(browser, board_server, chain["owner"])
    cafe = await sign_in(browser, board_server)
    try:
        await owner.select_option("#site", chain["site"])
        await owner.locator(f'article[data-id="{records["order"]}"]').wait_for(timeout=10_000)
        await until(owner, "window.__board && window.__board.ready")
        await owner.evaluate("window.__sameDocument = true")
        call = await open_call(
            board_db.for_restaurant(chain["site"]),
            Call("start_order"),
            Call("add_item", {"item": "tacos al pastor", "options": ["salsa verde"]}),
            "Tacos al pastor with salsa verde. What name is the order under?",
            Call("set_customer", {"name": "Nina Norte"}),
            Call("review_order"),
            Call("confirm"),
            "Your order is placed. Anything else?",
        )
        await call.caller_says("Tacos al pastor with salsa verde please")
        await call.caller_says("It's Nina Norte")
        await call.caller_says("Yes, that's right")
        (order_id,) = call.userdata.ids_created
        assert not call.llm.overrun and not call.llm.steps
        card = owner.locator(f'article[data-id="{order_id}"]')
        await card.wait_for(timeout=10_000)
        text = await card.inner_text()
        assert "Nina Norte" in text and "Tacos al Pastor" in text, text
        assert await owner.evaluate("window.__sameDocument === true"), "the page was reloaded"
        saved = await board_db.for_restaurant(chain["site"]).db.document(
            f"orders/{order_id}").get()
        assert saved.exists and not (await board_db.db.document(f"orders/{order_id}").get()).exists
        await asyncio.sleep(1.0)  # the café's stream has had every change by now
        assert await cafe.locator(f'article[data-id="{order_id}"]').count() == 0
        assert "Nina Norte" not in await cafe.inner_text("body")
    finally:
        await owner.context.close()
        await cafe.context.close()


# ---------------------------------------------------------------- the owner, at the API


async def test_each_site_is_reached_only_while_the_owner_is_on_it(
        board_server, board_db, chain, records):
    owner = await api_client(board_server, chain["owner"])
    try:
        me = (await owner.get("/api/me")).json()
        assert me["site"] == "main" and me["sites"] == ["main", chain["site"]]
        assert records["cafe_order"] in await _orders(owner)
        assert records["order"] not in await _orders(owner)
        assert (await owner.get(f"/orders/{records['order']}/ticket")).status_code == 404

        moved = await owner.post("/api/site", json={"site": chain["site"]})
        assert moved.status_code == 200 and moved.json()["name"] == "Lupita Norte", moved.text
        orders = await _orders(owner)
        assert records["order"] in orders and records["cafe_order"] not in orders
        assert (await owner.get(f"/orders/{records['order']}/ticket")).status_code == 200
        assert (await owner.get(f"/orders/{records['cafe_order']}/ticket")).status_code == 404
        reservations = (await owner.get("/api/reservations")).text
        assert records["code"] in reservations
        cafe_version = (await board_db.db.document(
            f"orders/{records['cafe_order']}").get()).update_time.rfc3339()
        wrong_site = await owner.post(f"/api/orders/{records['cafe_order']}/status",
                                      json={"status": "cancelled", "reason": "x",
                                            "version": cafe_version})
        assert wrong_site.status_code == 404, wrong_site.text

        # Not a site of theirs: refused, and the session stays where it was.
        for site in (f"nowhere-{secrets.token_hex(2)}", "casa-lupita", "../main", 7, None):
            refused = await owner.post("/api/site", json={"site": site})
            assert refused.status_code == 403, (site, refused.text)
        assert (await owner.get("/api/me")).json()["site"] == chain["site"]
        # A switch is a write: without the CSRF token, or from another origin, it is refused.
        no_csrf = await owner.post("/api/site", json={"site": "main"},
                                   headers={"X-CSRF-Token": ""})
        assert no_csrf.status_code == 403
        elsewhere = await owner.post("/api/site", json={"site": "main"},
                                     headers={"Origin": "http://evil.example"})
        assert elsewhere.status_code == 403
        assert (await owner.get("/api/me")).json()["site"] == chain["site"]

        compare = (await owner.get("/api/numbers/compare?days=7")).json()
        assert [s["id"] for s in compare["sites"]] == ["main", chain["site"]]
        norte = compare["sites"][1]
        count, cents = await _site_orders(board_db, chain["site"], 7)
        assert norte["current"] and norte["totals"]["orders"] == count >= 1
        assert norte["totals"]["revenue"] == cents / 100
        assert norte["name"] == "Lupita Norte" and len(norte["days"]) == 7

        back = await owner.post("/api/site", json={"site": "main"})
        assert back.status_code == 200
        assert records["cafe_order"] in await _orders(owner)
    finally:
        await owner.aclose()


async def test_an_owner_without_the_site_cannot_switch_to_it_or_take_over_its_owner(
        board_server, chain, records):
    cafe_owner = await api_client(board_server)  # the café's first owner: no other sites
    try:
        assert (await cafe_owner.get("/api/me")).json()["sites"] == ["main"]
        refused = await cafe_owner.post("/api/site", json={"site": chain["site"]})
        assert refused.status_code == 403
        assert (await cafe_owner.post("/api/site", json={"site": "main"})).status_code == 200
        compare = (await cafe_owner.get("/api/numbers/compare")).json()
        assert [s["id"] for s in compare["sites"]] == ["main"]
        assert records["order"] not in await _orders(cafe_owner)
        # A password reset of the chain's owner would be a way into Norte.
        for change in ({"password": secrets.token_urlsafe(12)}, {"disabled": True},
                       {"role": "staff"}):
            taken = await cafe_owner.post(f"/api/users/{chain['owner'][0]}", json=change)
            assert taken.status_code == 403, (change, taken.text)
    finally:
        await cafe_owner.aclose()
    still = await api_client(board_server, chain["owner"])  # password and role unchanged
    await still.aclose()


async def test_taking_a_site_away_signs_the_owner_out_and_the_site_is_gone(
        board_server, chain, records):
    owner = (f"second{secrets.token_hex(3)}", secrets.token_urlsafe(12))
    chain["made"].append(owner[0])
    made = board_cli(board_server, chain["work"], "create-user", owner[0], "--owner",
                     "--site", chain["site"], password=owner[1])
    assert made.returncode == 0, made.stderr
    client = await api_client(board_server, owner)
    try:
        assert (await client.post("/api/site", json={"site": chain["site"]})).status_code == 200
        assert records["order"] in await _orders(client)
        taken = board_cli(board_server, chain["work"], "set-sites", owner[0])
        assert taken.returncode == 0 and "is on main only" in taken.stdout, taken
        await asyncio.sleep(1.2)  # the board's session cache (SESSION_CACHE_S)
        assert (await client.get("/api/orders")).status_code == 401
    finally:
        await client.aclose()
    again = await api_client(board_server, owner)
    try:
        assert (await again.get("/api/me")).json()["sites"] == ["main"]
        assert (await again.post("/api/site", json={"site": chain["site"]})).status_code == 403
        assert records["order"] not in await _orders(again)
    finally:
        await again.aclose()


# ---------------------------------------------------------------- staff of the café


def _board_routes() -> list[tuple[str, str]]:
    """Every route of the real app (method, path), so a route added later is checked too."""
    app = build_app(load_board_settings(env_file=None))
    out = []
    for route in app.routes:
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                out.append((method, route.path))
    return out


def _fill(path: str, records: dict[str, str]) -> str:
    return (path.replace("{order_id}", records["order"]).replace("{code}", records["code"])
            .replace("{message_id}", records["message"])
            .replace("{item_id}", "tacos-al-pastor").replace("{username}", "x"))


NORTE_WORDS = ("Norte", "catering")


async def test_staff_cannot_switch_or_reach_the_other_site_by_any_route(
        board_server, board_db, chain, records):
    staff = await api_client(board_server, chain["staff"])
    try:
        assert (await staff.post("/api/site", json={"site": chain["site"]})).status_code == 403
        assert (await staff.get("/api/numbers/compare")).status_code == 403
        assert (await staff.get("/api/sites")).json()["sites"] == [
            {"id": "main", "name": (await staff.get("/api/sites")).json()["sites"][0]["name"],
             "current": True}]
        checked = 0
        for method, path in _board_routes():
            if path in OPEN_PATHS or path.startswith("/static") or path == "/logout":
                continue
            target = _fill(path, records)
            if method == "GET":
                got = await staff.get(target, headers={"Accept": "application/json"},
                                      params={"topics": "orders"}) \
                    if path != "/events" else None
            else:
                got = await staff.post(target, json={"version": "2026-01-01T00:00:00Z",
                                                     "status": "cancelled", "reason": "x",
                                                     "site": chain["site"]})
            if got is None:
                continue
            checked += 1
            if got.is_success:  # a refusal may echo the id asked for, never Norte's data
                for ident in (records["order"], records["code"], records["message"]):
                    assert ident not in got.text, (method, path, got.status_code)
            for word in NORTE_WORDS:
                assert word not in got.text, (method, path, got.status_code)
            if "{" in path or method == "POST":
                assert got.status_code in (403, 404, 422), (method, path, got.status_code)
        assert checked >= 25, checked
        # The café's event stream carries none of Norte's records.
        events = await _events(staff, until_event="reset")
        assert not any(records["order"] in e["data"] for e in events)
    finally:
        await staff.aclose()
    norte = board_db.for_restaurant(chain["site"])
    order = (await norte.db.document(f"orders/{records['order']}").get()).to_dict()
    assert order["status"] == "confirmed"
    msg = (await norte.db.document(f"messages/{records['message']}").get()).to_dict()
    assert msg["status"] == "new"
    tacos = (await norte.db.document("menu_items/tacos-al-pastor").get()).to_dict()
    assert tacos["available"] is True


async def test_a_staff_session_put_on_another_site_in_the_database_is_refused_everywhere(
        board_server, board_db, chain, records):
    """The second fence: were a staff session ever on another site (an edited record), every
    route that reads or writes data refuses it rather than serving that site."""
    staff = await api_client(board_server, chain["staff"])
    try:
        token = staff.cookies.get(COOKIE)
        assert token
        await board_db.db.document(f"staff_sessions/{_token_hash(token)}").update(
            {"site": chain["site"]})
        await asyncio.sleep(1.2)  # the board's session cache (SESSION_CACHE_S) has expired
        checked = 0
        for method, path in _board_routes():
            if path in OPEN_PATHS or path.startswith("/static") or path == "/logout":
                continue
            target = _fill(path, records)
            got = (await staff.get(target, params={"topics": "orders"}) if method == "GET"
                   else await staff.post(target, json={"site": chain["site"]}))
            checked += 1
            assert got.status_code == 403, (method, path, got.status_code, got.text[:200])
            assert "Norte" not in got.text
        assert checked >= 25, checked
    finally:
        await staff.aclose()


# ---------------------------------------------------------------- the event stream


async def _events(client: httpx.AsyncClient, *, until_event: str | None = None,
                  until_data: str | None = None, seconds: float = 10.0) -> list[dict[str, str]]:
    """The events of one /events stream, until `until_event`/`until_data` or its end."""
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    async with asyncio.timeout(seconds), client.stream(
            "GET", "/events?topics=orders") as stream:
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                current = {"event": line.split(":", 1)[1].strip(), "data": ""}
            elif line.startswith("data:") and current:
                current["data"] = line.split(":", 1)[1].strip()
                events.append(current)
                if current["event"] == until_event or (
                        until_data and until_data in current["data"]):
                    break
    return events


async def test_the_event_stream_follows_the_switch_and_carries_only_the_new_sites_events(
        board_server, board_db, chain, records):
    norte = board_db.for_restaurant(chain["site"])
    owner = await api_client(board_server, chain["owner"])
    try:
        assert (await owner.get("/api/me")).json()["site"] == "main"
        async with owner.stream("GET", "/events?topics=orders") as old:
            lines = old.aiter_lines()
            seen: list[str] = []
            async with asyncio.timeout(10):
                async for line in lines:
                    seen.append(line)
                    if line.startswith("data:"):
                        break  # the café's first state
            assert records["cafe_order"] in seen[-1] and records["order"] not in seen[-1]
            moved = await owner.post("/api/site", json={"site": chain["site"]})
            assert moved.status_code == 200
            now = datetime.now(UTC)
            late = make_order(f"call-cafe-late-{secrets.token_hex(3)}", name="Late Cafe",
                              created_at=now)
            await board_db.save_order(late, now.date())
            async with asyncio.timeout(10):
                rest = [line async for line in lines]  # the old stream ends by itself
        assert "event: site" in rest, rest
        assert not any(late.id in line for line in rest), "the café's order after the switch"
        after = rest[rest.index("event: site"):]
        assert not any(line.startswith("event: change") for line in after)

        # The new stream is Norte's: its first state, then Norte's changes and not the café's.
        now = datetime.now(UTC)
        cafe_new = make_order(f"call-cafe-new-{secrets.token_hex(3)}", created_at=now)
        norte_new = make_order(f"call-norte-new-{secrets.token_hex(3)}", name="Nico Norte",
                               created_at=now)

        async def write_both() -> None:
            await asyncio.sleep(0.5)
            await board_db.save_order(cafe_new, now.date())
            await norte.save_order(norte_new, now.date())

        writer = asyncio.create_task(write_both())
        events = await _events(owner, until_data=norte_new.id)
        await writer
        reset = json.loads(events[0]["data"])
        assert events[0]["event"] == "reset"
        ids = {o["_id"] for o in reset["orders"]}
        assert records["order"] in ids and records["cafe_order"] not in ids
        assert not ids & {late.id}, "a café order in Norte's first state"
        assert norte_new.id in events[-1]["data"]
        assert not any(cafe_new.id in e["data"] or late.id in e["data"] for e in events)
    finally:
        await owner.aclose()
