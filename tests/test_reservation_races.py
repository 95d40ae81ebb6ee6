"""A booking changed or cancelled: the store writes exactly what the new booking needs (its
tables and minutes, the hold of a late meal past midnight let go), keeps its history, and
loses no other writer's update. The host's tap on the board ("seated") touches the booking's
document only, not the day's seating, so only the booking's own precondition keeps it when a
caller's change or cancel is saved at the same moment (real emulator; the host's write is let
in between the store's read and its commit)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain.seating import SeatingPlan, Table
from models import Reservation, ReservationChange
from store import FirebaseManager, PersistenceUnavailable, ReservationCancelled, ReservationNotFound
from testkit.races import after_read
from testkit.records import make_reservation
from testkit.seating import seated_at

SAVED_ON = date(2026, 11, 20)
DAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
TAPPED = datetime(2026, 11, 20, 17, 59, tzinfo=UTC)
TWO_TABLES = SeatingPlan(tables=[Table(id="T1", seats=2), Table(id="T2", seats=4)])
# One table for two: a late meal from 23:30 holds it until 00:45 (75 minutes).
LATE_ROOM = SeatingPlan(tables=[Table(id="T1", seats=2)])


def _host(db: FirebaseManager, code: str) -> Callable[[], Awaitable[None]]:
    """The board's "Seated" tap on the booking (a reference taken before the caller's store
    is made to let it in): the booking's status and history, nothing else."""
    ref = db.db.document(f"reservations/{code}")

    async def seat() -> None:
        res = Reservation.from_doc((await ref.get()).to_dict() or {})
        tap = ReservationChange(at=TAPPED, call_id="staff:host", action="seated",
                                before={"status": res.status})
        await ref.update({
            "status": "seated", "updated_at": TAPPED,
            "history": [h.to_doc() for h in [*res.history, tap]]})

    return seat


async def test_a_late_meal_moved_to_another_night_lets_go_of_its_table_after_midnight(
        db: FirebaseManager) -> None:
    late = make_reservation("late", at=time(23, 30))
    await db.book_reservation(late, LATE_ROOM, SAVED_ON)
    # Held on Saturday's page too, from 30 minutes before midnight to 00:45.
    assert [(h.code, h.start, h.end) for h in await db.holds_on(DAY + timedelta(days=1))] == [
        (late.code, -30, 45)]

    await db.change_reservation(late.code, new_date=DAY - timedelta(days=2), new_time=time(20),
                                call_id="c2", seating=LATE_ROOM, now=NOW)

    assert await seated_at(db, DAY) == {}
    assert await db.holds_on(DAY + timedelta(days=1)) == []  # free for Saturday's first
    assert await seated_at(db, DAY - timedelta(days=2)) == {"20:00": 2}


async def test_a_late_meal_cancelled_frees_its_table_on_both_sides_of_midnight(
        db: FirebaseManager) -> None:
    late = make_reservation("late", at=time(23, 30))
    await db.book_reservation(late, LATE_ROOM, SAVED_ON)

    await db.cancel_reservation(late.code, call_id="c2", now=NOW)

    assert await seated_at(db, DAY) == {}
    assert await db.holds_on(DAY + timedelta(days=1)) == []


async def test_a_bigger_party_gets_the_bigger_table_for_its_longer_meal(
        db: FirebaseManager) -> None:
    res = make_reservation(party=2)
    await db.book_reservation(res, TWO_TABLES, SAVED_ON)

    bigger = await db.change_reservation(res.code, new_party_size=4, call_id="c2",
                                         seating=TWO_TABLES, now=NOW)

    stored = await db.get_reservation(res.code)
    assert stored == bigger
    assert (stored.tables, stored.minutes, stored.updated_at) == (["T2"], 90, NOW)
    held = {h.code: h for h in await db.holds_on(DAY)}
    assert (held[res.code].tables, held[res.code].minutes) == (("T2",), 90)


async def test_a_booking_can_shrink_to_one_guest_but_not_to_none(db: FirebaseManager) -> None:
    res = make_reservation(party=2)
    await db.book_reservation(res, TWO_TABLES, SAVED_ON)

    alone = await db.change_reservation(res.code, new_party_size=1, call_id="c2",
                                        seating=TWO_TABLES, now=NOW)
    assert alone.party_size == 1 and await seated_at(db, DAY) == {"19:00": 1}
    with pytest.raises(ValueError, match=r"^party size must be at least 1, not 0$"):
        await db.change_reservation(res.code, new_party_size=0, call_id="c3",
                                    seating=TWO_TABLES, now=NOW)
    assert (await db.get_reservation(res.code)).party_size == 1


