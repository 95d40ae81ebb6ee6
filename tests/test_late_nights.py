"""A restaurant open until 2 AM (domain/booking.py, seating.py, spoken.py), without a database:
hours that cross midnight, the night's seatings on the next calendar day, "tonight" and
"tomorrow" around midnight, a pickup ready after midnight, a late meal's table held past it.
The same night through the real agents and the emulator: tests/conversation/test_late_night.py.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from domain import booking
from domain.refusal import Refusal
from domain.seating import Hold, SeatingPlan, Table, day_parts, with_next_day
from domain.spoken import spoken_in
from models import RestaurantSettings

TZ = ZoneInfo("America/New_York")
LATE = {"open": "17:00", "close": "02:00"}
NIGHT_OWL = RestaurantSettings.model_validate({
    "name": "Night Owl", "timezone": "America/New_York", "slot_minutes": 30,
    "seating": {"tables": [{"id": "T1", "seats": 2}]}, "max_party_size": 2,
    # Friday and Saturday until 2 AM; Sunday closed, so Sunday's small hours are Saturday's.
    "hours": {"mon": [{"open": "17:00", "close": "23:00"}], "fri": [LATE], "sat": [LATE]},
})
FRIDAY, SATURDAY, SUNDAY = date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)
MONDAY, TUESDAY = date(2026, 11, 23), date(2026, 11, 24)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TZ)


def test_hours_past_midnight_are_valid_and_mistakes_are_named():
    assert NIGHT_OWL.hours["fri"][0].past_midnight
    assert NIGHT_OWL.hours["fri"][0].span == (17 * 60, 26 * 60)
    for hours, says in [
        ({"mon": [{"open": "21:00", "close": "07:00"}]}, "must close by 06:00"),
        ({"mon": [{"open": "18:00", "close": "18:00"}]}, "is the same as open"),
        ({"mon": [LATE], "tue": [{"open": "01:00", "close": "10:00"}]},
         "mon: the night runs past tue's opening"),
        ({"sun": [LATE], "mon": [{"open": "00:30", "close": "10:00"}]},
         "sun: the night runs past mon's opening"),
        ({"mon": [{"open": "08:00", "close": "12:00"}, {"open": "11:00", "close": "15:00"}]},
         "two opening ranges overlap"),
    ]:
        with pytest.raises(ValidationError) as err:
            RestaurantSettings.model_validate({"name": "x", "hours": hours})
        assert says in str(err.value)
    with pytest.raises(ValidationError, match="outbound_hours cannot run past midnight"):
        RestaurantSettings.model_validate({"name": "x", "outbound_hours": LATE})
    # back to back across midnight is fine: Friday until 2, Saturday brunch from 2
    RestaurantSettings.model_validate(
        {"name": "x", "hours": {"fri": [LATE], "sat": [{"open": "02:00", "close": "04:00"}]}})


def test_open_until_two_in_the_morning_of_the_next_day():
    assert booking.is_open(NIGHT_OWL, at(FRIDAY, 23, 59))
    assert booking.is_open(NIGHT_OWL, at(SATURDAY, 0, 0))
    assert booking.is_open(NIGHT_OWL, at(SATURDAY, 1, 59))
    assert not booking.is_open(NIGHT_OWL, at(SATURDAY, 2, 0))
    assert booking.is_open(NIGHT_OWL, at(SUNDAY, 1, 0))  # Saturday's night, Sunday closed
    assert not booking.is_open(NIGHT_OWL, at(MONDAY, 1, 0))  # Sunday had no night
    assert not booking.is_open(NIGHT_OWL, at(TUESDAY, 0, 30))  # Monday closed at 11
    assert "Friday 5 PM to 2 AM" in booking.hours_text(NIGHT_OWL)
    # the reservation agent is told about late nights only where there are some
    assert booking.open_past_midnight(NIGHT_OWL)
    assert not booking.open_past_midnight(ALL_DAY)


def test_the_nights_seatings_after_midnight_are_the_next_days():
    friday = booking.seating_times(NIGHT_OWL, FRIDAY)
    assert (friday[0], friday[-1]) == (time(17, 0), time(23, 30))  # Thursday had no night
    saturday = booking.seating_times(NIGHT_OWL, SATURDAY)
    assert saturday[:4] == [time(0, 0), time(0, 30), time(1, 0), time(1, 30)]  # last 1:30
    assert saturday[4] == time(17, 0)
    assert booking.seating_times(NIGHT_OWL, SUNDAY) == [
        time(0, 0), time(0, 30), time(1, 0), time(1, 30)]
    # Sunday itself is closed: an evening there is refused as a closed day, its small hours
    # (Saturday's night) are bookable
    with pytest.raises(Refusal, match="closed on Sundays"):
        booking.check_booking(NIGHT_OWL, at(FRIDAY, 12), SUNDAY, time(19, 0), 2)
    booking.check_booking(NIGHT_OWL, at(FRIDAY, 12), SUNDAY, time(1, 0), 2)
    with pytest.raises(Refusal, match="not available"):
        booking.check_booking(NIGHT_OWL, at(FRIDAY, 12), SATURDAY, time(2, 0), 2)


def test_a_pickup_ready_after_midnight_is_taken_until_the_night_closes():
    booking.check_pickup(NIGHT_OWL, at(FRIDAY, 23, 50), at(SATURDAY, 0, 5))
    booking.check_pickup(NIGHT_OWL, at(SATURDAY, 1, 40), at(SATURDAY, 1, 55))
    with pytest.raises(Refusal) as err:
        booking.check_pickup(NIGHT_OWL, at(SATURDAY, 1, 50), at(SATURDAY, 2, 5))
    assert "ready at 2:05 AM, after we close at 2 AM" in str(err.value)
    assert "cannot take it tonight" in str(err.value)
    with pytest.raises(Refusal, match="kitchen is closed now"):
        booking.check_pickup(NIGHT_OWL, at(SATURDAY, 2, 0), at(SATURDAY, 2, 15))
    with pytest.raises(Refusal, match="cannot take it today"):  # Monday closes at 11 PM
        booking.check_pickup(NIGHT_OWL, at(MONDAY, 22, 50), at(MONDAY, 23, 5))


@pytest.mark.parametrize(("now", "said_day", "said_time", "heard", "meant"), [
    # Friday evening: "tonight" runs into Saturday's small hours
    (at(FRIDAY, 22), "tonight", "12:30", "", (SATURDAY, time(0, 30))),
    (at(FRIDAY, 22), "tonight", "1", "", (SATURDAY, time(1, 0))),
    (at(FRIDAY, 22), "tonight", "half past twelve", "", (SATURDAY, time(0, 30))),
    (at(FRIDAY, 22), "tonight", "1 AM", "", (SATURDAY, time(1, 0))),
    (at(FRIDAY, 22), "tonight", "00:30", "", (SATURDAY, time(0, 30))),
    (at(FRIDAY, 22), "tonight", "11:30", "", (FRIDAY, time(23, 30))),
    (at(FRIDAY, 17), "tonight", "06:30", "", (FRIDAY, time(18, 30))),  # the model's 24-hour 6:30
    (at(FRIDAY, 22), "today", "1", "a table tonight at 1", (SATURDAY, time(1, 0))),
    (at(FRIDAY, 22), "today", "12:30 AM", "", (SATURDAY, time(0, 30))),
    (at(FRIDAY, 10), "tonight", "1", "", (SATURDAY, time(1, 0))),
    (at(FRIDAY, 10), "Saturday night", "1", "", (SUNDAY, time(1, 0))),
    (at(FRIDAY, 10), "tomorrow night", "12:30", "", (SUNDAY, time(0, 30))),
    (at(FRIDAY, 10), "Saturday", "7 PM", "", (SATURDAY, time(19, 0))),
    # after midnight, "tonight" is the night still running, or this coming evening
    (at(SATURDAY, 0, 20), "tonight", "1", "", (SATURDAY, time(1, 0))),
    (at(SATURDAY, 0, 20), "tonight", "9", "", (SATURDAY, time(21, 0))),
    (at(SATURDAY, 0, 20), "today", "1:30 AM", "", (SATURDAY, time(1, 30))),
])
def test_tonight_means_what_the_caller_means(now, said_day, said_time, heard, meant):
    assert booking.read_when(NIGHT_OWL, now, said_day, said_time, heard=heard) == meant


def test_tomorrow_said_after_midnight_is_asked_not_guessed():
    with pytest.raises(Refusal) as err:
        booking.read_when(NIGHT_OWL, at(SATURDAY, 0, 40), "tomorrow", "8 PM")
    said = str(err.value)
    assert "12:40 AM on Saturday" in said
    assert "Saturday (later today) or Sunday" in said
    # Saturday's night runs into Sunday: the day after is Monday
    with pytest.raises(Refusal, match=r"Sunday \(later today\) or Monday"):
        booking.read_when(NIGHT_OWL, at(SUNDAY, 1, 0), "tomorrow", "8 PM")
    # by daylight "tomorrow" is the next day again: from 6 AM, the latest a night can close
    assert booking.read_when(NIGHT_OWL, at(SATURDAY, 9), "tomorrow", "8 PM") == (
        SUNDAY, time(20, 0))
    assert booking.read_when(NIGHT_OWL, at(SATURDAY, 6), "tomorrow", "8 PM") == (
        SUNDAY, time(20, 0))


def test_a_time_after_midnight_is_said_as_the_night_it_belongs_to():
    en, es = spoken_in("en"), spoken_in("es")
    assert en.when(SATURDAY, time(0, 30), FRIDAY, time(22, 0)) == "tonight at 12:30 AM"
    assert en.when(SATURDAY, time(1, 0), SATURDAY, time(0, 20)) == "tonight at 1 AM"
    assert en.when(SUNDAY, time(1, 0), FRIDAY, time(22, 0)) == "tomorrow night at 1 AM"
    assert en.when(TUESDAY, time(0, 30), FRIDAY, time(9, 0)) == (
        "Monday, November 23 night at 12:30 AM")
    assert en.when(SATURDAY, time(19, 0), FRIDAY, time(22, 0)) == "tomorrow at 7 PM"
    assert es.when(SATURDAY, time(0, 30), FRIDAY, time(22, 0)) == (
        "esta noche a las 12 y media de la noche")
    assert es.when(SATURDAY, time(1, 30), FRIDAY, time(22, 0)) == (
        "esta noche a la 1 y media de la madrugada")


TWO_TOP = SeatingPlan(tables=[Table(id="T1", seats=2)])


def test_a_late_meal_holds_its_table_into_the_next_day():
    late = Hold("LATE", 23 * 60 + 30, 75, 2, ("T1",))
    own, carried = day_parts(late)
    assert own == late
    assert carried == Hold("LATE", -30, 75, 2, ("T1",)) and carried.carried_over
    assert carried.end == 45  # the table is taken until 12:45 AM
    assert day_parts(Hold("EARLY", 20 * 60, 75, 2, ("T1",))) == (
        Hold("EARLY", 20 * 60, 75, 2, ("T1",)), None)
    # a meal done exactly at midnight leaves the next day nothing: no empty carried-over
    # booking on its list (the seating's mutation run found no test said so)
    midnight = Hold("MIDNIGHT", 22 * 60 + 45, 75, 2, ("T1",))
    assert midnight.end == 24 * 60 and day_parts(midnight) == (midnight, None)
    # the next day's seating sees it: 12:30 AM is taken, 1 AM is free
    assert TWO_TOP.fit([carried], 30, 2) is None
    assert TWO_TOP.fit([carried], 60, 2) is not None
    # and a late booking sees the next day's early ones (not the one carried from itself)
    next_day = [Hold("AFTER", 30, 75, 2, ("T1",)), carried]
    around = with_next_day([late.__class__("OTHER", 17 * 60, 75, 2, ("T1",))], next_day)
    assert [h.code for h in around] == ["OTHER", "AFTER"]
    assert TWO_TOP.fit(around, 23 * 60 + 30, 2) is None  # 11:30 PM would run into 12:30 AM
    assert TWO_TOP.fit(around, 22 * 60, 2) is not None  # 10 PM is done by 11:15 PM


def test_an_evening_hour_said_tonight_is_that_evening_not_the_small_hours():
    """Only 12 to 4 said "tonight" are the small hours: "tonight at 5" is 5 PM, on the day."""
    assert booking.read_when(NIGHT_OWL, at(FRIDAY, 10), "tonight", "5") == (FRIDAY, time(17, 0))


ALL_DAY = RestaurantSettings.model_validate({
    "name": "All Day", "timezone": "America/New_York", "slot_minutes": 30,
    "seating": {"tables": [{"id": "T1", "seats": 2}]}, "max_party_size": 2,
    "hours": {"mon": [{"open": "07:00", "close": "23:00"}]},
})


def test_the_callers_own_words_settle_a_bare_hour():
    """A restaurant seating at 8 AM and 8 PM: the caller's "8 in the evening" (their words, as
    the tool is asked) makes the model's bare "8" 8 PM; without those words it is asked."""
    assert booking.read_when(ALL_DAY, at(FRIDAY, 10), "Monday", "8",
                             heard="Monday at 8 in the evening") == (MONDAY, time(20, 0))


