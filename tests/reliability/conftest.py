"""Fixtures of the reliability tests: an emulator of their own that a test may stop."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from config import FirestoreSettings
from store import FirebaseManager, connect
from testkit import emulator
from testkit.emulator import Emulator
from tests.conftest import PROJECT, seed_menu_file
from tests.reliability import tally


@pytest.fixture(scope="session", autouse=True)
def _print_tally() -> Iterator[None]:
    yield
    if tally.TRIED:
        print("\n" + tally.summary())


@pytest.fixture(scope="module")
def own_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """Stopped and restarted by outage tests without disturbing the shared emulator."""
    emu = emulator.start(log_path=tmp_path_factory.mktemp("emulator") / "emulator.log")
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
async def outage_db(own_emulator: Emulator, tmp_path: Path) -> AsyncIterator[FirebaseManager]:
    """The menu seeded in our own emulator; a short retry budget so the caller is not kept
    waiting while Firestore is down."""
    if own_emulator.process is None:  # an earlier test failed while it was stopped
        await asyncio.to_thread(own_emulator.restart)
    await asyncio.to_thread(own_emulator.reset, PROJECT)
    settings = FirestoreSettings(firestore_emulator_host=own_emulator.host,
                                 google_cloud_project=PROJECT,
                                 outbox_path=tmp_path / "outbox.jsonl")
    await asyncio.to_thread(seed_menu_file, settings)
    db = await connect(settings, retry_budget_s=0.5, rpc_timeout_s=2.0)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def settle_tasks() -> AsyncIterator[None]:
    """Finish (or cancel) the tasks LiveKit left behind and collect them now.

    A failed task nobody awaited logs its traceback from its finalizer; when the garbage
    collector runs that finalizer inside a later `ast.parse` (pytest formatting a traceback),
    CPython 3.11.7 raises "AST constructor recursion depth mismatch" (gh-106905, fixed in
    3.11.8) and ends the whole test session."""
    before = asyncio.all_tasks()
    yield
    left = asyncio.all_tasks() - before - {asyncio.current_task()}
    if left:
        _, pending = await asyncio.wait(left, timeout=5)
        for task in pending:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)  # retrieved: nothing to log later
    gc.collect()
