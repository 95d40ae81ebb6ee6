"""Nothing on the board answers without sign-in; writes need the CSRF token; only an owner
sees revenue and manages accounts; sessions end."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
from starlette.routing import Mount, Route

from services.board.app import build_app
from services.board.auth import Accounts, User
from services.board.guard import COOKIE, OPEN_PATHS
from services.board.settings import BoardSettings
from testkit.firestore import ROOT
from tests.board.conftest import PROJECT, api_client


def _every_route() -> list[tuple[str, str]]:
    """(method, concrete path) for every route the app declares: new routes are covered too."""
    app = build_app(BoardSettings(firestore_emulator_host="127.0.0.1:1",
                                  google_cloud_project=PROJECT))
    found = []
    for route in app.routes:
        if isinstance(route, Mount):
            found += [("GET", route.path + "/board.js"), ("GET", route.path + "/board.css"),
                      ("GET", route.path + "/vendor/uplot/uPlot.iife.min.js")]
        elif isinstance(route, Route):
            path = re.sub(r"\{[^}]+\}", "x1", route.path)
            found += [(m, path) for m in sorted(route.methods or ["GET"]) if m != "HEAD"]
    return found


async def test_signed_out_every_route_redirects_to_sign_in_or_answers_401(board_server):
    routes = _every_route()
    assert len(routes) > 25, routes
    async with httpx.AsyncClient(base_url=board_server.url, timeout=10) as client:
        for method, path in routes:
            if path in OPEN_PATHS:
                continue
            for accept in ("text/html", "application/json", "text/event-stream"):
                resp = await client.request(method, path, headers={"Accept": accept},
                                            json={} if method == "POST" else None)
                if resp.status_code == 303:
                    assert resp.headers["location"].startswith("/login?next="), (method, path)
                    assert method == "GET" and accept == "text/html", (method, path)
                else:
                    assert resp.status_code == 401, (method, path, accept, resp.status_code)
                assert "Cappuccino" not in resp.text and "owner" not in resp.text
        health = await client.get("/healthz")
        assert health.text == "ok"
        login = await client.get("/login")
        assert login.status_code == 200 and 'type="password"' in login.text


async def test_writes_need_the_csrf_token_and_this_origin(board_server):
    api = await api_client(board_server)
    try:
        token = api.headers.pop("X-CSRF-Token")
        for path in ("/api/menu/latte/availability", "/api/users", "/logout"):
            assert (await api.post(path, json={"available": False})).status_code == 403
        api.headers["X-CSRF-Token"] = "not-" + token
        assert (await api.post("/api/menu/latte/availability",
                               json={"available": False})).status_code == 403
        api.headers["X-CSRF-Token"] = token
        cross = await api.post("/api/menu/latte/availability", json={"available": False},
                               headers={"Origin": "http://evil.example"})
        assert cross.status_code == 403
        assert (await api.get("/api/menu")).status_code == 200
        menu = {i["_id"]: i for i in (await api.get("/api/menu")).json()["menu"]}
        assert menu["latte"].get("available", True), "a refused write changed the menu"
    finally:
        await api.aclose()


async def test_only_an_owner_sees_revenue_and_manages_accounts(board_server, board_db):
    owner = await api_client(board_server)
    name = "cook" + secrets.token_hex(3)
    password = secrets.token_urlsafe(12)
    try:
        short = await owner.post("/api/users", json={"username": name, "password": "short",
                                                     "role": "staff"})
        assert short.status_code == 422 and "password" in short.json()["error"]
        made = await owner.post("/api/users", json={"username": name, "password": password,
                                                    "role": "staff"})
        assert made.status_code == 201, made.text
        stored = (await board_db.db.document(f"staff_users/{name}").get()).to_dict()
        assert stored["password_hash"].startswith("$argon2id$")
        assert password not in str(stored)
        owners_numbers = (await owner.get("/api/numbers?days=7")).json()
        assert "revenue" in owners_numbers["by_day"] and "revenue" in owners_numbers["totals"]

        staff = await api_client(board_server, (name, password))
        try:
            numbers = (await staff.get("/api/numbers?days=7")).json()
            assert "revenue" not in numbers["by_day"] and "revenue" not in numbers["totals"]
            assert (await staff.get("/api/users")).status_code == 403
            assert (await staff.post("/api/users", json={"username": "x" + name,
                                                         "password": password,
                                                         "role": "owner"})).status_code == 403
            page = await staff.get("/users", headers={"Accept": "text/html"})
            assert page.status_code == 403
            # the owner disables the account: its open session ends
            off = await owner.post(f"/api/users/{name}", json={"disabled": True})
            assert off.status_code == 200 and off.json()["user"]["disabled"]
            assert (await _eventually_401(staff, "/api/me"))
        finally:
            await staff.aclose()
        # and it cannot sign in again
        async with httpx.AsyncClient(base_url=board_server.url) as client:
            form = await client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
            again = await client.post("/login", data={"username": name, "password": password,
                                                      "csrf": csrf})
            assert "error=wrong" in again.headers["location"] and COOKIE not in again.cookies
        last_owner = await owner.post(f"/api/users/{board_server.owner[0]}",
                                      json={"role": "staff"})
        assert last_owner.status_code == 422 and "last owner" in last_owner.json()["error"]
    finally:
        await owner.aclose()


async def _eventually_401(client: httpx.AsyncClient, path: str) -> bool:
    import asyncio

    async with asyncio.timeout(15):  # the board caches a session for a few seconds
        while (await client.get(path)).status_code != 401:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
    return True


async def test_sessions_expire_and_sign_out_ends_them(board_server, board_db):
    accounts = Accounts(board_db.db, session_hours=12)
    old, _ = await accounts.start_session(User(board_server.owner[0], "owner"),
                                          now=datetime.now(UTC) - timedelta(hours=13))
    async with httpx.AsyncClient(base_url=board_server.url, cookies={COOKIE: old}) as client:
        assert (await client.get("/api/me")).status_code == 401
        page = await client.get("/orders", headers={"Accept": "text/html"})
        assert page.status_code == 303

    api = await api_client(board_server)
    try:
        assert (await api.get("/api/me")).status_code == 200
        assert (await api.post("/logout", json={})).status_code == 200
        assert (await api.get("/api/me")).status_code == 401
    finally:
        await api.aclose()

    async with httpx.AsyncClient(base_url=board_server.url) as client:
        form = await client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        wrong = await client.post("/login", data={"username": board_server.owner[0],
                                                  "password": "wrong-password", "csrf": csrf})
        assert wrong.status_code == 303 and "error=wrong" in wrong.headers["location"]
        assert COOKIE not in wrong.cookies


def test_accounts_come_from_a_command_never_a_default_password(board_server, tmp_path):
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST":
           board_server.settings.firestore_emulator_host,
           "GOOGLE_CLOUD_PROJECT": PROJECT, "ENV_FILE": str(tmp_path / "none.env")}
    name = "host" + secrets.token_hex(3)

    def run(*args: str, password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "services.board", *args], cwd=ROOT, timeout=60,
                              env={**env, "BOARD_NEW_PASSWORD": password},
                              capture_output=True, text=True)

    weak = run("create-user", name, password="123")
    assert weak.returncode == 1 and "at least 10" in weak.stderr
    made = run("create-user", name, password=secrets.token_urlsafe(12))
    assert made.returncode == 0 and f"created staff {name}" in made.stdout
    again = run("create-user", name, password=secrets.token_urlsafe(12))
    assert again.returncode == 1 and "already exists" in again.stderr
    half = subprocess.run([sys.executable, "-m", "services.board"], cwd=ROOT, timeout=60,
                          env={**env, "BOARD_OWNER_USERNAME": "boss"},
                          capture_output=True, text=True)
    assert half.returncode == 2 and "BOARD_OWNER_PASSWORD" in half.stderr


async def test_every_asset_comes_from_the_board_itself(board_server):
    """No CDN at run time: pages reference only the board's own paths."""
    api = await api_client(board_server)
    try:
        for page in ("/orders", "/bookings", "/messages", "/calls", "/menu", "/numbers",
                     "/users"):
            html = (await api.get(page, headers={"Accept": "text/html"})).text
            refs = re.findall(r'(?:src|href)="([^"]+)"', html)
            assert refs, page
            for ref in refs:
                assert ref.startswith(("/", "data:", "tel:")) and not ref.startswith("//"), \
                    (page, ref)
                if ref.startswith("/static/"):
                    assert (await api.get(ref)).status_code == 200, ref
        for script in ("/static/board.js", "/static/vendor/uplot/uPlot.iife.min.js"):
            body = (await api.get(script)).text
            assert not re.search(r"""(fetch|src\s*=|import)\s*\(?\s*["']https?://""", body)
    finally:
        await api.aclose()


async def test_guessing_a_password_locks_that_username_out_for_a_while(board_server):
    name = "guess" + secrets.token_hex(3)
    password = secrets.token_urlsafe(12)
    owner = await api_client(board_server)
    try:
        made = await owner.post("/api/users", json={"username": name, "password": password,
                                                    "role": "staff"})
        assert made.status_code == 201
    finally:
        await owner.aclose()
    async with httpx.AsyncClient(base_url=board_server.url) as client:
        async def attempt(pw: str) -> httpx.Response:
            form = await client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
            return await client.post("/login", data={"username": name, "password": pw,
                                                      "csrf": csrf})
        for n in range(5):
            assert "error=wrong" in (await attempt(f"wrong-guess-{n}")).headers["location"]
        # even the right password is refused while the name is locked
        locked = await attempt(password)
        assert "error=wrong" in locked.headers["location"] and COOKIE not in locked.cookies
