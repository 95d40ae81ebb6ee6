"""Shared fixtures: one real Firestore emulator per test session, a clean database per test.

Set FIRESTORE_EMULATOR_HOST to reuse an emulator you already run; the tests always use the
project "demo-test", so your own project's data there is left alone.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from config import FirestoreSettings
from store import FirebaseManager, connect
from testkit import emulator
from testkit.emulator import Emulator
from testkit.firestore import MENU_PATH, ROOT, seed_menu_file
from testkit.records import make_order, make_reservation


def _parse_without_collecting(*args, **kwargs):  # type: ignore[no-untyped-def]
    """`ast.parse` with the garbage collector held off. A task LiveKit left with an unretrieved
    error logs it from its finalizer; when the collector runs that finalizer inside `ast.parse`
    (pytest rewriting a module or formatting a traceback, tests/test_code_map.py reading the
    code), CPython 3.11.7 raises "AST constructor recursion depth mismatch" (gh-106905, fixed
    in 3.11.8): a passing test fails, or the session ends. Seen in full runs only, where the
    garbage of earlier tests is around; tests/reliability/conftest.py settles tasks for the
    same reason."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _ast_parse(*args, **kwargs)
    finally:
        if enabled:
            gc.enable()


_ast_parse = ast.parse
ast.parse = _parse_without_collecting

PROJECT = "demo-test"
# Tests import these from here as well as the fixtures.
__all__ = ["MENU_PATH", "PROJECT", "ROOT", "make_order", "make_reservation", "seed_menu_file"]


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[Emulator]:
    os.environ["GOOGLE_CLOUD_PROJECT"] = PROJECT
    existing = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if existing and emulator.is_ready(existing):
        yield Emulator(host=existing, process=None)
        return
    # one log per pytest process: `make test` runs two side by side
    log_path = Path(tempfile.gettempdir()) / f"firestore-emulator-tests-{os.getpid()}.log"
    emu = emulator.start(log_path=log_path)
    os.environ["FIRESTORE_EMULATOR_HOST"] = emu.host
    try:
        yield emu
    finally:
        emu.stop()
        if os.environ.get("FIRESTORE_EMULATOR_HOST") == emu.host:
            del os.environ["FIRESTORE_EMULATOR_HOST"]


@pytest.fixture
def firestore_settings(firestore_emulator: Emulator, tmp_path: Path) -> FirestoreSettings:
    return FirestoreSettings(
        firestore_emulator_host=firestore_emulator.host,
        google_cloud_project=PROJECT,
        outbox_path=tmp_path / "outbox.jsonl",
    )


@pytest.fixture
async def db(
    firestore_emulator: Emulator, firestore_settings: FirestoreSettings
) -> AsyncIterator[FirebaseManager]:
    """A connected manager over an emptied database (and a per-test outbox file)."""
    await asyncio.to_thread(firestore_emulator.reset, PROJECT)
    manager = await connect(firestore_settings)
    try:
        yield manager
    finally:
        await manager.close()


@pytest.fixture
async def seeded_db(
    db: FirebaseManager, firestore_settings: FirestoreSettings
) -> FirebaseManager:
    """`db` with data/menu.yaml seeded through the seed script's code."""
    await asyncio.to_thread(seed_menu_file, firestore_settings)
    return db
