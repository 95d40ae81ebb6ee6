"""What the dialer may run up (store/outbound_caps.py), on the real Firestore emulator: at most
N calls an hour and a day and M at once per restaurant, with the reason the board shows; a
number is checked again when it is claimed; the home region is the restaurant's."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models import RestaurantSettings
from store.outbound import OutboundQueue, Policy
from testkit.records import make_reservation

NY = ZoneInfo("America/New_York")
AT = datetime(2026, 11, 27, 15, 0, tzinfo=NY).astimezone(UTC)
LEASE = timedelta(minutes=5)


def settings(**caps: int | bool | str) -> RestaurantSettings:
    return RestaurantSettings(name="Test Cafe", timezone="America/New_York", **caps)


async def reminders(db, queue: OutboundQueue, n: int, phone_base: int = 100) -> None:
    for i in range(n):
        code = f"C{i}"
        res = make_reservation(code=code, phone=f"+1617555{phone_base + i:04d}",
                               day=date(2026, 11, 27), at=time(19, 0))
        await db.db.document(f"reservations/{code}").set(res.to_doc())
        await queue.schedule_reminder(code, AT - timedelta(days=2))


async def test_at_most_m_calls_at_once_even_with_racing_dialers(db):
    queue = OutboundQueue(db.db, Policy.of(settings(outbound_max_concurrent=2)))
    await reminders(db, queue, 5)
    got = []
    for _ in range(3):
        got += [c for c in await asyncio.gather(*(queue.claim(f"w{i}", AT, LEASE)
                                                  for i in range(3))) if c]
    assert len(got) == 2, got
    state = await queue.caps_state(AT)
    assert state.refusing and "2 outbound calls at once" in state.refusing
    await queue.finish(got[0], got[0].lease_owner, "kept", AT)
    third = await queue.claim("w9", AT, LEASE)
    assert third is not None and third.id not in {c.id for c in got}
    assert await queue.claim("w9", AT, LEASE) is None


async def test_at_most_n_calls_an_hour_and_a_day(db):
    queue = OutboundQueue(db.db, Policy.of(settings(
        outbound_max_per_hour=3, outbound_max_per_day=4, outbound_max_concurrent=10)))
    await reminders(db, queue, 6)
    first_hour = [await queue.claim("w1", AT + timedelta(minutes=m), LEASE) for m in range(5)]
    assert [c is not None for c in first_hour] == [True, True, True, False, False]
    assert "3 outbound calls an hour" in (await queue.caps_state(AT)).refusing
    for c in first_hour[:3]:
        await queue.finish(c, "w1", "no_answer", AT + timedelta(minutes=5))
    later = AT + timedelta(minutes=61)
    assert await queue.claim("w1", later, LEASE) is not None  # a new hour: one more
    assert await queue.claim("w1", later, LEASE) is None  # but the day's four are used
    assert "4 outbound calls a day" in (await queue.caps_state(later)).refusing


async def test_a_number_is_checked_again_when_the_call_is_claimed(db):
    allowed = OutboundQueue(db.db, Policy.of(settings(outbound_international=True)))
    res = make_reservation(code="INT1", phone="+442079460000", day=date(2026, 11, 27),
                           at=time(19, 0))
    await db.db.document("reservations/INT1").set(res.to_doc())
    await allowed.schedule_reminder("INT1", AT - timedelta(days=2))
    # the owner turns international calling off before the reminder is due
    now_off = OutboundQueue(db.db, Policy.of(settings(outbound_international=False)))
    assert await now_off.claim("w1", AT, LEASE) is None
    call = await now_off.get("reminder-INT1")
    assert call is not None and (call.status, call.outcome) == ("skipped", "not_dialable")


def test_the_home_region_comes_from_the_restaurants_settings():
    assert Policy.of(settings()).home_region == "US"
    assert Policy.of(settings(phone="+14165550100")).home_region == "CA"
    assert Policy.of(settings(region="gb", phone="+14165550100")).home_region == "GB"
