"""Dates, times and counts as a model passes them from speech (domain/natural.py): each form a
caller uses is read exactly, and what cannot be read is refused saying what to pass."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.natural import parse_clock, parse_count, parse_day, spoken_digits
from domain.refusal import Refusal

WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen", "twenty"]
MINUTE_WORDS = {0: "", 15: "fifteen", 30: "thirty", 45: "forty five"}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
FRIDAY = date(2026, 11, 20)


@settings(max_examples=300, deadline=None)
@given(hour=st.integers(1, 12), minute=st.sampled_from([0, 15, 30, 45]),
       pm=st.booleans(), form=st.integers(0, 4))
def test_clock_times_said_with_am_or_pm(hour, minute, pm, form):
    suffix = ["pm", "PM", "p.m.", " pm", " in the evening"][form] if pm else [
        "am", "AM", "a.m.", " am", " in the morning"][form]
    expected = time(hour % 12 + (12 if pm else 0), minute)
    digits = f"{hour}:{minute:02d}{suffix}" if minute else f"{hour}{suffix}"
    words = f"{WORDS[hour - 1]} {MINUTE_WORDS[minute]}".strip() + " " + suffix.strip()
    assert parse_clock(digits) == expected
    assert parse_clock(words) == expected


@settings(max_examples=200, deadline=None)
@given(hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_24_hour_times(hour, minute):
    assert parse_clock(f"{hour:02d}:{minute:02d}") == time(hour, minute)


@settings(max_examples=100, deadline=None)
@given(hour=st.integers(1, 11), minute=st.sampled_from([0, 30]))
def test_a_bare_hour_is_settled_by_what_we_seat_at_or_asked(hour, minute):
    if hour >= 10:
        minute = 0  # "10:30" is the 24-hour clock's 10:30; a bare "10" is ambiguous
    said = f"{hour}:{minute:02d}" if minute else str(hour)
    evenings = parse_clock(said, bookable=lambda t: t >= time(12))
    assert evenings == time(hour + 12, minute)
    with pytest.raises(Refusal, match="AM or PM"):
        parse_clock(said, bookable=lambda t: True)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 20), form=st.integers(0, 4))
def test_counts(n, form):
    said = [str(n), WORDS[n - 1], f"{WORDS[n - 1]} people", f"party of {n}",
            f"a table for {WORDS[n - 1]}"][form]
    assert parse_count(said, "party_size", "4") == n


@settings(max_examples=200, deadline=None)
@given(ahead=st.integers(0, 60))
def test_iso_dates_and_weekdays(ahead):
    day = FRIDAY + timedelta(days=ahead)
    assert parse_day(day.isoformat(), FRIDAY) == day
    name = WEEKDAYS[day.weekday()]
    got = parse_day(name.capitalize(), FRIDAY)
    assert got.weekday() == day.weekday() and 0 <= (got - FRIDAY).days < 7


@pytest.mark.parametrize(("said", "what"), [
    ("dinner time", "HH:MM"), ("25:00", "HH:MM"), ("13pm", "HH:MM"), ("soon", "HH:MM"),
])
def test_unreadable_times_say_what_to_pass(said, what):
    with pytest.raises(Refusal, match=what):
        parse_clock(said)


@pytest.mark.parametrize("said", ["a few", "several", "4 adults and 2 kids", "lots", "-"])
def test_unreadable_counts_say_what_to_pass(said):
    with pytest.raises(Refusal, match="whole number"):
        parse_count(said, "party_size", "4")


def test_spoken_phone_digits():
    assert spoken_digits("six one seven, five five five, oh one double nine") == (
        "6 1 7 5 5 5 0 1 99")
