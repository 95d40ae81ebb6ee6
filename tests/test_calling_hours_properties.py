"""Property tests for the calling-hours rule: whatever the instant and the guest's number, the
next calling time is inside the window in the guest's local time, is never earlier than now,
comes within a day, and is the first quarter hour that is (no hour of calling hours wasted)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.outbound_rules import CallingHours, guest_zones, next_calling_time, within_hours

NUMBERS = ["+16175550102", "+13105550100", "+13125550100", "+19075550100", "+18085550100",
           "+442079460958", "+18005551234"]
RESTAURANT = ZoneInfo("America/New_York")
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                        timezones=st.just(UTC))
windows = st.tuples(st.integers(6, 11), st.integers(16, 21)).map(
    lambda w: CallingHours(time(w[0]), time(w[1])))


@settings(max_examples=300, deadline=None)
@given(now=instants, number=st.sampled_from(NUMBERS), hours=windows)
def test_the_next_calling_time_is_inside_the_guests_hours(now, number, hours):
    zones = guest_zones(number, RESTAURANT)
    at = next_calling_time(now, zones, hours)
    assert at >= now and at - now <= timedelta(hours=24)
    for zone in zones:
        assert hours.start <= at.astimezone(zone).time() < hours.end
    if at > now:  # waited: the quarter hour before was still outside the window
        assert not within_hours(at - timedelta(minutes=15), zones, hours) or \
            at - timedelta(minutes=15) < now