async def test_a_cancel_is_dated_and_says_what_the_booking_was(db: FirebaseManager) -> None:
    res = make_reservation(party=2)
    await db.book_reservation(res, TWO_TABLES, SAVED_ON)

    await db.cancel_reservation(res.code, call_id="c2", now=NOW)

    stored = await db.get_reservation(res.code)
    assert (stored.status, stored.updated_at) == ("cancelled", NOW)
    assert stored.history[-1] == ReservationChange(at=NOW, call_id="c2", action="cancelled",
                                                   before={"status": "confirmed"})


async def test_an_unknown_or_cancelled_booking_is_named_in_the_refusal(
        db: FirebaseManager) -> None:
    res = make_reservation(party=2)
    await db.book_reservation(res, TWO_TABLES, SAVED_ON)
    await db.cancel_reservation(res.code, call_id="c2", now=NOW)

    with pytest.raises(ReservationCancelled) as gone:
        await db.change_reservation(res.code, new_party_size=3, call_id="c3",
                                    seating=TWO_TABLES, now=NOW)
    assert (gone.value.code, str(gone.value)) == (res.code, f"reservation {res.code} is cancelled")
    with pytest.raises(ReservationNotFound) as unknown:
        await db.change_reservation("NOPE99", new_party_size=3, call_id="c3",
                                    seating=TWO_TABLES, now=NOW)
    assert unknown.value.code == "NOPE99"


async def test_the_hosts_seated_tap_is_kept_when_the_caller_changes_the_party_meanwhile(
        db: FirebaseManager, monkeypatch: pytest.MonkeyPatch) -> None:
    res = make_reservation(party=2)
    await db.book_reservation(res, TWO_TABLES, SAVED_ON)
    after_read(monkeypatch, db, f"reservations/{res.code}", _host(db, res.code))

    changed = await db.change_reservation(res.code, new_party_size=3, call_id="c2",
                                          seating=TWO_TABLES, now=NOW)

    stored = await db.get_reservation(res.code)
    assert stored == changed and stored.party_size == 3
    assert [h.action for h in stored.history] == ["created", "seated", "changed"]
    assert stored.history[-1].before["status"] == "seated"


async def test_the_hosts_seated_tap_is_kept_when_the_caller_cancels_meanwhile(
        db: FirebaseManager, monkeypatch: pytest.MonkeyPatch) -> None:
    res = make_reservation(party=2)
    await db.book_reservation(res, TWO_TABLES, SAVED_ON)
    after_read(monkeypatch, db, f"reservations/{res.code}", _host(db, res.code))

    await db.cancel_reservation(res.code, call_id="c2", now=NOW)

    stored = await db.get_reservation(res.code)
    assert stored.status == "cancelled"
    assert [(h.action, h.before) for h in stored.history] == [("created", {}),
        ("seated", {"status": "confirmed"}), ("cancelled", {"status": "seated"})]
    assert await seated_at(db, DAY) == {}


@pytest.mark.parametrize("what", ["change", "cancel"])
async def test_a_write_that_loses_every_race_says_which_booking_it_was(
        db: FirebaseManager, monkeypatch: pytest.MonkeyPatch, what: str) -> None:
    """What the on-call engineer reads when the retries run out: the booking and the write."""
    res = make_reservation(party=2)
    await db.book_reservation(res, TWO_TABLES, SAVED_ON)
    db.contention_budget_s = 0.0  # the first lost race is the last
    after_read(monkeypatch, db, f"reservations/{res.code}", _host(db, res.code),
               every=True)

    with pytest.raises(PersistenceUnavailable, match=rf"^Aborted: .*{what} of {res.code} raced "
                       "another write: "):
        if what == "change":
            await db.change_reservation(res.code, new_party_size=3, call_id="c2",
                                        seating=TWO_TABLES, now=NOW)
        else:
            await db.cancel_reservation(res.code, call_id="c2", now=NOW)
    assert (await db.get_reservation(res.code)).status == "seated"
