"""`python -m bench.board [--orders N] [--loads N] [--out DIR]`: the staff board's figures.

* confirm -> visible: an order is saved exactly as the confirm tool saves it
  (FirebaseManager.save_order) while a signed-in board is open in Debian's chromium; the time
  from just before the save to the moment the page has drawn the card (the page stamps
  Date.now() when it first renders an order; same machine, same clock).
* page load: each page opened afresh, signed in: the browser's load event, and the moment the
  page's live data is on screen (first event-stream state drawn; charts drawn on Numbers).

The board runs as its own process (`python -m services.board`) against the real Firestore
emulator, as in `make dev`. Results: bench/board_results.json and bench/board_results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.emulator import PROJECT, Firestore  # noqa: E402
from bench.stats import timing  # noqa: E402
from testkit.emulator import free_port  # noqa: E402
from testkit.records import make_order  # noqa: E402

PAGES = ("orders", "bookings", "messages", "calls", "menu", "numbers")
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")


def _start_board(fs: Firestore, workdir: Path, owner: tuple[str, str]) -> tuple[Any, str]:
    port = free_port()
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": fs.host, "GOOGLE_CLOUD_PROJECT": PROJECT,
           "ENV_FILE": str(workdir / "none.env"), "BOARD_PORT": str(port),
           "BOARD_OWNER_USERNAME": owner[0], "BOARD_OWNER_PASSWORD": owner[1],
           "BOARD_LOG_LEVEL": "WARNING", "OUTBOX_PATH": str(workdir / "outbox.jsonl")}
    log = open(workdir / "board.log", "ab")  # the child keeps it open for its lifetime
    proc = subprocess.Popen([sys.executable, "-m", "services.board"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as resp:
                if resp.read() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"board did not start; see {workdir / 'board.log'}")


def _stop(proc: Any) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


async def _until(page: Any, expression: str, limit_s: float = 15.0) -> Any:
    async with asyncio.timeout(limit_s):
        while True:
            value = await page.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.005)


async def _sign_in(browser: Any, url: str, owner: tuple[str, str]) -> Any:
    context = await browser.new_context(viewport={"width": 1180, "height": 820})
    page = await context.new_page()
    await page.goto(url + "/login")
    await page.fill("#username", owner[0])
    await page.fill("#password", owner[1])
    await page.click("button[type=submit]")
    await page.wait_for_url(url + "/orders")
    await _until(page, "window.__board && window.__board.ready")
    return page


async def measure(orders: int, loads: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    owner = ("bench", secrets.token_urlsafe(12))
    with Firestore() as fs, tempfile.TemporaryDirectory(prefix="bench-board-") as tmp:
        async with fs.fresh() as (db, _catalog):
            proc, url = await asyncio.to_thread(_start_board, fs, Path(tmp), owner)
            try:
                async with async_playwright() as pw:
                    browser = await pw.chromium.launch(executable_path=CHROMIUM,
                                                       args=["--no-sandbox"])
                    page = await _sign_in(browser, url, owner)
                    visible: list[float] = []
                    for n in range(orders):
                        order = make_order(f"bench-board-{n}", created_at=datetime.now(UTC))
                        t0 = time.time() * 1000
                        await db.save_order(order, order.created_at.date())
                        seen = await _until(page, f"window.__board.seen[{json.dumps(order.id)}]")
                        visible.append(seen - t0)
                        await asyncio.sleep(0.2)
                    pages: dict[str, Any] = {}
                    for name in PAGES:
                        load_ms, live_ms = [], []
                        for _ in range(loads):
                            await page.goto(f"{url}/{name}")
                            mark = "chartsAt" if name == "numbers" else "readyAt"
                            live = await _until(page, f"window.__board.{mark}")
                            load = await page.evaluate(
                                "performance.getEntriesByType('navigation')[0].loadEventEnd")
                            load_ms.append(load)
                            live_ms.append(live)
                        pages[name] = {"load_ms": timing(load_ms, 1),
                                       "data_on_screen_ms": timing(live_ms, 1)}
                    await browser.close()
            finally:
                await asyncio.to_thread(_stop, proc)
    return {"confirm_to_visible_ms": timing(visible, 1), "pages": pages}


def _markdown(results: dict[str, Any]) -> str:
    c = results["confirm_to_visible_ms"]
    lines = [
        "# Staff board: measured", "",
        f"Run {results['when']} on {results['cpus']} CPUs (load average at start "
        f"{results['load_at_start']}). `python -m bench.board`.", "",
        "| what | p50 | p95 | max | n |", "|---|---|---|---|---|",
        f"| order confirmed -> card drawn on an open board (ms) | {c['p50']} | {c['p95']} | "
        f"{c['max']} | {c['n']} |",
    ]
    for name, figures in results["pages"].items():
        for key, label in (("load_ms", "load event"), ("data_on_screen_ms", "data on screen")):
            f = figures[key]
            lines.append(f"| {name} page: {label} (ms) | {f['p50']} | {f['p95']} | {f['max']} | "
                         f"{f['n']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--loads", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    results = asyncio.run(measure(args.orders, args.loads))
    results.update({"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    "cpus": os.cpu_count(), "load_at_start": round(load, 1)})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "board_results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "board_results.md").write_text(_markdown(results))
    print(_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
