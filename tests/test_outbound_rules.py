"""Who the restaurant may call and when (domain/outbound_rules.py), in the words staff read on a
card (the call-back note) and the times a reminder is put off to. tests/test_outbound_deny.py
holds the deny list against many numbers; here each reason and each edge of the calling hours
is pinned, so a slip in them cannot pass unnoticed."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.outbound_rules import (
    CallingHours,
    callback_note,
    check_dialable,
    guest_zones,
    nanp_area_codes,
    next_calling_time,
    within_hours,
)
from domain.refusal import Refusal

NY, CHICAGO, TOKYO = ZoneInfo("America/New_York"), ZoneInfo("America/Chicago"), \
    ZoneInfo("Asia/Tokyo")
NEVER = "; the restaurant never dials those"


@pytest.mark.parametrize(("number", "why"), [
    ("+881612345678", "a satellite or international-network number" + NEVER),
    ("+18765551234", "a +1 number outside the US and Canada (billed as international)" + NEVER),
    ("+16002345678", "a +1 number outside the US's and Canada's geographic area codes" + NEVER),
    ("+18005550100", "a toll-free number (not a guest's phone)" + NEVER),
    ("+19005550100", "a premium-rate number" + NEVER),
    ("+15005550100", "a personal (follow-me) number" + NEVER),
    ("+17005550100", "not a valid phone number"),
    ("617-555-0101", None),
])
def test_staff_read_why_the_line_will_not_call_a_number_back(number, why):
    note = callback_note(number, home_region="US", allow_international=True)
    if why is None:  # not E.164
        assert note == ("the line will not call or text this number back: '617-555-0101' is "
                        "not a phone number in E.164 form")
    else:
        assert note == f"the line will not call or text this number back: {number} is {why}"


def test_a_number_the_line_may_dial_has_no_note_and_the_home_region_decides():
    assert callback_note("+16175550101", home_region="US", allow_international=False) == ""
    assert callback_note("+14165550101", home_region="CA", allow_international=False) == ""
    assert callback_note("+14165550101", home_region="US", allow_international=False) == (
        "the line will not call or text this number back: +14165550101 is an international "
        "number (CA); international calls are off for this restaurant (outbound_international "
        "in settings/restaurant)")
    assert callback_note("+14165550101", home_region="US", allow_international=True) == ""


def test_a_country_with_nothing_to_refuse_is_dialled_when_calls_abroad_are_on():
    assert check_dialable("+93234567890", home_region="US", allow_international=True) == \
        "+93234567890"  # Afghanistan: no premium or shared-cost ranges in the metadata
    with pytest.raises(Refusal, match=r"international number \(AF\)"):
        check_dialable("+93234567890", home_region="US", allow_international=False)


def test_the_area_codes_freeswitch_lets_through_are_the_us_and_canadas_own():
    codes = nanp_area_codes()
    assert codes == sorted(set(codes)) and all(len(c) == 3 and c.isdigit() for c in codes)
    assert {"201", "212", "617", "989", "416", "604", "204"} <= set(codes)
    assert not {"876", "809", "284", "800", "888", "500", "900", "700", "600", "911"} & set(codes)
    assert 380 <= len(codes) <= 450  # the plan's geographic codes (415 with phonenumbers 8.13)


@pytest.mark.parametrize(("number", "zones"), [
    ("+16175550101", ["America/New_York"]),
    ("+17095550100", ["America/Halifax", "America/St_Johns"]),  # both must be awake
    ("+15551234567", ["America/Chicago"]),  # no zone known: the restaurant's
    ("+18005550100", ["America/Chicago"]),  # spans the continent: the restaurant's
    ("+79123456789", ["America/Chicago"]),  # 16 zones
    ("not a number", ["America/Chicago"]),
])
def test_the_guests_time_zones_come_from_their_number(number, zones):
    assert [z.key for z in guest_zones(number, CHICAGO)] == zones


def test_a_number_in_four_zones_keeps_them_and_one_in_more_does_not():
    uk_mobile = guest_zones("+447400123456", CHICAGO)  # London and the Crown dependencies
    assert [z.key for z in uk_mobile] == ["Europe/Guernsey", "Europe/Isle_of_Man",
                                          "Europe/Jersey", "Europe/London"]
    assert [z.key for z in guest_zones("+61412345678", CHICAGO)] == ["America/Chicago"]  # 8


def test_the_calling_window_opens_at_its_start_and_is_shut_at_its_end():
    hours = CallingHours(start=time(9, 0), end=time(20, 0))
    at = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # 9:00 in New York
    assert within_hours(at, [NY], hours)
    assert within_hours(at.replace(hour=13, minute=59, second=59), [NY], hours) is False
    assert within_hours(datetime(2026, 12, 8, 0, 59, 59, tzinfo=UTC), [NY], hours)  # 19:59:59
    assert within_hours(datetime(2026, 12, 8, 1, 0, tzinfo=UTC), [NY], hours) is False  # 20:00


def test_a_reminder_put_off_starts_on_the_quarter_hour_the_window_opens():
    hours = CallingHours(start=time(9, 0), end=time(20, 0))
    late = datetime(2026, 12, 8, 2, 7, 33, 12345, tzinfo=UTC)  # 21:07:33 in New York
    assert next_calling_time(late, [NY], hours) == datetime(2026, 12, 8, 14, 0, tzinfo=UTC)
    early = datetime(2026, 12, 7, 13, 52, 10, tzinfo=UTC)  # 8:52:10
    assert next_calling_time(early, [NY], hours) == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    just_before = datetime(2026, 12, 7, 13, 59, 30, tzinfo=UTC)  # 8:59:30: not 9:15
    assert next_calling_time(just_before, [NY], hours) == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    inside = datetime(2026, 12, 7, 15, 7, 33, tzinfo=UTC)
    assert next_calling_time(inside, [NY], hours) == inside  # now, to the second
    half = CallingHours(start=time(9, 30), end=time(20, 0))
    assert next_calling_time(early, [NY], half) == datetime(2026, 12, 7, 14, 30, tzinfo=UTC)


def test_a_window_shut_everywhere_the_guest_may_be_is_a_bad_setting_named():
    hours = CallingHours(start=time(9, 0), end=time(10, 0))
    with pytest.raises(ValueError, match=r"never open in \['America/New_York', 'Asia/Tokyo'\]"):
        next_calling_time(datetime(2026, 12, 7, 12, 0, tzinfo=UTC), [NY, TOKYO], hours)