def test_a_booking_moved_to_a_bare_hour_keeps_its_half_of_the_day():
    """"Make it 8" of a 7 PM booking is 8 PM, of a 9 AM one 8 AM: not asked, where the
    restaurant seats at both."""
    assert booking.read_when(ALL_DAY, at(FRIDAY, 10), "Monday", "8", heard="make it 8",
                             was=(MONDAY, time(19, 0))) == (MONDAY, time(20, 0))
    assert booking.read_when(ALL_DAY, at(FRIDAY, 10), "Monday", "8", heard="make it 8",
                             was=(MONDAY, time(9, 0))) == (MONDAY, time(8, 0))


@pytest.mark.parametrize(("said_day", "said_time", "meant"), [
    ("Saturday", "1 at night", (SUNDAY, time(1, 0))),  # the night is in the time's words
    ("Saturday", "12:30 late", (SUNDAY, time(0, 30))),
    ("Saturday", "01:30 at night", (SUNDAY, time(1, 30))),  # the model's 24-hour 01:30
    ("Saturday", "01:30 late", (SUNDAY, time(1, 30))),
])
def test_a_night_said_with_the_time_is_the_small_hours(said_day, said_time, meant):
    assert booking.read_when(NIGHT_OWL, at(FRIDAY, 10), said_day, said_time) == meant


