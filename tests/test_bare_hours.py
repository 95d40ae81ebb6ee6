"""An hour the caller said without AM or PM is told apart from one they placed (issue 27):
a time the model turned into 08:00 or 20:00 is then asked, never guessed (domain/booking.py)."""

from __future__ import annotations

from datetime import time

import pytest

from domain.natural import hour_said_bare


@pytest.mark.parametrize(("heard", "bare"), [
    ("a table for 2 tomorrow at 8", True), ("tomorrow at eight", True),
    ("tomorrow at 8 in the evening", False), ("at 8 tonight", False), ("at 20:00", False),
    ("it's Sam, six one seven five five five oh one oh eight", False),  # a number, no hour
    ("617-555-0108, and at 8 please", True),
])
def test_an_hour_said_without_am_or_pm_is_told_apart(heard, bare):
    assert hour_said_bare(heard, time(20, 0)) is bare
