"""The reaper closes the logs of calls no agent finished, and only those (real emulator)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from models import CallLog
from services.call_reaper import mark_crashed_anywhere, reap_crashed_calls
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


async def test_dead_calls_are_closed_at_their_own_restaurant(db: FirebaseManager) -> None:
    """The watcher knows rooms, not restaurants: every restaurant's open logs are looked at,
    and each dead call is marked at the restaurant that holds it (and counted there)."""
    other = db.for_restaurant("casa-lupita")
    for restaurant in (db, other):  # both in the directory, as the staff script leaves them
        await restaurant.db.directory_entry().set({"name": restaurant.restaurant_id,
                                                   "numbers": []})
    await other.open_call_log(CallLog(call_id="dead-at-lupita", started_at=START,
                                      analytics_day=DAY), DAY)
    await db.open_call_log(CallLog(call_id="dead-here", started_at=START, analytics_day=DAY),
                           DAY)
    now = START + timedelta(minutes=5)
    assert sorted(await reap_crashed_calls(db, live_calls=set(), now=now)) == [
        "dead-at-lupita", "dead-here"]
    assert (await other.get_call_log("dead-at-lupita")).status == "crashed"  # type: ignore[union-attr]
    assert await db.get_call_log("dead-at-lupita") is None
    assert (await other.get_analytics(DAY)).crashed == 1
    assert (await db.get_analytics(DAY)).crashed == 1


async def test_the_watcher_marks_a_dead_call_wherever_its_restaurant_is(db: FirebaseManager
                                                                        ) -> None:
    other = db.for_restaurant("casa-lupita")
    await other.db.directory_entry().set({"name": "Casa Lupita", "numbers": ["+15550200"]})
    await other.open_call_log(CallLog(call_id="room-1", started_at=START, analytics_day=DAY),
                              DAY)
    assert await mark_crashed_anywhere(db, "room-1", START + timedelta(minutes=1))
    assert (await other.get_call_log("room-1")).status == "crashed"  # type: ignore[union-attr]
    assert not await mark_crashed_anywhere(db, "no-such-room", START)
