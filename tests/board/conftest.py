"""The staff board as staff use it: `python -m services.board` against the real emulator, driven by
Debian's chromium through Playwright (the system browser; no browser download).

One board process and one browser per test session, on their own project ("demo-board") so
the per-test resets of the other suites do not pull the data from under the open pages. Each
test makes the records it looks at (fresh ids), so tests do not depend on each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from config import FirestoreSettings
from store import FirebaseManager, connect
from testkit.emulator import Emulator, free_port
from testkit.firestore import ROOT, seed_menu_file
from tests.board import probes

PROJECT = "demo-board"
CHROMIUM = Path(os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium"))
SHOTS = Path(os.environ.get("BOARD_SCREENSHOT_DIR", ROOT / "test-output" / "board"))
DOCS_SHOTS = ROOT / "docs" / "board"
TABLET = {"width": 1180, "height": 820}  # an iPad Air in landscape
# The sizes every page is checked at (test_layout.py): a host's phone, a small tablet.
PHONE = {"width": 390, "height": 844}
SMALL_TABLET = {"width": 1024, "height": 768}
SIZES = {"phone": PHONE, "tablet": SMALL_TABLET}
AXE_JS = Path(os.environ.get("AXE_JS", Path.home() / ".cache" / "phoneline" / "axe" / "node_modules"
                             / "axe-core" / "axe.min.js"))
_RUN: dict[str, bool] = {}


@dataclass
class BoardServer:
    url: str
    owner: tuple[str, str]
    settings: FirestoreSettings
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the board exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as resp:
                if resp.read() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the board did not answer on {url} within {timeout:.0f}s")


@pytest.fixture(scope="session")
def board_server(firestore_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[BoardServer]:
    work = tmp_path_factory.mktemp("board")
    for old in SHOTS.glob("*.png"):  # this run's screenshots only
        old.unlink()
    _RUN["board_started"] = True
    firestore_emulator.reset(PROJECT)
    settings = FirestoreSettings(firestore_emulator_host=firestore_emulator.host,
                                 google_cloud_project=PROJECT, outbox_path=work / "outbox.jsonl")
    seed_menu_file(settings)
    with run_board(firestore_emulator, settings, work, ("owner", secrets.token_urlsafe(12))
                   ) as server:
        yield server


@contextlib.contextmanager
def run_board(firestore_emulator: Emulator, settings: FirestoreSettings, work: Path,
              owner: tuple[str, str], restaurant: str | None = None,
              extra_env: dict[str, str] | None = None, port: int | None = None,
              ) -> Iterator[BoardServer]:
    """`python -m services.board` on a free port (for `restaurant`, or the default one), its first
    owner from the environment; stopped on exit."""
    port = port or free_port()
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": firestore_emulator.host,
           "GOOGLE_CLOUD_PROJECT": PROJECT, "ENV_FILE": str(work / "no.env"),
           "BOARD_PORT": str(port), "BOARD_OWNER_USERNAME": owner[0],
           "BOARD_OWNER_PASSWORD": owner[1], "OUTBOX_PATH": str(work / "outbox.jsonl"),
           "PYTHONUNBUFFERED": "1"}
    if restaurant:
        env["BOARD_RESTAURANT"] = restaurant
    env.update(extra_env or {})
    env.pop("FIREBASE_SERVICE_ACCOUNT_PATH", None)
    log_path = work / f"board-{restaurant or 'main'}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "services.board"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    server = BoardServer(url, owner, settings, proc, log_path)
    try:
        _wait_healthy(url, proc)
        yield server
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
async def board_db(board_server: BoardServer) -> AsyncIterator[FirebaseManager]:
    """A manager on the board's project: what a call (or a test) writes, the board shows."""
    manager = await connect(board_server.settings)
    try:
        yield manager
    finally:
        await manager.close()


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    if not await asyncio.to_thread(CHROMIUM.exists):
        pytest.fail(f"{CHROMIUM} not found: scripts/install_deps.sh installs Debian's chromium")
    pw = await async_playwright().start()
    try:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu",
                                           "--autoplay-policy=no-user-gesture-required"])
        try:
            yield b
        finally:
            await b.close()
    finally:
        await pw.stop()


