"""The default database (the Firestore emulator) keeps what callers were told is saved.

The emulator runs under docker/firestore/run-emulator.sh, the same file compose's `firestore`
service runs: a normal stop (SIGTERM, what `docker compose stop` sends) exports and the next
start imports; a SIGKILL loses what the last export lacks, and the worker's journal
(store/checkpoint.py) puts it back, once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from config import FirestoreSettings
from domain.seating import SeatingPlan
from models import Message
from store import FirebaseManager, connect
from store.checkpoint import flush_journal, journal_path
from testkit.emulator import free_port, is_ready
from testkit.records import make_order, make_reservation
from tests.conftest import PROJECT, ROOT
from tests.conversation.harness import count_docs

SCRIPT = ROOT / "docker" / "firestore" / "run-emulator.sh"
DAY = date(2026, 11, 20)
pytestmark = pytest.mark.skipif(
    subprocess.run(["sh", "-c", "command -v gcloud setsid curl"], capture_output=True).returncode,
    reason="needs gcloud (the Firestore emulator), setsid and curl",
)


@dataclass
class SupervisedEmulator:
    """run-emulator.sh on a loopback port, with its data folder."""

    data: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, "FIRESTORE_DATA_DIR": str(self.data),
               "FIRESTORE_HOST_PORT": self.host, "FIRESTORE_CHECKPOINT_S": "3600",
               "GOOGLE_CLOUD_PROJECT": PROJECT}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(["sh", str(SCRIPT)], env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not is_ready(self.host, timeout=0.5):
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.3)

    def stop(self) -> None:
        """A normal stop: SIGTERM to the script, as `docker compose stop` sends to PID 1."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.process = None

    def kill(self) -> None:
        """SIGKILL to every process of the database (what `docker kill` does to a container)."""
        for pgid in self._emulator_groups():
            os.killpg(pgid, signal.SIGKILL)
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None
        deadline = time.monotonic() + 30
        while self._emulator_groups():
            assert time.monotonic() < deadline, "the emulator outlived its SIGKILL"
            time.sleep(0.2)

    def _emulator_groups(self) -> set[int]:
        groups = set()
        for proc in Path("/proc").iterdir():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
                if f"--port={self.port}".encode() in cmdline or \
                        f"--host-port={self.host}".encode() in cmdline:
                    groups.add(os.getpgid(int(proc.name)))
            except (OSError, ValueError):
                continue
        return groups

    def exports(self) -> list[Path]:
        return sorted((self.data / "exports").glob("*/*.overall_export_metadata"))


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[SupervisedEmulator]:
    emu = SupervisedEmulator(data=tmp_path / "firestore", port=free_port(),
                             log=tmp_path / "emulator.log")
    emu.start()
    try:
        yield emu
    finally:
        if emu.process is not None:
            emu.kill()


def settings_for(emu: SupervisedEmulator, tmp_path: Path, *, journal: bool) -> FirestoreSettings:
    return FirestoreSettings(
        firestore_emulator_host=emu.host, google_cloud_project=PROJECT,
        outbox_path=tmp_path / "outbox.jsonl",
        firestore_emulator_export_dir=str(emu.data / "exports") if journal else None)


async def test_a_normal_stop_keeps_every_document(supervised, tmp_path):
    db = await connect(settings_for(supervised, tmp_path, journal=False))
    for seq in range(1, 6):
        assert (await db.save_order(make_order("call-stop", seq), DAY)).status == "saved"
    await db.close()

    await asyncio.to_thread(supervised.stop)
    assert len(supervised.exports()) == 1, "SIGTERM exports before the emulator stops"
    await asyncio.to_thread(supervised.start)

    db = await connect(settings_for(supervised, tmp_path, journal=False))
    try:
        assert (await count_docs(db, "orders"))["orders"] == 5
        assert (await db.get_analytics(DAY)).orders == 5
    finally:
        await db.close()


async def save_confirmed(db: FirebaseManager, call: str, n: int) -> int:
    """n orders, one booking and one message, each confirmed ("saved") as a caller hears it."""
    cents = 0
    for seq in range(1, n + 1):
        order = make_order(call, seq, phone=f"+1617555{seq:04d}")
        assert (await db.save_order(order, DAY)).status == "saved"
        cents += order.total_cents
    res = make_reservation(f"{call}-r", code=f"R{call[-1].upper()}01")
    assert (await db.book_reservation(res, SeatingPlan(seats=20), DAY)).status == "saved"
    msg = Message(id=f"{call}-message-1", call_id=call, name="Dee", phone="+16175550103",
                  reason="Please call back about catering", created_at=datetime.now(UTC))
    assert (await db.save_message(msg, DAY)).status == "saved"
    return cents


async def totals(db: FirebaseManager) -> tuple[int, int, int, int, int]:
    counts = await count_docs(db, "orders", "reservations", "messages")
    stats = await db.get_analytics(DAY)
    return (counts["orders"], counts["reservations"], counts["messages"], stats.orders,
            stats.revenue_cents)


async def test_sigkill_loses_no_confirmed_order_booking_or_message(supervised, tmp_path):
    settings = settings_for(supervised, tmp_path, journal=True)
    db = await connect(settings)
    # 8 orders (+ a booking and a message) reach an export; 12 more do not before the kill.
    cents = await save_confirmed(db, "call-a", 8)
    assert await flush_journal(db) == 10
    assert await db.journal.entries() == [], "exported: nothing left to keep"
    cents += await save_confirmed(db, "call-b", 12)
    assert len(await db.journal.entries()) == 14
    await db.close()

    await asyncio.to_thread(supervised.kill)
    await asyncio.to_thread(supervised.start)  # compose's restart policy; imports the export
    db = await connect(settings)
    try:
        assert await totals(db) == (8, 1, 1, 8, cents - await _cents(12)), \
            "what the export lacked is gone from the database"
        assert await flush_journal(db) == 14
        expected = (20, 2, 2, 20, cents)
        assert await totals(db) == expected, "all 20 back, each once, counted once"
        assert not journal_path(settings.outbox_path).read_text().strip()
        for _ in range(2):  # more rounds change nothing: idempotent
            assert await flush_journal(db) == 0
        assert await totals(db) == expected
    finally:
        await db.close()

    # and what came back is on disk now: a second SIGKILL loses nothing
    await asyncio.to_thread(supervised.kill)
    await asyncio.to_thread(supervised.start)
    db = await connect(settings)
    try:
        assert await totals(db) == expected
    finally:
        await db.close()


async def _cents(n: int) -> int:
    return sum(make_order("call-b", seq, phone=f"+1617555{seq:04d}").total_cents
               for seq in range(1, n + 1))
