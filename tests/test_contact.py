"""Caller numbers and names (domain/contact.py): what is accepted exactly, and what is refused."""

from __future__ import annotations

import pytest

from domain.contact import (
    MAX_NAME,
    any_e164,
    clean_name,
    number_or_caller_id,
    require_e164,
    spoken,
    to_e164,
)
from domain.refusal import Refusal
from tests.privacy import CARD


@pytest.mark.parametrize("raw", [
    "+16175550142", "6175550142", "(617) 555-0142", "617.555.0142", "1 617 555 0142",
    "sip:+16175550142@10.0.0.1", "tel:+16175550142", " 617 555 0142 ",
    "sip:+16175550142@10.0.0.1:5060", "sip:6175550142@pbx@10.0.0.1",  # port; odd host part
])
def test_numbers_are_kept_in_e164(raw):
    assert to_e164(raw) == "+16175550142"
    assert require_e164(raw) == "+16175550142"


@pytest.mark.parametrize("raw", [None, "", "anonymous", "sip:anonymous@x", "555", "+1 555 0100",
                                 "617 555 014", "tel:", "hello"])
def test_what_is_not_a_number_is_none(raw):
    assert to_e164(raw) is None


def test_a_foreign_number_is_kept_but_refused_for_a_callback():
    assert to_e164("+44 20 7946 0958") == "+442079460958"
    assert to_e164("020 7946 0958", region="GB") == "+442079460958"
    with pytest.raises(Refusal, match=r"\+442079460958 is not a US number"):
        require_e164("+44 20 7946 0958")
    assert require_e164("020 7946 0958", region="GB") == "+442079460958"


def test_a_number_given_in_keypad_letters_is_read_as_the_keypad_reads_it():
    """A business guest's vanity number: its letters are keypad digits, not spoken words
    (NINE is 6463 on the keypad, not 9)."""
    assert require_e164("1-800-NINE-OAK") == "+18006463625"
    assert require_e164("617-EIGHT-12") == "+16173444812"


def test_an_invalid_number_is_refused_asking_again():
    with pytest.raises(Refusal, match=r"'555 12' is not a valid phone number\. Ask the caller"):
        require_e164("555 12")


def test_the_number_said_wins_over_the_caller_id():
    assert number_or_caller_id("617 555 0123", "+16175550199", "ask") == "+16175550123"
    assert number_or_caller_id(None, "+16175550199", "ask") == "+16175550199"
    assert number_or_caller_id("", "+16175550199", "ask") == "+16175550199"
    with pytest.raises(Refusal, match="There is no caller ID: ask for a number"):
        number_or_caller_id(None, None, "ask for a number")
    with pytest.raises(Refusal, match="not a valid phone number"):
        number_or_caller_id("12", "+16175550199", "ask")


def test_a_number_is_read_back_in_groups():
    assert spoken("+16175550142") == "617 555 0142"


@pytest.mark.parametrize(("raw", "name"), [
    ("Zoë O'Brien-Smith", "Zoë O'Brien-Smith"), ("  Sam   Rivera ", "Sam Rivera"),
    ("李小龙", "李小龙"), ("A" * MAX_NAME, "A" * MAX_NAME), ("J. R. 2nd", "J. R. 2nd"),
    ("Ann\tLee", "Ann Lee"), ("Xavier Quinn", "Xavier Quinn"),
])
def test_names_are_kept_as_said_with_spaces_tidied(raw, name):
    assert clean_name(raw) == name


@pytest.mark.parametrize("raw", ["", "   ", "12345", "!!", "A" * (MAX_NAME + 1)])
def test_no_name_or_too_long_a_name_is_refused(raw):
    with pytest.raises(Refusal, match=r"Ask the caller for the name|too long"):
        clean_name(raw)


@pytest.mark.parametrize("bad", [*"<>{}[]\\|`$@#", "\x00", "\u200b", "\u202e", "\x7f"])
def test_markup_and_invisible_characters_are_refused(bad):
    with pytest.raises(Refusal, match="spell the name, letters only"):
        clean_name(f"Ann{bad}Lee")


def test_a_card_number_is_not_a_name():
    with pytest.raises(Refusal, match="never take card details"):
        clean_name(f"Ann {CARD}")


def test_a_number_said_digit_by_digit_without_the_country_code_is_a_local_number():
    said = "six one seven five five five zero one nine nine"
    assert require_e164(said) == "+16175550199"
    assert require_e164("617 555 0199") == "+16175550199"


def test_a_number_is_read_in_the_restaurants_own_country():
    """A London restaurant's guest says their number as Londoners do, for an order (abroad
    taken) or a call-back (dialable only): both read it in the restaurant's country."""
    assert number_or_caller_id("020 7946 0958", None, "ask", region="GB",
                               abroad=True) == "+442079460958"
    assert number_or_caller_id("020 7946 0958", None, "ask", region="GB") == "+442079460958"
    # said digit by digit, or without the leading 0: still the London number, not a US one
    assert number_or_caller_id("oh two oh seven nine four six oh nine five eight", None, "ask",
                               region="GB") == "+442079460958"
    assert number_or_caller_id("207 946 0958", None, "ask", region="GB",
                               abroad=True) == "+442079460958"


def test_a_number_abroad_is_taken_only_where_the_caller_may_give_one():
    """An order or a booking takes a visitor's mobile; a call-back needs a local number."""
    assert number_or_caller_id("+44 20 7946 0958", "+16175550199", "ask",
                               abroad=True) == "+442079460958"
    with pytest.raises(Refusal, match=r"\+442079460958 is not a US number"):
        number_or_caller_id("+44 20 7946 0958", "+16175550199", "ask")


@pytest.mark.parametrize("said", [
    "0044 20 7946 0958",  # the exit code of most of the world, not of the US
    "zero zero four four two zero seven nine four six zero nine five eight",
    "011 44 20 7946 0958",  # the US exit code
    "four four two zero seven nine four six zero nine five eight",  # no plus said
])
def test_a_number_abroad_is_read_with_its_exit_or_country_code(said):
    assert any_e164(said) == "+442079460958"


def test_a_ten_digit_number_abroad_is_read_but_a_local_one_missing_a_digit_is_asked_again():
    """A Berlin number is ten digits with its country code; a Fort Lauderdale number said with
    a digit missing would read as one in Myanmar (+95), and is asked again instead."""
    assert any_e164("four nine three zero one two three four five six") == "+4930123456"
    with pytest.raises(Refusal, match="not a valid phone number"):
        any_e164("nine five four five five five zero one two")


def test_a_number_is_read_back_as_its_owner_gives_it():
    assert spoken("+16175550142") == "617 555 0142"
    assert spoken("+447700900123") == "+44 7700 900123"
