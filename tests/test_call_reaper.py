"""The reaper closes the logs of calls no agent finished, and only those (real emulator)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from call_reaper import reap_crashed_calls
from models import CallLog
from store import FirebaseManager

DAY = date(2026, 11, 20)
START = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)  # already the next day in UTC


async def test_only_dead_calls_old_enough_are_marked_crashed(db: FirebaseManager) -> None:
    for call_id, started in (("dead", START), ("live", START),
                             ("just-rang", START + timedelta(minutes=4, seconds=30))):
        await db.open_call_log(CallLog(call_id=call_id, started_at=started, analytics_day=DAY),
                               DAY)
    done = CallLog(call_id="done", started_at=START, ended_at=START + timedelta(minutes=1))
    await db.write_call_log(done, DAY)

    now = START + timedelta(minutes=5)
    assert await reap_crashed_calls(db, live_calls={"live"}, now=now) == ["dead"]
    assert await reap_crashed_calls(db, live_calls={"live"}, now=now) == []

    logs = {c: await db.get_call_log(c) for c in ("dead", "live", "just-rang", "done")}
    assert {c: log.status for c, log in logs.items() if log} == {
        "dead": "crashed", "live": "in_progress", "just-rang": "in_progress", "done": "completed"}
    stats = await db.get_analytics(DAY)  # counted on the restaurant's day, not UTC's
    assert (stats.calls, stats.crashed) == (4, 1)
