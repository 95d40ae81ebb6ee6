"""The durable outbox file alone (store/outbox.py): one entry per record, nothing lost to a crash
mid-write, removals atomic. End to end with Firestore: tests/test_outbox.py."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import tempfile
from pathlib import Path

import pytest

from store.outbox import Outbox, OutboxEntry, entry_id


def test_append_is_durable_and_deduplicated_by_record_id(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "outbox.jsonl"
    box = Outbox(path)
    box.append_sync("order", {"n": 1}, record_id="call-a-order-1")
    box.append_sync("order", {"n": 1}, record_id="call-a-order-1")  # a retried save
    box.append_sync("message", {"n": 2}, record_id="call-a-message-1")

    reopened = Outbox(path)  # e.g. after a worker restart
    assert [(e.id, e.kind, e.payload) for e in reopened.entries_sync()] == [
        ("order:call-a-order-1", "order", {"n": 1}),
        ("message:call-a-message-1", "message", {"n": 2}),
    ]
    assert len(path.read_text().splitlines()) == 2


def test_remove_rewrites_atomically_and_keeps_the_rest(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    for n in range(3):
        box.append_sync("order", {"n": n}, record_id=f"o{n}")
    assert box.remove_sync(["order:o1", "order:missing"]) == 1
    assert [e.id for e in box.entries_sync()] == ["order:o0", "order:o2"]
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_a_torn_last_line_is_skipped_and_does_not_swallow_the_next(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    box = Outbox(path)
    box.append_sync("order", {"n": 0}, record_id="o0")
    with open(path, "a") as f:
        f.write('{"id": "order:o1", "kind": "ord')  # the process died mid-write
    box.append_sync("order", {"n": 2}, record_id="o2")
    assert [e.id for e in box.entries_sync()] == ["order:o0", "order:o2"]


async def test_async_api_runs_off_the_event_loop(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    await asyncio.gather(*(box.append("order", {"n": n}, record_id=f"o{n}") for n in range(20)))
    assert len(await box.entries()) == 20
    assert await box.remove([f"order:o{n}" for n in range(10)]) == 10
    assert len(await box.entries()) == 10



def test_an_entry_is_one_json_line_with_its_id_kind_payload_and_time(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    entry = Outbox(path).append_sync("message", {"name": "Zoë", "n": 1}, record_id="m1")
    assert entry.id == entry_id("message", "m1") == "message:m1"
    assert entry.kind == "message" and entry.payload == {"name": "Zoë", "n": 1}
    line = path.read_text(encoding="utf-8")
    assert line.endswith("\n") and line.count("\n") == 1 and "Zoë" in line  # readable
    data = json.loads(line)
    assert data == {"id": "message:m1", "kind": "message", "payload": {"name": "Zoë", "n": 1},
                    "queued_at": entry.queued_at}
    assert entry.queued_at.endswith("+00:00")  # UTC, ISO


def test_queueing_a_record_again_keeps_the_first_entry(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    first = box.append_sync("order", {"v": 1}, record_id="o1")
    again = box.append_sync("order", {"v": 2}, record_id="o1")
    assert again == first and [e.payload for e in box.entries_sync()] == [{"v": 1}]
    other_kind = box.append_sync("booking", {"v": 3}, record_id="o1")
    assert other_kind.id == "booking:o1" and len(box) == 2


def test_a_payload_that_cannot_be_written_leaves_the_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    box = Outbox(path)
    box.append_sync("order", {"v": 1}, record_id="o1")
    before = path.read_bytes()
    with pytest.raises(TypeError):
        box.append_sync("order", {"when": object()}, record_id="o2")
    assert path.read_bytes() == before


def test_unreadable_and_repeated_lines_are_skipped(tmp_path: Path, caplog) -> None:
    path = tmp_path / "outbox.jsonl"
    good = OutboxEntry(id="order:a", kind="order", payload={"n": 1}, queued_at="t")
    path.write_text(good.to_line() + "not json\n" + '{"id": "x"}\n' + "\n"
                    + '{"id": "order:b", "kind": "order", "payload": [], "extra": 1}\n'
                    + good.to_line().replace('"n":1', '"n":2'), encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="outbox"):
        entries = Outbox(path).entries_sync()
    assert [(e.id, e.payload) for e in entries] == [("order:a", {"n": 1}), ("order:b", [])]
    assert entries[1].queued_at == ""
    assert [r.getMessage().split(" is ")[0] for r in caplog.records] == [
        f"outbox {path} line 2", f"outbox {path} line 3"]


def test_an_empty_or_missing_outbox_has_no_entries(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "none" / "outbox.jsonl")
    assert box.entries_sync() == [] and len(box) == 0
    assert box.remove_sync(["order:x"]) == 0
    (tmp_path / "empty.jsonl").write_text("")
    assert Outbox(tmp_path / "empty.jsonl").entries_sync() == []


def test_removing_nothing_does_not_rewrite_the_file(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    box = Outbox(path)
    box.append_sync("order", {"n": 0}, record_id="o0")
    inode = os.stat(path).st_ino
    assert box.remove_sync([]) == 0 and box.remove_sync(["order:missing"]) == 0
    assert os.stat(path).st_ino == inode  # not replaced
    assert box.remove_sync(["order:o0"]) == 1
    assert os.stat(path).st_ino != inode and path.read_text() == ""


def test_the_lock_is_a_sidecar_file(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    box.append_sync("order", {}, record_id="o")
    assert (tmp_path / "outbox.jsonl.lock").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outbox.jsonl", "outbox.jsonl.lock"]


async def test_appends_from_many_threads_keep_every_entry(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    await asyncio.gather(*(box.append("order", {"n": n}, record_id=f"o{n % 25}")
                           for n in range(50)))
    assert sorted(e.id for e in await box.entries()) == sorted(f"order:o{n}" for n in range(25))


async def test_async_appends_keep_their_payload(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    await box.append("order", {"order": {"id": "o1", "total_cents": 1328}}, record_id="o1")
    assert [e.payload for e in await box.entries()] == [{"order": {"id": "o1",
                                                                   "total_cents": 1328}}]


def test_creating_and_rewriting_the_outbox_make_its_directory_entry_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fsync of the file alone does not make a new file (or a rename) survive a power cut;
    the directory must be fsynced too. We cannot pull the power here, so count the syncs."""
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    box = Outbox(tmp_path / "outbox.jsonl")
    box.append_sync("order", {}, record_id="o1")
    assert synced == ["file", "dir"]  # created: the directory entry too
    synced.clear()
    box.append_sync("order", {}, record_id="o2")
    assert synced == ["file"]  # appended to an existing file
    synced.clear()
    box.remove_sync(["order:o1"])
    assert synced == ["file", "dir"]  # the rename


def test_the_rewrite_stays_on_the_outbox_s_own_filesystem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary copy is made next to the outbox: a rename across filesystems fails."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem to put the system temp directory on")
    monkeypatch.setattr(tempfile, "tempdir", str(shm))
    box = Outbox(tmp_path / "outbox.jsonl")
    for n in range(2):
        box.append_sync("order", {}, record_id=f"o{n}")
    assert box.remove_sync(["order:o0"]) == 1 and [e.id for e in box.entries_sync()] == [
        "order:o1"]


def test_a_failed_rewrite_keeps_the_outbox_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    for n in range(2):
        box.append_sync("order", {}, record_id=f"o{n}")

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        box.remove_sync(["order:o0"])
    monkeypatch.undo()
    assert [e.id for e in box.entries_sync()] == ["order:o0", "order:o1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outbox.jsonl", "outbox.jsonl.lock"]