def test_a_bare_hour_today_is_never_one_already_gone():
    """Breakfast at 9 is offered at 6 AM; by 10 AM it is gone (and 9 PM is not seated)."""
    from tests.test_booking_rules import SETTINGS  # seats 8 AM to 8 PM on Fridays

    assert booking.read_when(SETTINGS, at(FRIDAY, 6), "today", "9") == (FRIDAY, time(9, 0))
    with pytest.raises(Refusal):
        booking.read_when(SETTINGS, at(FRIDAY, 10), "today", "9")
    with pytest.raises(Refusal):  # a seating starting this minute is gone too
        booking.read_when(SETTINGS, at(FRIDAY, 9), "today", "9")


def test_a_large_party_hears_the_restaurants_note_in_the_callers_language():
    note = "Para grupos grandes, llame al restaurante."
    with pytest.raises(booking.LargeParty, match="Para grupos grandes, llame al restaurante"):
        booking.check_booking(NIGHT_OWL, at(FRIDAY, 10), SATURDAY, time(19, 0), 6,
                              large_party_note=note)


def test_a_booking_moved_keeps_what_the_caller_did_not_change():
    """Only the time said: the booking's day stays; nothing said: the booking stays as it is;
    only "tonight": its time, tonight (1 AM the night after midnight)."""
    assert booking.read_when(ALL_DAY, at(FRIDAY, 10), None, "8", heard="make it 8",
                             was=(MONDAY, time(19, 0))) == (MONDAY, time(20, 0))
    assert booking.read_when(ALL_DAY, at(FRIDAY, 10), None, None,
                             was=(MONDAY, time(19, 0))) == (MONDAY, time(19, 0))
    assert booking.read_when(NIGHT_OWL, at(FRIDAY, 10), "tonight", None,
                             was=(SATURDAY, time(20, 0))) == (FRIDAY, time(20, 0))
    assert booking.read_when(NIGHT_OWL, at(FRIDAY, 10), "tonight", None,
                             was=(SUNDAY, time(1, 0))) == (SATURDAY, time(1, 0))


