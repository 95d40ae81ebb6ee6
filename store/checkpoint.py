"""No confirmed order, booking or message lost when the Firestore emulator dies.

The emulator (compose's default database) holds data in memory; it reaches the disk only as an
export (docker/firestore/run-emulator.sh imports the newest at start, exports on a normal stop
and every minute). A SIGKILL loses everything since the last export, so the worker keeps its
own copy of every order, booking and message it confirmed to a caller: a journal next to the
outbox, one fsynced JSON line each (the same file format, `outbox.Outbox`), written before the
caller hears "you're all set".

An entry leaves the journal only once an export is known to hold it: `flush_journal`
re-commits each entry through the store's idempotent code (a create precondition, so a record
the emulator still has is "already_saved" and nothing is counted twice), asks the emulator to
export, then checks each entry again. "already_saved" on that second pass proves the record was
in the emulator before and after the export, so the export holds it; anything the emulator lost
meanwhile (it restarted between the passes) is "saved" again and stays for the next round.

Only with the emulator and FIRESTORE_EMULATOR_EXPORT_DIR set (the folder, as the emulator sees
it, that run-emulator.sh imports from); a real Firestore project is durable by itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from store.errors import PersistenceUnavailable
from store.outbox import Outbox

if TYPE_CHECKING:
    from store.errors import SaveStatus
    from store.outbox import OutboxEntry


class Journaled(Protocol):
    """What the journal's flush needs of the database (store.repository.FirebaseManager)."""

    journal: Outbox | None
    checkpoint: EmulatorCheckpoint | None

    async def ensure_saved(self, entry: OutboxEntry) -> SaveStatus: ...

log = logging.getLogger(__name__)

# What a caller was told is saved; call logs and call state are the store's own bookkeeping.
JOURNALED_KINDS = frozenset({"order", "booking", "message"})


class CheckpointFailed(RuntimeError):
    """The emulator did not confirm an export."""


def journal_path(outbox_path: Path) -> Path:
    return outbox_path.with_name(outbox_path.stem + ".unexported.jsonl")


class EmulatorCheckpoint:
    """Asks the emulator at `host` to export every document into `export_dir` (its own path)."""

    def __init__(self, host: str, project: str, export_dir: str, *, timeout_s: float = 60.0):
        self.url = f"http://{host}/emulator/v1/projects/{project}:export"
        self.body = json.dumps({"database": f"projects/{project}/databases/(default)",
                                "export_directory": export_dir}).encode()
        self.timeout_s = timeout_s

    async def export(self) -> None:
        await asyncio.to_thread(self._export_sync)

    def _export_sync(self) -> None:
        request = urllib.request.Request(self.url, data=self.body, method="POST",
                                         headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read()
        except (OSError, urllib.error.URLError) as e:  # HTTPError is a URLError
            raise CheckpointFailed(f"emulator export failed: {e}") from e


async def flush_journal(db: Journaled) -> int:
    """Drop the journal entries an export now holds; returns how many left the journal."""
    journal, checkpoint = db.journal, db.checkpoint
    if journal is None or checkpoint is None:
        return 0
    entries = await journal.entries()
    if not entries:
        return 0
    present = []
    for entry in entries:
        try:
            await db.ensure_saved(entry)
        except PersistenceUnavailable:
            log.info("Firestore unavailable; journal kept (%d entries)", len(entries))
            return 0
        except Exception:
            log.exception("journal entry %s could not be re-committed; kept", entry.id)
            continue
        present.append(entry)
    try:
        await checkpoint.export()
    except CheckpointFailed as e:
        log.warning("%s; journal kept (%d entries)", e, len(entries))
        return 0
    confirmed: list[str] = []
    for entry in present:
        try:
            if await db.ensure_saved(entry) == "already_saved":
                confirmed.append(entry.id)
        except PersistenceUnavailable:
            break
        except Exception:
            log.exception("journal entry %s could not be checked; kept", entry.id)
    removed = await journal.remove(confirmed)
    if removed:
        log.info("%d journal entries are on disk (exported); %d kept", removed,
                 len(entries) - removed)
    return removed


def emulator_durability(
    emulator_host: str | None, project: str, export_dir: str | None, outbox_path: Path
) -> tuple[Outbox | None, EmulatorCheckpoint | None]:
    """The journal and checkpoint for these settings, or (None, None) when not needed."""
    if not emulator_host or not export_dir:
        return None, None
    return (Outbox(journal_path(outbox_path)),
            EmulatorCheckpoint(emulator_host, project, export_dir))
