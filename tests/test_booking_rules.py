"""Opening hours and table-slot rules at their edges (domain/booking.py), without a database.

A restaurant of our own making: Monday breakfast and dinner (two ranges), a 45-minute slot
grid that does not start on the hour, Tuesday, Thursday and Saturday closed, tables for up to 6.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain import booking
from domain.refusal import Refusal
from domain.seating import Hold
from models import RestaurantSettings

TZ = ZoneInfo("America/New_York")
SETTINGS = RestaurantSettings.model_validate({
    "name": "Edge Diner", "timezone": "America/New_York", "slot_minutes": 45,
    # Ten seats, no table plan; a quick diner: every party sits one 45-minute slot.
    "seating": {"seats": 10, "durations": [{"up_to": 99, "minutes": 45}]},
    "max_party_size": 6, "prep_minutes": 15,
    "large_party_note": "Call the manager.",
    "hours": {"mon": [{"open": "07:10", "close": "10:00"}, {"open": "17:00", "close": "21:00"}],
              "wed": [{"open": "08:00", "close": "20:00"}],
              "fri": [{"open": "08:00", "close": "20:00"}],
              "sun": [{"open": "09:00", "close": "12:00"}]},
})
MONDAY = date(2026, 11, 23)
TUESDAY, WEDNESDAY, SUNDAY = date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 29)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)  # Monday breakfast


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TZ)


def seated(code: str, hh: int, mm: int, party: int) -> Hold:
    """A booking already holding seats from hh:mm for its party's dining time."""
    return Hold(code, hh * 60 + mm, SETTINGS.seating.minutes_for(party), party)


def test_times_and_days_are_said_the_way_people_say_them():
    assert [booking.say_time(time(h, m)) for h, m in
            ((0, 0), (0, 30), (9, 0), (11, 59), (12, 0), (12, 5), (13, 0), (23, 45))] == [
        "12 AM", "12:30 AM", "9 AM", "11:59 AM", "12 PM", "12:05 PM", "1 PM", "11:45 PM"]
    assert booking.say_day(MONDAY, MONDAY) == "today"
    assert booking.say_day(TUESDAY, MONDAY) == "tomorrow"
    assert booking.say_day(WEDNESDAY, MONDAY) == "Wednesday, November 25"
    assert booking.say_day(date(2026, 12, 6), MONDAY) == "Sunday, December 6"


def test_open_from_the_opening_minute_until_just_before_closing():
    assert not booking.is_open(SETTINGS, at(MONDAY, 7, 9))
    assert booking.is_open(SETTINGS, at(MONDAY, 7, 10))
    assert booking.is_open(SETTINGS, at(MONDAY, 9, 59))
    assert not booking.is_open(SETTINGS, at(MONDAY, 10, 0))
    assert booking.is_open(SETTINGS, at(MONDAY, 17, 0))  # the second range
    assert not booking.is_open(SETTINGS, at(TUESDAY, 12, 0))
    # The clock of the restaurant, not of the server: 13:30 UTC is 08:30 in Boston.
    assert booking.is_open(SETTINGS, datetime(2026, 11, 23, 13, 30, tzinfo=ZoneInfo("UTC")))


def test_slots_lie_on_the_grid_and_end_by_closing():
    assert booking.seating_times(SETTINGS, MONDAY) == [
        time(7, 30), time(8, 15), time(9, 0),  # 07:10 rounds up to the grid; 9:45 would end late
        time(17, 15), time(18, 0), time(18, 45), time(19, 30), time(20, 15)]  # 20:15+45 = 21:00
    assert booking.seating_times(SETTINGS, TUESDAY) == []
    assert booking.seating_times(SETTINGS, SUNDAY) == [time(9, 0), time(9, 45), time(10, 30),
                                                       time(11, 15)]


def test_hours_are_listed_for_every_day():
    text = booking.hours_text(SETTINGS)
    assert text.startswith("Monday 7:10 AM to 10 AM and 5 PM to 9 PM; Tuesday closed; ")
    assert text.endswith("Saturday closed; Sunday 9 AM to 12 PM")
    assert text.count(";") == 6


