"""An hour the caller said without AM or PM is told apart from one they placed (issue 27):
a time the model turned into 08:00 or 20:00 is then asked, never guessed (domain/booking.py)."""

from __future__ import annotations

from datetime import date, time

import pytest

from domain.booking import read_time
from domain.natural import hour_said_bare
from domain.refusal import Refusal
from models import RestaurantSettings


@pytest.mark.parametrize(("heard", "bare"), [
    ("a table for 2 tomorrow at 8", True), ("tomorrow at eight", True),
    ("tomorrow at 8 in the evening", False), ("at 8 tonight", False), ("at 20:00", False),
    ("it's Sam, six one seven five five five oh one oh eight", False),  # a number, no hour
    ("617-555-0108, and at 8 please", True),
])
def test_an_hour_said_without_am_or_pm_is_told_apart(heard, bare):
    assert hour_said_bare(heard, time(20, 0)) is bare


BOTH_HALVES = RestaurantSettings.model_validate({
    "name": "Both Halves", "timezone": "America/New_York", "slot_minutes": 30,
    "seating": {"seats": 10, "durations": [{"up_to": 99, "minutes": 60}]},
    "hours": {"mon": [{"open": "07:00", "close": "11:00"}, {"open": "17:00", "close": "22:00"}]},
})
MONDAY = date(2026, 11, 23)


def test_a_bare_hour_the_model_made_a_clock_time_is_asked_but_a_half_it_named_is_kept():
    """"tomorrow at 8" where 8 AM and 8 PM are both seated: the model's 20:00 is its own guess
    and the caller is asked; "8 PM" written out names the half of the day (the model heard it
    earlier in the call: "dinner for two … tomorrow at 8") and is kept."""
    heard = "a table for two on Monday at 8"
    with pytest.raises(Refusal, match="without AM or PM"):
        read_time(BOTH_HALVES, MONDAY, "20:00", heard=heard)
    assert read_time(BOTH_HALVES, MONDAY, "8 PM", heard=heard) == time(20, 0)
    assert read_time(BOTH_HALVES, MONDAY, "8 in the morning", heard=heard) == time(8, 0)