async def sign_in(browser: object, server: BoardServer, user: tuple[str, str] | None = None,
                  path: str = "/orders", viewport: dict[str, int] | None = None) -> object:
    """A signed-in tablet (its own browser context: its own cookies) on `path`."""
    username, password = user or server.owner
    context = await browser.new_context(  # type: ignore[attr-defined]
        viewport=viewport or TABLET, has_touch=True,
        is_mobile=(viewport or TABLET)["width"] < 600)
    page = await context.new_page()
    await page.goto(server.url + path)
    assert "/login" in page.url, "a signed-out tablet must land on the sign-in page"
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(re.escape(server.url + path)))
    await until(page, "window.__board && window.__board.ready")
    return page


WAIT_S = 10.0


async def until(page: object, expression: str) -> None:
    """Wait (bounded) for a JS expression to be true. page.wait_for_function would eval in the
    page, which the board's Content-Security-Policy rightly forbids."""
    async with asyncio.timeout(WAIT_S):
        while not await page.evaluate(expression):  # type: ignore[attr-defined]  # noqa: ASYNC110
            await asyncio.sleep(0.05)


@pytest.fixture
async def tablet(browser: object, board_server: BoardServer) -> AsyncIterator[object]:
    page = await sign_in(browser, board_server)
    try:
        yield page
    finally:
        await page.context.close()  # type: ignore[attr-defined]


async def show_day(page: object, day: object) -> None:
    """The bookings page's day picker set to `day`, as a host types a date."""
    await page.fill("#day", day.isoformat())  # type: ignore[attr-defined]
    await page.dispatch_event("#day", "change")  # type: ignore[attr-defined]


async def screenshot(page: object, name: str, full_page: bool = True) -> Path:
    """The page (or, `full_page=False`, the screen as staff see it) to SHOTS and docs/."""
    path = SHOTS / f"{name}.png"
    await page.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top, not mid-page
    png = await page.screenshot(full_page=full_page)  # type: ignore[attr-defined]
    await asyncio.to_thread(_keep_screenshot, path, png)
    return path


def _keep_screenshot(path: Path, png: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    if os.environ.get("BOARD_SCREENSHOTS_TO_DOCS"):
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_SHOTS / path.name)


# ---------------------------------------------------------------- the API as a tablet uses it


async def api_client(server: BoardServer, user: tuple[str, str] | None = None
                     ) -> httpx.AsyncClient:
    """An HTTP client signed in through the sign-in form, sending the CSRF token on writes."""
    username, password = user or server.owner
    client = httpx.AsyncClient(base_url=server.url, timeout=15)
    form = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    done = await client.post("/login", data={"username": username, "password": password,
                                             "csrf": csrf.group(1), "next": "/orders"})
    assert done.status_code == 303 and done.headers["location"] == "/orders", done.text
    me = await client.get("/api/me")
    assert me.status_code == 200, me.text
    client.headers["X-CSRF-Token"] = me.json()["csrf"]
    return client


async def wait_for(predicate: object) -> None:
    """Wait (bounded) until an async predicate over Firestore holds."""
    async with asyncio.timeout(WAIT_S):
        while not await predicate():  # type: ignore[operator]  # noqa: ASYNC110
            await asyncio.sleep(0.1)


def pytest_configure(config: pytest.Config) -> None:
    probes.configure(config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[pytest.TestReport]:
    report = yield
    probes.record(item, report)
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Where the screenshots of every page went: the CI log says it even when all passed."""
    table = probes.write_table()
    if table is not None:
        terminalreporter.write_line(f"attack suite table: {table}")
    shots = sorted(SHOTS.glob("*.png")) if _RUN.get("board_started") else []
    if shots:
        terminalreporter.write_line(
            f"board screenshots ({len(shots)}): {SHOTS} — {', '.join(p.stem for p in shots)}")
