"""A call's log has two writers that can meet: the call's own agent completing it and the
reaper marking it crashed, each reading the log and then writing it. Each write is made only
if the log is still as it was read (its update time as the commit's precondition), so when
they meet, the owner's log and counts say what really happened (real emulator; the other
writer is let in between the read and the commit, the one moment the precondition is for).
Also the log's lifecycle as a pure merge (`completed_log`)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from google.api_core import exceptions as gexc

from conversation.call_snapshot import CallSnapshot, crash_log_fields
from models import CallLog, TranscriptLine
from store import FirebaseManager
from store.call_records import completed_log
from testkit.races import after_read

DAY = date(2026, 11, 20)
START = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)


def _line(role: str, text: str) -> TranscriptLine:
    return TranscriptLine(role=role, text=text)  # type: ignore[arg-type]


def _snapshot(said: list[TranscriptLine]) -> dict[str, Any]:
    return CallSnapshot(call_id="c1", stage="order", transcript=said,
                        agents_visited=["intent_classifier", "order_agent"],
                        intents=["order"]).to_doc()  # type: ignore[arg-type]


async def _open(db: FirebaseManager) -> None:
    await db.db.directory_entry().set({"name": "Main", "numbers": []})
    await db.open_call_log(CallLog(call_id="c1", started_at=START, analytics_day=DAY), DAY)


async def test_the_agent_finishing_as_the_reaper_marks_it_keeps_the_call_completed(
        db: FirebaseManager, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reaper read the log "in progress"; the agent completed it before the reaper's
    write: the call is completed, not crashed, and not counted as a crash."""
    await _open(db)
    agent = db.for_restaurant(db.restaurant_id)  # the agent's own client, not patched
    done = CallLog(call_id="c1", started_at=START, ended_at=START + timedelta(minutes=2),
                   transcript=[_line("user", "Thanks, bye")])
    after_read(monkeypatch, db, "call_logs/c1",
                      lambda: agent.write_call_log(done, DAY))  # type: ignore[arg-type,return-value]

    assert not await db.mark_call_crashed("c1", now=START + timedelta(minutes=5),
                                          from_snapshot=crash_log_fields)
    log = await db.get_call_log("c1")
    assert log is not None and (log.status, log.close_reason) == ("completed", None)
    assert [t.text for t in log.transcript] == ["Thanks, bye"]
    stats = await db.get_analytics(DAY)
    assert (stats.calls, stats.crashed) == (1, 0)


async def test_a_crashed_log_says_what_the_call_saved_last(
        db: FirebaseManager, monkeypatch: pytest.MonkeyPatch) -> None:
    """The call's state was saved again between the reaper's read and its write (an agent
    alive after all, a last turn): the snapshot is not deleted unseen, and the crashed log is
    written from the newer state."""
    await _open(db)
    first = [_line("assistant", "Thanks for calling. How can I help?")]
    await db.save_call_snapshot("c1", _snapshot(first))
    later = [*first, _line("user", "Two tacos please")]
    agent = db.for_restaurant(db.restaurant_id)
    after_read(monkeypatch, db, "call_snapshots/c1",
                      lambda: agent.save_call_snapshot("c1", _snapshot(later)))

    assert await db.mark_call_crashed("c1", now=START + timedelta(minutes=5),
                                      from_snapshot=crash_log_fields)
    log = await db.get_call_log("c1")
    assert log is not None and log.status == "crashed"
    assert [t.text for t in log.transcript] == [t.text for t in later]
    assert await db.load_call_snapshot("c1") is None
    assert (await db.get_analytics(DAY)).crashed == 1


