"""The real Firestore emulator for the in-process benchmarks: started once, reset and seeded."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from config import FirestoreSettings
from domain.menu import Catalog
from domain.seating import SeatingPlan
from store import FirebaseManager, connect
from testkit import emulator as emu_mod
from testkit.firestore import seed_menu_file
from testkit.phone import catalog_from

# The benchmarks book hundreds of tables for two on one Saturday between resets; they time
# our code, not the café's 30 chairs, so their room is made big enough.
BENCH_ROOM = SeatingPlan(seats=100_000)

PROJECT = "demo-bench"


class Firestore:
    """One emulator process for the whole run (or FIRESTORE_EMULATOR_HOST if one answers)."""

    def __init__(self) -> None:
        self._emu: emu_mod.Emulator | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-firestore-")
        self.host = ""

    def __enter__(self) -> Firestore:
        existing = os.environ.get("FIRESTORE_EMULATOR_HOST")
        if existing and emu_mod.is_ready(existing):
            self._emu = emu_mod.Emulator(host=existing, process=None)
        else:
            self._emu = emu_mod.start(log_path=Path(self._tmp.name) / "emulator.log", timeout=60)
        self.host = self._emu.host
        return self

    def __exit__(self, *exc: object) -> None:
        if self._emu is not None:
            self._emu.stop()
        self._tmp.cleanup()

    def settings(self) -> FirestoreSettings:
        return FirestoreSettings(firestore_emulator_host=self.host, google_cloud_project=PROJECT,
                                 outbox_path=Path(self._tmp.name) / "outbox.jsonl")

    @asynccontextmanager
    async def fresh(self, seed: bool = True) -> AsyncIterator[tuple[FirebaseManager, Catalog]]:
        """An emptied (and seeded) database, a connected manager and the live catalog."""
        assert self._emu is not None
        os.environ["FIRESTORE_EMULATOR_HOST"] = self.host
        await asyncio.to_thread(self._emu.reset, PROJECT)
        if seed:
            await asyncio.to_thread(seed_menu_file, self.settings())
        db = await connect(self.settings())
        try:
            catalog = await catalog_from(db) if seed else None
            if catalog is not None:
                catalog = Catalog(catalog.menu, catalog.settings.model_copy(
                    update={"seating": BENCH_ROOM}))
            yield db, catalog  # type: ignore[misc]
        finally:
            await db.close()