def test_a_lunch_moved_to_a_bare_hour_stays_in_the_afternoon():
    """12:30 is PM: "make it 1" of a 12:30 lunch is 1 PM, never 1 AM."""
    assert booking.read_when(ALL_DAY, at(FRIDAY, 10), "Monday", "1", heard="make it 1",
                             was=(MONDAY, time(12, 30))) == (MONDAY, time(13, 0))


def test_the_half_of_the_day_said_with_the_day_settles_a_bare_hour():
    """ALL_DAY seats at 8 AM and 8 PM: "Monday evening" and "8" is 8 PM, not asked."""
    assert booking.read_when(ALL_DAY, at(FRIDAY, 10), "Monday evening", "8") == (
        MONDAY, time(20, 0))


def test_a_morning_or_noon_said_today_is_kept_though_the_caller_said_tonight_too():
    """"Not tonight, today at noon" is noon, "today at 11:15 AM" 11:15 AM: the word tonight in
    the call makes neither an evening time."""
    from tests.test_booking_rules import SETTINGS  # open 8 AM to 8 PM on Fridays

    assert booking.read_when(SETTINGS, at(FRIDAY, 8), "today", "noon",
                             heard="not tonight, today at noon") == (FRIDAY, time(12, 0))
    assert booking.read_when(SETTINGS, at(FRIDAY, 8), "today", "11:15 AM",
                             heard="can't do tonight; today at 11:15 AM") == (
        FRIDAY, time(11, 15))