@pytest.mark.parametrize("party", [1, 6])
def test_parties_from_one_to_the_maximum_are_taken(party):
    booking.check_party(SETTINGS, party)


def test_no_party_and_a_large_party_are_refused_differently():
    with pytest.raises(Refusal, match="how many people") as none:
        booking.check_party(SETTINGS, 0)
    assert not isinstance(none.value, booking.LargeParty)
    with pytest.raises(booking.LargeParty) as large:
        booking.check_party(SETTINGS, 7)
    assert "up to 6 people" in str(large.value) and "Call the manager." in str(large.value)


def test_a_booking_on_the_grid_in_the_future_is_accepted():
    booking.check_booking(SETTINGS, NOW, MONDAY, time(9, 0), 2)  # later today
    booking.check_booking(SETTINGS, NOW, MONDAY + timedelta(days=60), time(8, 15), 6)  # a Friday


def test_the_present_minute_and_the_past_are_refused():
    with pytest.raises(Refusal, match="in the past"):
        booking.check_booking(SETTINGS, at(MONDAY, 8, 15), MONDAY, time(8, 15), 2)
    with pytest.raises(Refusal, match="in the past"):
        booking.check_booking(SETTINGS, NOW, MONDAY - timedelta(days=7), time(9, 0), 2)
    booking.check_booking(SETTINGS, at(MONDAY, 8, 14), MONDAY, time(8, 15), 2)


def test_more_than_sixty_days_ahead_is_refused():
    with pytest.raises(Refusal, match="up to 60 days ahead"):
        booking.check_booking(SETTINGS, NOW, MONDAY + timedelta(days=61), time(8, 15), 2)


def test_a_closed_day_is_refused_with_the_hours():
    with pytest.raises(Refusal) as closed:
        booking.check_booking(SETTINGS, NOW, TUESDAY, time(9, 0), 2)
    assert "closed on Tuesdays" in str(closed.value)
    assert "Monday 7:10 AM to 10 AM" in str(closed.value)


def test_a_time_off_the_grid_is_refused_with_the_three_nearest():
    with pytest.raises(Refusal) as off:
        booking.check_booking(SETTINGS, NOW, WEDNESDAY, time(12, 10), 2)
    text = str(off.value)
    assert "every 45 minutes" in text and "12:10 PM is not available" in text
    assert "Nearest times: 11:15 AM, 12 PM, 12:45 PM." in text


def test_a_party_too_large_is_refused_before_the_clock_is_looked_at():
    with pytest.raises(booking.LargeParty):
        booking.check_booking(SETTINGS, NOW, TUESDAY, time(3, 0), 9)


def test_nearest_free_times_respect_capacity_and_the_clock():
    used = [seated("A", 9, 0, 8), seated("B", 8, 15, 9)]
    free = booking.nearest_free_times(SETTINGS, at(MONDAY, 7, 45), MONDAY, time(8, 15), 2, used)
    # 08:15 has 1 seat left, 09:00 exactly 2 (fits), 07:30 is past; then the evening.
    assert free == [time(9, 0), time(17, 15), time(18, 0)]
    tomorrow = booking.nearest_free_times(SETTINGS, at(MONDAY, 23, 0), SUNDAY, time(11, 0), 1,
                                          [], limit=2)
    assert tomorrow == [time(10, 30), time(11, 15)]
    assert booking.nearest_free_times(SETTINGS, NOW, TUESDAY, time(9, 0), 1, []) == []


