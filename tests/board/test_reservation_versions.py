"""A change or cancel made against an old version of a booking is refused, inside the same
transaction that moves the seats (the board's guarantee that two tablets lose nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store import StaleReservation
from testkit.records import make_reservation


async def test_change_and_cancel_refuse_a_stale_version_and_leave_the_seats(db):
    res = make_reservation(party=2)
    await db.book_reservation(res, 20, res.date)
    seen = (await db.get_reservation(res.code)).updated_at
    later = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)

    moved = await db.change_reservation(res.code, new_party_size=4, call_id="board:a",
                                        capacity=20, now=later, if_updated_at=seen)
    assert moved.party_size == 4

    with pytest.raises(StaleReservation) as stale:
        await db.change_reservation(res.code, new_party_size=6, call_id="board:b",
                                    capacity=20, now=later + timedelta(minutes=1),
                                    if_updated_at=seen)
    assert stale.value.current.party_size == 4
    with pytest.raises(StaleReservation):
        await db.cancel_reservation(res.code, call_id="board:b", now=later, if_updated_at=seen)
    assert (await db.seats_used_on(res.date))["19:00"] == 4

    cancelled = await db.cancel_reservation(res.code, call_id="board:a", now=later,
                                            if_updated_at=moved.updated_at)
    assert cancelled.status == "cancelled"
    assert (await db.seats_used_on(res.date))["19:00"] == 0
