"""The reaper closes the logs of calls no agent finished, and only those, writing them from
what the call saved; left-over saved state is swept (real emulator)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from conversation.call_snapshot import CallSnapshot
from domain.masking import PHONE_MARK
from models import CallLog, TranscriptLine
from services.call_reaper import mark_crashed_anywhere, reap_crashed_calls, sweep_call_snapshots
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


def _snapshot(call_id: str, **fields: object) -> dict[str, object]:
    """What a call's agent saved as it went (conversation/call_snapshot.py), as stored."""
    said = [TranscriptLine(role="assistant", text="Thanks for calling. How can I help?"),
            TranscriptLine(role="user", text="A large cap please, I'm on 617 555 0123"),
            TranscriptLine(role="assistant", text="Placed: order number four two.")]
    return CallSnapshot(call_id=call_id, stage="order", customer_name="Sam Rivera",
                        customer_phone="+16175550123", transcript=said,
                        agents_visited=["intent_classifier", "order_agent", "confirmation_agent"],
                        intents=["order"], **fields).to_doc()  # type: ignore[arg-type]


async def test_a_crashed_calls_log_says_what_was_saved_and_the_saved_state_goes(
        db: FirebaseManager) -> None:
    """What the owner sees of a call whose every agent died: what was said (numbers masked),
    the order it made, at its own restaurant; the caller's saved details are gone with it."""
    other = db.for_restaurant("casa-lupita")
    await other.db.directory_entry().set({"name": "Casa Lupita", "numbers": []})
    await other.open_call_log(CallLog(call_id="dead", caller="+16175550123", started_at=START,
                                      analytics_day=DAY), DAY)
    await other.save_call_snapshot("dead", _snapshot(
        "dead", outcomes=["order"], ids_created=["dead-order-1"], language="es",
        languages=["en", "es"]))

    assert await reap_crashed_calls(db, live_calls=set(), now=START + timedelta(minutes=5)
                                    ) == ["dead"]
    log = await other.get_call_log("dead")
    assert log is not None
    assert (log.status, log.close_reason, log.restaurant_id) == ("crashed", "crashed",
                                                                 "casa-lupita")
    assert [(t.role, t.text) for t in log.transcript] == [
        ("assistant", "Thanks for calling. How can I help?"),
        ("user", f"A large cap please, I'm on {PHONE_MARK}"),
        ("assistant", "Placed: order number four two.")]
    assert (log.outcome, log.ids_created) == ("order", ["dead-order-1"])
    assert log.agents_visited == ["intent_classifier", "order_agent", "confirmation_agent"]
    assert (log.language, log.languages, log.caller) == ("es", ["en", "es"], "+16175550123")
    assert await other.load_call_snapshot("dead") is None, "the caller's details outlived it"
    assert await db.get_call_log("dead") is None


async def test_the_watchers_hang_up_writes_the_log_from_the_snapshot_too(
        db: FirebaseManager) -> None:
    await db.db.directory_entry().set({"name": "Main", "numbers": []})
    await db.open_call_log(CallLog(call_id="room-2", started_at=START, analytics_day=DAY), DAY)
    await db.save_call_snapshot("room-2", _snapshot("room-2"))
    assert await mark_crashed_anywhere(db, "room-2", START + timedelta(seconds=20))
    log = await db.get_call_log("room-2")
    assert log is not None and log.status == "crashed"
    assert len(log.transcript) == 3 and log.outcome == "abandoned"  # nothing was saved
    assert log.restaurant_id == "main"
    assert await db.load_call_snapshot("room-2") is None


async def test_an_unreadable_snapshot_still_lets_the_call_be_closed(db: FirebaseManager
                                                                    ) -> None:
    await db.db.directory_entry().set({"name": "Main", "numbers": []})
    await db.open_call_log(CallLog(call_id="odd", started_at=START, analytics_day=DAY), DAY)
    await db.save_call_snapshot("odd", {"call_id": "odd", "cart": "not a cart"})
    assert await reap_crashed_calls(db, set(), START + timedelta(minutes=5)) == ["odd"]
    log = await db.get_call_log("odd")
    assert log is not None and (log.status, log.transcript) == ("crashed", [])
    assert await db.load_call_snapshot("odd") is None


async def test_a_crashed_log_completed_by_a_late_agent_says_each_line_once(
        db: FirebaseManager) -> None:
    """An agent that resumed the call (from the same snapshot) finishes it after the reap: its
    log already holds what was said before the crash, which is not added twice."""
    await db.db.directory_entry().set({"name": "Main", "numbers": []})
    await db.open_call_log(CallLog(call_id="late", started_at=START, analytics_day=DAY), DAY)
    await db.save_call_snapshot("late", _snapshot("late"))
    await reap_crashed_calls(db, set(), START + timedelta(minutes=5))
    crashed = await db.get_call_log("late")
    assert crashed is not None
    more = TranscriptLine(role="user", text="Thanks, bye")
    await db.write_call_log(CallLog(call_id="late", started_at=START + timedelta(minutes=1),
                                    ended_at=START + timedelta(minutes=6), resumed=1,
                                    transcript=[*crashed.transcript, more]), DAY)
    done = await db.get_call_log("late")
    assert done is not None and done.status == "completed"
    assert done.transcript == [*crashed.transcript, more]
    assert (await db.get_analytics(DAY)).crashed == 0


async def test_left_over_snapshots_are_swept_once_old_and_not_live(db: FirebaseManager) -> None:
    """A snapshot no call end and no crashed log consumed (a failed delete, a log that never
    opened) is deleted after the expiry, at every restaurant; a live call's never is."""
    other = db.for_restaurant("casa-lupita")
    for restaurant in (db, other):
        await restaurant.db.directory_entry().set({"name": restaurant.restaurant_id,
                                                   "numbers": []})
    await db.save_call_snapshot("left", _snapshot("left"))
    await other.save_call_snapshot("left-there", _snapshot("left-there"))
    await db.save_call_snapshot("on-hold", _snapshot("on-hold"))  # a live call, quiet a while
    now = datetime.now(UTC)
    assert await sweep_call_snapshots(db, {"on-hold"}, now, expiry_s=300) == []  # too new
    later = now + timedelta(seconds=301)
    assert sorted(await sweep_call_snapshots(db, {"on-hold"}, later, expiry_s=300)) == [
        "left", "left-there"]
    assert await db.load_call_snapshot("left") is None
    assert await other.load_call_snapshot("left-there") is None
    assert await db.load_call_snapshot("on-hold") is not None