async def test_the_reaper_marking_as_the_agent_finishes_leaves_no_crash_counted(
        db: FirebaseManager, monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent read the log "in progress"; the reaper marked it crashed before the agent's
    write: the agent's completion replaces the crash mark and takes its count back."""
    await _open(db)
    reaper = db.for_restaurant(db.restaurant_id)
    after_read(monkeypatch, db, "call_logs/c1", lambda: reaper.mark_call_crashed(
        "c1", now=START + timedelta(minutes=5), from_snapshot=crash_log_fields))
    done = CallLog(call_id="c1", started_at=START, ended_at=START + timedelta(minutes=2),
                   transcript=[_line("user", "Thanks, bye")], outcome="order")

    assert (await db.write_call_log(done, DAY)).status == "saved"
    log = await db.get_call_log("c1")
    assert log is not None and (log.status, log.outcome) == ("completed", "order")
    stats = await db.get_analytics(DAY)
    assert (stats.calls, stats.crashed) == (1, 0)


async def test_a_log_from_before_the_lifecycle_is_not_written_again(db: FirebaseManager) -> None:
    """Logs written before calls had a status were complete: a late write for the same call
    is already saved, and the call is not counted twice."""
    await db.db.document("call_logs/old").set(
        {"call_id": "old", "started_at": START, "ended_at": START + timedelta(minutes=1),
         "outcome": "order", "transcript": []})
    late = CallLog(call_id="old", started_at=START, ended_at=START + timedelta(minutes=3),
                   outcome="abandoned")
    assert (await db.write_call_log(late, DAY)).status == "already_saved"
    stored = (await db.db.document("call_logs/old").get()).to_dict()
    assert stored is not None and stored["outcome"] == "order" and "status" not in stored
    assert (await db.get_analytics(DAY)).calls == 0


async def test_a_crashed_logs_duration_is_to_the_hundredth(db: FirebaseManager) -> None:
    await _open(db)
    now = START + timedelta(seconds=94, microseconds=876543)
    assert await db.mark_call_crashed("c1", now=now, from_snapshot=crash_log_fields)
    log = await db.get_call_log("c1")
    assert log is not None and log.duration_s == 94.88  # 94.876543 s


async def test_an_unreadable_saved_state_is_logged_with_its_call(
        db: FirebaseManager, caplog: pytest.LogCaptureFixture) -> None:
    await _open(db)
    await db.save_call_snapshot("c1", {"call_id": "c1", "cart": "not a cart"})
    with caplog.at_level(logging.WARNING, logger="store.call_records"):
        assert await db.mark_call_crashed("c1", now=START + timedelta(minutes=5),
                                          from_snapshot=crash_log_fields)
    warned = [r for r in caplog.records if "unreadable" in r.getMessage()]
    assert [getattr(r, "call_id", None) for r in warned] == ["c1"]


async def test_a_write_that_lost_the_race_names_its_call(db: FirebaseManager) -> None:
    """Contention is retried; when the retries run out, the operator reads which call."""
    await _open(db)
    stale = (await db.db.document("call_logs/c1").get()).update_time
    await db.db.document("call_logs/c1").update({"outcome": "order"})
    batch = db.db.batch()
    batch.update(db.db.document("call_logs/c1"), {"outcome": "abandoned"},
                 option=db.db.write_option(last_update_time=stale))
    with pytest.raises(gexc.Aborted, match="call log c1 changed meanwhile"):
        await db._commit_if_unchanged(batch, db.db.document("call_logs/c1"))


# ------------------------------------------------------------------ the merge, pure

def _log(**fields: Any) -> CallLog:
    return CallLog(**{"call_id": "c1", "started_at": START, **fields})


def test_a_call_with_no_earlier_record_is_completed_as_it_is() -> None:
    done = completed_log(_log(status="in_progress", transcript=[_line("user", "hi")]), None)
    assert done.status == "completed" and [t.text for t in done.transcript] == ["hi"]


def test_a_completed_record_is_not_merged_into() -> None:
    """A log completed already (or from before the lifecycle) is not merged with: the new
    log is taken as it is, completed."""
    stored = _log(status="completed", transcript=[_line("user", "earlier")], resumed=2)
    done = completed_log(_log(status="in_progress", transcript=[_line("user", "now")]), stored)
    assert (done.status, [t.text for t in done.transcript], done.resumed) == (
        "completed", ["now"], 0)


def test_a_resumed_agents_log_keeps_the_day_the_call_was_counted_on() -> None:
    stored = _log(status="crashed", analytics_day=DAY)
    done = completed_log(_log(started_at=START + timedelta(minutes=1)), stored)
    assert done.analytics_day == DAY
    own = completed_log(_log(analytics_day=date(2026, 11, 21)), stored)
    assert own.analytics_day == date(2026, 11, 21)


def test_a_resumed_calls_log_is_the_whole_call() -> None:
    """The crashed record (what was said before the crash, the call's real start, how often
    it was taken over) and the resumed agent's log make one completed log."""
    before = [_line("assistant", "How can I help?"), _line("user", "Two tacos")]
    stored = _log(status="crashed", transcript=before, resumed=2, analytics_day=DAY)
    after = [_line("assistant", "Sorry, we were cut off."), _line("user", "Thanks, bye")]
    later = START + timedelta(minutes=3)
    ended = later + timedelta(seconds=61, microseconds=876543)
    done = completed_log(_log(status="in_progress", started_at=later, transcript=after,
                              resumed=1, ended_at=ended), stored)
    assert done.status == "completed"
    assert done.started_at == START  # the call's real start, not the resumed agent's
    assert done.duration_s == 241.88  # 241.876543 s, from the real start
    assert [t.text for t in done.transcript] == [t.text for t in [*before, *after]]
    assert (done.resumed, done.analytics_day) == (2, DAY)
