"""A change or cancel made against an old version of a booking is refused, in the same
check-and-set that moves the booking's hold (the board's guarantee that two tablets lose
nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.seating import SeatingPlan
from store import StaleReservation
from testkit.records import make_reservation

ROOM = SeatingPlan(seats=20)


async def _seated(db, day) -> int:
    return sum(h.party_size for h in await db.holds_on(day))


async def test_change_and_cancel_refuse_a_stale_version_and_leave_the_hold(db):
    res = make_reservation(party=2)
    await db.book_reservation(res, ROOM, res.date)
    seen = (await db.get_reservation(res.code)).updated_at
    later = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)

    moved = await db.change_reservation(res.code, new_party_size=4, call_id="board:a",
                                        seating=ROOM, now=later, if_updated_at=seen)
    assert moved.party_size == 4

    with pytest.raises(StaleReservation) as stale:
        await db.change_reservation(res.code, new_party_size=6, call_id="board:b",
                                    seating=ROOM, now=later + timedelta(minutes=1),
                                    if_updated_at=seen)
    assert stale.value.current.party_size == 4
    with pytest.raises(StaleReservation):
        await db.cancel_reservation(res.code, call_id="board:b", now=later, if_updated_at=seen)
    assert await _seated(db, res.date) == 4

    cancelled = await db.cancel_reservation(res.code, call_id="board:a", now=later,
                                            if_updated_at=moved.updated_at)
    assert cancelled.status == "cancelled"
    assert await _seated(db, res.date) == 0
