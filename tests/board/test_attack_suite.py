"""The review's attacks, against a running board (`python -m services.board` on the real
emulator): each probe states the safe behaviour and asserts it; the table of probes and
results is written to docs/security.md (tests/board/probes.py). The sign-in lockout and flood
probes are in test_signin_abuse.py, the other restaurant's ids in test_restaurants.py."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from models import CallLog, Message, TranscriptLine
from services.board.app import build_app
from services.board.guard import COOKIE, SignInRequired
from services.board.hardening import error_page
from services.board.settings import BoardSettings
from testkit.records import make_order
from tests.board.attackers import client_from, try_sign_in
from tests.board.conftest import PROJECT, BoardServer, api_client, until
from tests.board.test_access import _every_route

probe = pytest.mark.probe
XSS = '<img src=x id=xss onerror="window.__xss=1"><script>window.__xss=2</script>'
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


@pytest.fixture(scope="module")
async def staff(board_server: BoardServer) -> AsyncIterator[tuple[str, str]]:
    name, password = "pass" + secrets.token_hex(3), secrets.token_urlsafe(12)
    owner = await api_client(board_server)
    try:
        made = await owner.post("/api/users", json={"username": name, "password": password,
                                                    "role": "staff"})
        assert made.status_code == 201, made.text
    finally:
        await owner.aclose()
    yield name, password


# ---------------------------------------------------------------- signed out


@probe("every route, every method, signed out", "401, or 303 to /login for a page; no data")
async def test_every_route_every_method_signed_out(board_server):
    async with client_from(board_server, "127.0.0.70") as client:
        for _, path in _every_route():
            if path in ("/login", "/healthz"):
                continue
            for method in METHODS:
                resp = await client.request(method, path, headers={"Accept": "text/html"})
                assert resp.status_code in (303, 401, 405), (method, path, resp.status_code)
                if resp.status_code == 303:
                    assert resp.headers["location"].startswith("/login?next=")
                assert "Cappuccino" not in resp.text and "_version" not in resp.text


@probe("path tricks signed out (.., //, %2F, case, trailing slash)",
       "401 or 404, never data or a 500")
@pytest.mark.parametrize("path", [
    "/api/orders/../users", "/static/../board/app.py", "/static/..%2Fapp.py", "//api/orders",
    "/api/orders%2F..", "/API/orders", "/api/orders/", "/api/./orders", "/events/",
    "/orders/%2e%2e/ticket", "/static/%2e%2e/%2e%2e/pyproject.toml"])
async def test_path_tricks_signed_out(board_server, path):
    async with client_from(board_server, "127.0.0.70") as client:
        resp = await client.get(path)
    assert resp.status_code in (401, 404), (path, resp.status_code)
    assert "Cappuccino" not in resp.text and "[project]" not in resp.text


@probe("bogus session cookies (random, huge, malformed, quoted)", "401, never a 500")
@pytest.mark.parametrize("cookie", [
    f"{COOKIE}={secrets.token_urlsafe(32)}", f"{COOKIE}={'A' * 5000}", f'{COOKIE}="x;y"',
    f"{COOKIE}=é", "garbage", f"{COOKIE}=; {COOKIE}=", f"a=b; {COOKIE}"])
async def test_bogus_cookies(board_server, cookie):
    async with client_from(board_server, "127.0.0.70") as client:
        resp = await client.get("/api/me", headers={"Cookie": cookie.encode()})
    assert resp.status_code == 401, (cookie, resp.status_code)


@probe("a malformed cookie beside the session cookie",
       "the session still counts (cookies parsed one by one)")
async def test_malformed_cookie_beside_the_session(board_server):
    api = await api_client(board_server)
    try:
        token = api.cookies.get(COOKIE)
        raw = httpx.AsyncClient(base_url=board_server.url)
        async with raw:
            resp = await raw.get("/api/me", headers={
                "Cookie": f'other="unterminated; bad name=1; {COOKIE}={token}'})
        assert resp.status_code == 200 and resp.json()["role"] == "owner"
    finally:
        await api.aclose()


# ---------------------------------------------------------------- CSRF and origin


@probe("writes without, with a wrong, or with a non-ASCII CSRF token", "403, nothing changed")
@pytest.mark.parametrize("token", [None, "wrong-token", "tökén-ü", ""])
async def test_writes_without_the_csrf_token(board_server, token):
    api = await api_client(board_server)
    try:
        api.headers.pop("X-CSRF-Token")
        headers = {} if token is None else {"X-CSRF-Token": token.encode()}
        for path, body in (("/api/menu/latte/availability", {"available": False}),
                           ("/api/users", {"username": "evil1", "password": "x" * 12,
                                           "role": "owner"})):
            resp = await api.post(path, json=body, headers=headers)
            assert resp.status_code == 403, (path, token, resp.status_code)
        users = [u["username"] for u in (await api.get("/api/users")).json()["users"]]
        assert "evil1" not in users
    finally:
        await api.aclose()


@probe("a write from another origin, also with a Host header forged to match it",
       "403: the Origin is compared with the board's configured origins, not with Host")
@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example"])
async def test_writes_from_another_origin(board_server, origin):
    api = await api_client(board_server)
    try:
        for headers in ({"Origin": origin},
                        {"Origin": origin, "Host": origin.split("//")[-1]}):
            resp = await api.post("/api/menu/latte/availability", json={"available": False},
                                  headers=headers)
            assert resp.status_code == 403, (headers, resp.status_code)
        login = await api.post("/login", data={"username": "x", "password": "y"},
                               headers={"Origin": origin})
        assert login.status_code == 403
    finally:
        await api.aclose()


# ---------------------------------------------------------------- redirects


@probe("open redirect through `next` after sign-in", "the redirect stays on the board")
@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "/\\evil.example", "\\/evil.example",
    "/\\/evil.example", "javascript:alert(1)", "/%0d%0aLocation:%20https://evil.example",
    "/\tevil", "http:/evil.example", "///evil.example"])
async def test_open_redirect(board_server, target):
    async with client_from(board_server) as client:
        form = await client.get("/login", params={"next": target})
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        nxt = re.search(r'name="next" value="([^"]*)"', form.text).group(1)
        done = await client.post("/login", data={
            "username": board_server.owner[0], "password": board_server.owner[1],
            "csrf": csrf, "next": target})
    for location in (nxt, done.headers["location"]):
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location
        assert "\\" not in location and not urlsplit(location).netloc, location
        assert not any(ord(c) < 32 for c in location), location


# ---------------------------------------------------------------- requests that used to crash


@probe("sign-in names with / or .., non-ASCII names and form tokens, a 1 MB password",
       "a 4xx or the sign-in page again; never a 500 nor a traceback in the log")
@pytest.mark.parametrize(("username", "password", "csrf"), [
    ("a/b", "x" * 12, None), ("..", "x" * 12, None), ("../staff_users/owner", "x" * 12, None),
    ("ünïcødé", "pässwörd-ü", None), ("owner", "x" * 12, "tökén"),
    ("owner", "x" * 1_000_000, None)])
async def test_sign_in_inputs_that_crashed(board_server, username, password, csrf):
    async with client_from(board_server, "127.0.0.71") as client:
        form = await client.get("/login")
        token = csrf or re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        resp = await client.post("/login", data={"username": username, "password": password,
                                                 "csrf": token})
    assert resp.status_code in (303, 413, 429), resp.status_code
    assert COOKIE not in resp.cookies
    assert "Traceback" not in board_server.log_tail(400)


@probe("`..` as an id, a number as a version, a huge body, JSON that is not an object",
       "a 4xx, never a 500")
@pytest.mark.parametrize(("path", "body"), [
    ("/api/orders/../status", {"status": "ready", "version": "x"}),
    ("/api/orders/./status", {"status": "ready", "version": "x"}),
    ("/api/messages/../done", {"done": True}),
    ("/api/users/..", {"disabled": True}),
    ("/api/bookings/../cancel", {"version": "x"}),
    ("/orders/../ticket", None),
    ("/api/orders/{order}/status", {"status": "ready", "version": 12345}),
    ("/api/messages/{message}/done", {"done": True, "version": ["a"]}),
    ("/api/orders/{order}/status", "x" * 200_000),
    ("/api/orders/{order}/status", [1, 2, 3]),
])
async def test_writes_that_crashed(board_server, board_db, path, body):
    order = make_order("call-crash-" + secrets.token_hex(3), created_at=datetime.now(UTC))
    await board_db.save_order(order, order.created_at.date())
    api = await api_client(board_server)
    try:
        url = path.format(order=order.id, message="msg-none")
        if body is None:
            resp = await api.get(url, headers={"Accept": "text/html"})
        elif isinstance(body, str):
            resp = await api.post(url, content=body, headers={"Content-Type": "application/json"})
        else:
            resp = await api.post(url, json=body)
        assert 400 <= resp.status_code < 500, (url, resp.status_code, resp.text[:200])
    finally:
        await api.aclose()
    assert "Traceback" not in board_server.log_tail(400)


@probe("the error page shows text an attacker chose", "escaped, never markup")
def test_the_error_page_escapes():
    page = error_page(404, XSS)
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page


# ---------------------------------------------------------------- XSS in caller-controlled data


@probe("XSS payload in a caller's name, message, order note and transcript",
       "shown as text on every page; never markup; JSON served as application/json, nosniff")
async def test_xss_in_every_caller_controlled_field(board_server, board_db, tablet):
    now = datetime.now(UTC)
    tag = secrets.token_hex(3)
    order = make_order(f"call-xss-{tag}", name="X" + XSS[:70], created_at=now)
    order = order.model_copy(update={"notes": XSS})
    await board_db.save_order(order, now.date())
    await board_db.save_message(Message(
        id=f"call-xss-{tag}-message-1", call_id=f"call-xss-{tag}", name=XSS[:60],
        phone="+16175550144", reason=XSS, created_at=now))
    await board_db.write_call_log(CallLog(
        call_id=f"call-xss-{tag}", started_at=now, ended_at=now,
        transcript=[TranscriptLine(role="user", text=XSS)]), now.date())
    page = tablet
    for path in ("/orders", "/messages", "/calls", f"/orders/{order.id}/ticket"):
        await page.goto(board_server.url + path)
        if not path.endswith("ticket"):
            await until(page, "window.__board && window.__board.ready")
            await asyncio.sleep(0.5)
        assert await page.evaluate("window.__xss === undefined"), path
        assert await page.locator("#xss").count() == 0, path
    api = await api_client(board_server)
    try:
        for path in ("/api/orders", "/api/messages", "/api/calls"):
            resp = await api.get(path)
            assert resp.headers["content-type"].startswith("application/json"), path
            assert resp.headers["x-content-type-options"] == "nosniff"
    finally:
        await api.aclose()


# ---------------------------------------------------------------- roles


async def _yesterday_and_today(board_db) -> tuple[str, str]:
    settings = await board_db.load_restaurant_settings()
    now = datetime.now(settings.tz)
    old = make_order("call-old-" + secrets.token_hex(3), created_at=now - timedelta(days=1))
    new = make_order("call-new-" + secrets.token_hex(3), created_at=now)
    await board_db.save_order(old, old.created_at.date())
    await board_db.save_order(new, new.created_at.date())
    return old.id, new.id


@probe("staff reach owner pages and account routes", "403 for staff on every one")
async def test_staff_reaching_owner_routes(board_server, staff):
    api = await api_client(board_server, staff)
    try:
        assert (await api.get("/users", headers={"Accept": "text/html"})).status_code == 403
        assert (await api.get("/api/users")).status_code == 403
        assert (await api.post("/api/users", json={"username": "evil2", "password": "x" * 12,
                                                   "role": "owner"})).status_code == 403
        assert (await api.post(f"/api/users/{staff[0]}",
                               json={"role": "owner"})).status_code == 403
        assert (await api.post(f"/api/users/{board_server.owner[0]}",
                               json={"disabled": True})).status_code == 403
        assert (await api.get("/api/me")).json()["role"] == "staff"
    finally:
        await api.aclose()


@probe("staff read the takings: revenue, past days' orders and calls, old tickets",
       "staff get today's orders with their totals only; no revenue, no other day (403)")
async def test_staff_cannot_read_the_takings(board_server, board_db, staff):
    old, new = await _yesterday_and_today(board_db)
    settings = await board_db.load_restaurant_settings()
    yesterday = (datetime.now(settings.tz) - timedelta(days=1)).date().isoformat()
    api = await api_client(board_server, staff)
    owner = await api_client(board_server)
    try:
        async def ids(client: httpx.AsyncClient) -> set[str]:
            return {o["_id"] for o in (await client.get("/api/orders")).json()["orders"]}

        async with asyncio.timeout(10):
            while new not in await ids(api):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        assert old not in await ids(api) and old in await ids(owner)
        mine = [o for o in (await api.get("/api/orders")).json()["orders"] if o["_id"] == new]
        assert mine[0]["total_cents"] > 0, "staff need today's order totals at the pass"
        numbers = (await api.get("/api/numbers?days=7")).json()
        assert "revenue" not in numbers["totals"] and "revenue" not in numbers["by_day"]
        assert (await api.get(f"/api/calls?day={yesterday}")).status_code == 403
        assert (await owner.get(f"/api/calls?day={yesterday}")).status_code == 200
        old_ticket = await api.get(f"/orders/{old}/ticket", headers={"Accept": "text/html"})
        assert old_ticket.status_code == 403
        assert (await api.get(f"/orders/{new}/ticket")).status_code == 200
        async with api.stream("GET", "/events?topics=orders") as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    assert old not in line and new in line
                    break
    finally:
        await api.aclose()
        await owner.aclose()


@probe("staff change another day's order (status, undo; its version, a wrong one)",
       "403 with no order data (no total, name, phone); the order unchanged")
async def test_staff_cannot_read_or_change_a_past_order_through_a_write(board_server, board_db,
                                                                       staff):
    old, new = await _yesterday_and_today(board_db)
    api = await api_client(board_server, staff)
    owner = await api_client(board_server)
    try:
        async def order(client: httpx.AsyncClient, oid: str) -> dict:
            async with asyncio.timeout(10):
                while True:
                    found = [o for o in (await client.get("/api/orders")).json()["orders"]
                             if o["_id"] == oid]
                    if found:
                        return found[0]
                    await asyncio.sleep(0.2)

        past, today = await order(owner, old), await order(api, new)
        status, undo = f"/api/orders/{old}/status", f"/api/orders/{old}/undo"
        mine, theirs = past["_version"], today["_version"]
        for path, body in ((status, {"status": "preparing", "version": mine}),
                           (status, {"status": "preparing", "version": theirs}),
                           (status, {"status": "cancelled", "version": "x", "reason": "r"}),
                           (undo, {"status": "confirmed", "version": mine}),
                           (undo, {"status": "confirmed", "version": theirs})):
            resp = await api.post(path, json=body)
            assert resp.status_code == 403, (path, body, resp.status_code, resp.text)
            for private in ("total_cents", str(past["total_cents"]), "Ann Lee", "6175550101",
                            "_version", "Cappuccino"):
                assert private not in resp.text, (path, body, private)
        assert await order(owner, old) == past, "staff changed another day's order"
        # the pass still works: today's order changes and comes back as the page shows it
        done = await api.post(f"/api/orders/{new}/status",
                              json={"status": "preparing", "version": today["_version"]})
        assert done.status_code == 200 and done.json()["order"]["status"] == "preparing"
        assert done.json()["order"]["total_cents"] == today["total_cents"]
        # the owner sees every day, and may correct one
        fixed = await owner.post(f"/api/orders/{old}/status",
                                 json={"status": "preparing", "version": past["_version"]})
        assert fixed.status_code == 200, fixed.text
    finally:
        await api.aclose()
        await owner.aclose()


# ---------------------------------------------------------------- sessions that end


async def _stream_end_after(board_server, board_db, client: httpx.AsyncClient,
                            end: object) -> tuple[float, float]:
    """Seconds from `end()`'s start, and from its return, to the open stream's end, while
    orders keep arriving."""
    stop = asyncio.Event()

    async def busy() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            order = make_order(f"call-busy-{secrets.token_hex(3)}", created_at=datetime.now(UTC))
            await board_db.save_order(order, order.created_at.date())
            await asyncio.sleep(0.05)

    traffic = asyncio.create_task(busy())
    loop = asyncio.get_running_loop()
    try:
        async with client.stream("GET", "/events?topics=orders") as stream:
            lines = stream.aiter_lines()
            changes = 0
            async with asyncio.timeout(10):
                async for line in lines:  # the stream is busy before the session ends
                    changes += line.startswith("event: change")
                    if changes >= 3:
                        break
            asked = loop.time()
            await end()  # type: ignore[operator]
            ended = loop.time()  # the session has ended (the request that ended it returned)
            async with asyncio.timeout(10):
                async for line in lines:
                    if line.startswith("event: signed-out"):
                        break
            return loop.time() - asked, loop.time() - ended
    finally:
        stop.set()
        await traffic


@probe("a signed-out, disabled or password-reset session on a busy event stream",
       "the stream ends within 1 s, however many changes flow")
@pytest.mark.parametrize("how", ["sign-out", "disable", "password-reset"])
async def test_stream_ends_when_the_session_does(board_server, board_db, how):
    name, password = "live" + secrets.token_hex(3), secrets.token_urlsafe(12)
    owner = await api_client(board_server)
    try:
        await owner.post("/api/users", json={"username": name, "password": password,
                                             "role": "staff"})
        victim = await api_client(board_server, (name, password))

        async def end() -> None:
            if how == "sign-out":
                assert (await victim.post("/logout")).status_code == 200
            elif how == "disable":
                assert (await owner.post(f"/api/users/{name}",
                                         json={"disabled": True})).status_code == 200
            else:
                assert (await owner.post(f"/api/users/{name}", json={
                    "password": secrets.token_urlsafe(12)})).status_code == 200

        try:
            asked, took = await _stream_end_after(board_server, board_db, victim, end)
        finally:
            await victim.aclose()
        print(f"\nstream ended {took:.2f} s after the {how} was done ({asked:.2f} s after "
              "it was asked)")
        assert took < 1.0, f"{how}: the stream went on {took:.2f} s"
    finally:
        await owner.aclose()


@probe("reusing a session cookie after sign-out", "401")
async def test_session_reuse_after_sign_out(board_server):
    api = await api_client(board_server)
    token = api.cookies.get(COOKIE)
    assert (await api.post("/logout")).status_code == 200
    await api.aclose()
    async with client_from(board_server, "127.0.0.72", cookies={COOKIE: token}) as reuse:
        assert (await reuse.get("/api/me")).status_code == 401
        assert (await reuse.get("/api/orders")).status_code == 401


@probe("a board whose Host header is forged", "the configured origins still decide")
def test_origins_come_from_configuration():
    settings = BoardSettings(firestore_emulator_host="127.0.0.1:1", google_cloud_project=PROJECT,
                             board_origins="https://board.example.com")
    app = build_app(settings)
    guard = next(m for m in app.user_middleware if m.cls is SignInRequired)
    assert guard.kwargs["origins"] == frozenset({"https://board.example.com"})


@probe("sign-in from a known browser during a stranger's guessing",
       "see test_signin_abuse.py: the owner's tablet signs in at once")
async def test_known_browser_is_covered_elsewhere(board_server):
    async with client_from(board_server, "127.0.0.73") as client:
        resp = await try_sign_in(client, board_server.owner[0], board_server.owner[1])
    assert resp.status_code == 303
