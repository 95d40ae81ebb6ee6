"""The board as compose serves it: behind the real Caddy (Debian's caddy, the project's own
docker/caddy/Caddyfile), over HTTPS with a certificate from Caddy's internal CA for the
address tablets type, the board's cookies `__Host-`-prefixed and Secure.

What a tablet notices: the certificate verifies against the CA's root (the one file staff
install), plain HTTP only redirects, sign-in works and the session holds; a cookie under the
plain name (what a page on another port of the same host could plant) is never read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest

from config import FirestoreSettings
from services.board.auth import Accounts
from services.board.guard import COOKIE
from services.board.routes.signin import DEVICE_COOKIE, LOGIN_COOKIE
from store import connect
from testkit.emulator import Emulator, free_port
from testkit.firestore import ROOT, seed_menu_file
from tests.board.conftest import PROJECT, run_board

CADDY = shutil.which("caddy")
CADDYFILE = ROOT / "docker" / "caddy" / "Caddyfile"
pytestmark = pytest.mark.skipif(CADDY is None, reason="caddy not installed (make deps)")


@contextlib.contextmanager
def run_caddy(work: Path, https: int, http: int, upstream: int) -> Iterator[Path]:
    """Caddy with the compose file's Caddyfile on loopback ports; yields its CA's root."""
    health = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(work), "XDG_DATA_HOME": str(work / "data"),
           "XDG_CONFIG_HOME": str(work / "config"), "BOARD_ADDRESS": "127.0.0.1",
           "CADDY_HTTPS_PORT": str(https), "CADDY_HTTP_PORT": str(http),
           "CADDY_HEALTH_PORT": str(health), "BOARD_UPSTREAM": f"127.0.0.1:{upstream}"}
    log = open(work / "caddy.log", "ab")
    proc = subprocess.Popen([CADDY, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    root = work / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    try:
        deadline = time.monotonic() + 30
        while not (root.exists() and _answers(f"http://127.0.0.1:{health}/healthz")):
            assert proc.poll() is None and time.monotonic() < deadline, \
                (work / "caddy.log").read_text()[-3000:]
            time.sleep(0.2)
        yield root
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie of the response by name: its attributes as the browser reads them."""
    found = {}
    for raw in response.headers.get_list("set-cookie"):
        found[raw.split("=", 1)[0]] = raw
    return found


def _host_cookie(raw: str) -> None:
    """What a browser requires of a `__Host-` cookie, or it drops it."""
    parsed = SimpleCookie()
    parsed.load(raw)
    (morsel,) = parsed.values()
    assert morsel["secure"] and morsel["httponly"], raw
    assert morsel["path"] == "/" and not morsel["domain"], raw
    assert morsel["samesite"].lower() == "strict", raw


@pytest.fixture
def https_board(firestore_emulator: Emulator, tmp_path: Path
                ) -> Iterator[tuple[str, Path, tuple[str, str], int]]:
    settings = FirestoreSettings(firestore_emulator_host=firestore_emulator.host,
                                 google_cloud_project=PROJECT, outbox_path=tmp_path / "o.jsonl")
    seed_menu_file(settings)
    owner = (f"tls-owner-{uuid.uuid4().hex[:8]}", "tls-owner-pw-1")

    async def make_owner() -> None:
        db = await connect(settings)
        try:
            await Accounts(db.db, 12).create_user(*owner, "owner")
        finally:
            await db.close()

    asyncio.run(make_owner())
    https, http, board = free_port(), free_port(), free_port()
    origin = f"https://127.0.0.1:{https}"
    env = {"BOARD_COOKIE_SECURE": "true", "BOARD_ORIGINS": origin,
           "BOARD_TRUSTED_PROXY": "127.0.0.1"}
    with run_board(firestore_emulator, settings, tmp_path, owner, extra_env=env, port=board), \
            run_caddy(tmp_path, https, http, board) as root:
        yield origin, root, owner, http


def test_the_board_is_served_over_https_with_host_only_secure_cookies(https_board):
    origin, root, owner, _ = https_board
    tls = ssl.create_default_context(cafile=str(root))  # what a tablet trusts: the CA's root
    with httpx.Client(base_url=origin, verify=tls, timeout=15) as tablet:
        form = tablet.get("/login")
        assert form.status_code == 200
        cookies = _set_cookies(form)
        assert set(cookies) == {f"__Host-{LOGIN_COOKIE}"}, cookies
        _host_cookie(cookies[f"__Host-{LOGIN_COOKIE}"])
        assert form.headers["strict-transport-security"].startswith("max-age=")
        csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        done = tablet.post("/login", headers={"Origin": origin}, data={
            "username": owner[0], "password": owner[1], "csrf": csrf, "next": "/orders"})
        assert done.status_code == 303 and done.headers["location"] == "/orders", done.text
        cookies = _set_cookies(done)
        for name in (COOKIE, DEVICE_COOKIE):
            _host_cookie(cookies[f"__Host-{name}"])
        assert not {COOKIE, DEVICE_COOKIE, LOGIN_COOKIE} & set(cookies), cookies
        me = tablet.get("/api/me")
        assert me.status_code == 200 and me.json()["username"] == owner[0], me.text
        token = tablet.cookies[f"__Host-{COOKIE}"]

        # the session under the plain name, as a page on another port could set it: not read
        with httpx.Client(base_url=origin, verify=tls, cookies={COOKIE: token}) as planted:
            assert planted.get("/api/me").status_code == 401

        out = tablet.post("/logout", headers={"Origin": origin,
                                              "X-CSRF-Token": me.json()["csrf"]})
        assert out.status_code == 200, out.text
        gone = _set_cookies(out)[f"__Host-{COOKIE}"]
        _host_cookie(gone)  # a deletion without Secure would be dropped by the browser
        assert tablet.get("/api/me").status_code == 401


def test_plain_http_only_redirects_to_https(https_board):
    *_, http_port = https_board
    answer = httpx.get(f"http://127.0.0.1:{http_port}/orders?x=1", timeout=10)
    assert answer.status_code == 308, answer.text
    # to the HTTPS site (compose publishes it on 443, Caddy's default port, left off the URL)
    assert answer.headers["location"].startswith("https://127.0.0.1")
    assert answer.headers["location"].endswith("/orders?x=1")
    assert "set-cookie" not in answer.headers and "board" not in answer.text.lower()