def test_pickup_orders_are_taken_while_the_kitchen_can_finish_them():
    booking.check_pickup(SETTINGS, at(MONDAY, 9, 0), at(MONDAY, 10, 0))  # ready at closing
    with pytest.raises(Refusal, match="after we close at 10 AM"):
        booking.check_pickup(SETTINGS, at(MONDAY, 9, 50), at(MONDAY, 10, 5))
    with pytest.raises(Refusal, match="kitchen is closed now"):
        booking.check_pickup(SETTINGS, at(MONDAY, 10, 0), at(MONDAY, 10, 15))
    with pytest.raises(Refusal, match="kitchen is closed now"):
        booking.check_pickup(SETTINGS, at(MONDAY, 7, 9), at(MONDAY, 7, 30))
    booking.check_pickup(SETTINGS, at(MONDAY, 7, 10), at(MONDAY, 7, 30))
    with pytest.raises(Refusal, match="after we close"):  # ready tomorrow is not today
        booking.check_pickup(SETTINGS, at(MONDAY, 20, 50), at(TUESDAY, 0, 5))


def test_the_last_slot_ends_by_closing_even_a_minute_before_the_grid():
    late = SETTINGS.model_copy(update={"hours": {"sun": [{"open": "09:00", "close": "11:59"}]}})
    late = RestaurantSettings.model_validate(late.model_dump())
    # 11:15 would end at 12:00, a minute after closing.
    assert booking.seating_times(late, SUNDAY) == [time(9, 0), time(9, 45), time(10, 30)]


def test_a_slot_starting_this_minute_is_no_longer_offered():
    free = booking.nearest_free_times(SETTINGS, at(MONDAY, 9, 0), MONDAY, time(9, 0), 1, [])
    assert time(9, 0) not in free and free[0] == time(17, 15)


def test_an_empty_slot_takes_a_party_as_large_as_the_room():
    free = booking.nearest_free_times(SETTINGS, NOW, SUNDAY, time(9, 0), 10,
                                      [seated("A", 9, 45, 1)])
    assert free == [time(9, 0), time(10, 30), time(11, 15)]  # 09:45 has 9 seats left


def test_what_the_model_passes_is_read_in_the_restaurants_clock_and_grid():
    late_monday = datetime(2026, 11, 24, 3, 0, tzinfo=ZoneInfo("UTC"))  # Monday 22:00 in Boston
    assert booking.read_day(SETTINGS, late_monday, "tomorrow") == TUESDAY
    assert booking.read_time(SETTINGS, MONDAY, "nine") == time(9, 0)  # 9 PM is after closing
    assert booking.read_time(SETTINGS, MONDAY, "6pm") == time(18, 0)
    assert booking.read_party("four people") == 4
    with pytest.raises(Refusal) as e:
        booking.read_party("banana")
    assert str(e.value).startswith(  # the model is told which field and shown an example
        "'banana' is not a number I can read for party_size. Pass it as a whole number, e.g. 4;")


def test_equally_close_times_are_offered_earlier_first():
    """Noon on Wednesday is full: 11:15 and 12:45 are as close as each other, and so are
    10:30 and 1:30 PM; of each pair the earlier is offered."""
    full = [seated("FULL", 12, 0, 10)]
    assert booking.nearest_free_times(SETTINGS, NOW, WEDNESDAY, time(12, 0), 2, full) == [
        time(10, 30), time(11, 15), time(12, 45)]


def test_a_bare_hour_the_model_put_in_the_wrong_half_is_the_half_we_seat():
    """The caller said "6:45" and "10:30" without AM or PM; the model wrote 06:45 and 22:30.
    Monday seats 6:45 only in the evening and Sunday 10:30 only in the morning."""
    assert booking.read_time(SETTINGS, MONDAY, "06:45", heard="Monday at 6:45") == time(18, 45)
    assert booking.read_time(SETTINGS, SUNDAY, "22:30", heard="Sunday at 10:30") == time(10, 30)
    with pytest.raises(Refusal, match=r"said 8:15 without AM or PM, and we seat at both"):
        booking.read_time(SETTINGS, MONDAY, "20:15", heard="Monday at 8:15")


def test_a_bare_hour_is_read_against_the_day_said_not_today():
    """Monday's breakfast is over by 10 AM, but "Sunday at 9" is Sunday's 9 AM breakfast."""
    assert booking.read_when(SETTINGS, at(MONDAY, 10), "Sunday", "9") == (SUNDAY, time(9, 0))
