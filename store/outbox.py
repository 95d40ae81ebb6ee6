"""Durable local outbox for writes Firestore could not take right now.

A confirmed order must survive a Firestore outage and a worker crash, so each queued write is
one JSON line that is fsynced before the caller hears "you're all set". Entry ids come from the
record id, so queueing the same write twice keeps one entry. LiveKit runs calls in separate
processes that share this file, hence the `flock` around every read-modify-write.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def entry_id(kind: str, record_id: str) -> str:
    return f"{kind}:{record_id}"


@dataclass(frozen=True)
class OutboxEntry:
    id: str
    kind: str
    payload: dict[str, Any]
    queued_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_line(self) -> str:
        data = {"id": self.id, "kind": self.kind, "payload": self.payload,
                "queued_at": self.queued_at}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


class Outbox:
    """JSON-lines file; the sync methods do the I/O, the async ones run them off the loop."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        # A sidecar lock file: the outbox itself is replaced on rewrite, so it cannot be locked.
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.Lock()

    # ------------------------------------------------------------ async API (event loop safe)

    async def append(self, kind: str, payload: dict[str, Any], *, record_id: str) -> OutboxEntry:
        return await asyncio.to_thread(self.append_sync, kind, payload, record_id=record_id)

    async def entries(self) -> list[OutboxEntry]:
        return await asyncio.to_thread(self.entries_sync)

    async def remove(self, ids: Iterable[str]) -> int:
        return await asyncio.to_thread(self.remove_sync, list(ids))

    # ------------------------------------------------------------ sync API

    def append_sync(self, kind: str, payload: dict[str, Any], *, record_id: str) -> OutboxEntry:
        """Durably add a write; returns the existing entry if this record is already queued."""
        entry = OutboxEntry(id=entry_id(kind, record_id), kind=kind, payload=payload)
        line = entry.to_line()  # serialise first: a bad payload must not leave half a line
        with self._locked():
            existing, torn_tail = self._read()
            for old in existing:
                if old.id == entry.id:
                    return old
            created = not self.path.exists()
            with open(self.path, "a", encoding="utf-8") as f:
                if torn_tail:
                    f.write("\n")  # a crash cut the last line short; keep the next one intact
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            if created:
                _fsync_dir(self.path.parent)
        log.warning("queued %s in the outbox (%s)", entry.id, self.path)
        return entry

    def entries_sync(self) -> list[OutboxEntry]:
        with self._locked():
            return self._read()[0]

    def remove_sync(self, ids: list[str]) -> int:
        """Drop entries by id, rewriting the file atomically (temp file, fsync, rename)."""
        drop = set(ids)
        if not drop:
            return 0
        with self._locked():
            current, _ = self._read()
            keep = [e for e in current if e.id not in drop]
            removed = len(current) - len(keep)
            if removed:
                self._rewrite(keep)
            return removed

    def __len__(self) -> int:
        return len(self.entries_sync())

    # ------------------------------------------------------------ internals

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, open(self._lock_path, "a") as lock_file:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def _read(self) -> tuple[list[OutboxEntry], bool]:
        """Entries in file order, plus whether the file ends in a torn (unterminated) line."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return [], False
        entries: list[OutboxEntry] = []
        seen: set[str] = set()
        for n, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
                entry = OutboxEntry(id=data["id"], kind=data["kind"], payload=data["payload"],
                                    queued_at=data.get("queued_at", ""))
            except (ValueError, KeyError, TypeError):
                log.error("outbox %s line %d is unreadable and is skipped: %.200s",
                          self.path, n, raw)
                continue
            if entry.id not in seen:
                seen.add(entry.id)
                entries.append(entry)
        return entries, bool(text) and not text.endswith("\n")

    def _rewrite(self, entries: list[OutboxEntry]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.writelines(e.to_line() for e in entries)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(self.path.parent)


def _fsync_dir(path: Path) -> None:
    # Makes the file's creation or rename itself durable, not just its contents.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
