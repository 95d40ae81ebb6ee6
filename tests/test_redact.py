"""Card numbers found and removed wherever they sit, and nothing else taken for one
(domain/redact.py); the log side is in tests/test_private_logs.py."""

from __future__ import annotations

import logging

import pytest

from domain.redact import (
    CARD_MARK,
    PrivateLogs,
    has_card_number,
    luhn_ok,
    mask_phones,
    protect_logs,
    redact_cards,
)
from tests.privacy import CARDS, digit_runs


def test_the_luhn_check():
    assert luhn_ok("4927583610472539") and luhn_ok("371468205937188") and luhn_ok("0")
    assert luhn_ok("18") and luhn_ok("59")  # a doubled digit above 9 has 9 taken off
    assert not luhn_ok("4927583610472538") and not luhn_ok("1") and not luhn_ok("19")


@pytest.mark.parametrize("card", CARDS)
def test_a_card_is_found_as_written_and_removed_whole(card):
    text = f"charge {card} please"
    assert has_card_number(text)
    assert redact_cards(text) == f"charge {CARD_MARK} please"


def test_lengths_from_thirteen_to_nineteen_digits_count():
    thirteen, nineteen = "4539206178355", "4929171829483729399"
    assert luhn_ok(thirteen) and luhn_ok(nineteen)
    assert redact_cards(f"a {thirteen} b") == f"a {CARD_MARK} b"
    assert redact_cards(f"a {nineteen} b") == f"a {CARD_MARK} b"
    twelve = "453920617835"
    assert luhn_ok(twelve) and not has_card_number(f"a {twelve} b")


def test_a_card_run_into_other_digits_is_still_removed():
    card = CARDS[0].replace(" ", "")
    text = f"call 12 {card}77 thanks"
    cleaned = redact_cards(text)
    assert digit_runs(card, cleaned) == [] and CARD_MARK in cleaned and "thanks" in cleaned
    assert redact_cards(f"{CARDS[0]} and {CARDS[2]}").count(CARD_MARK) == 2


@pytest.mark.parametrize("text", [
    "call me on 617 555 0142", "order 4821 at 12:30", "2026-11-27", "+16175550142",
])
def test_what_is_not_a_card_is_left_alone(text):
    assert redact_cards(text) == text and not has_card_number(text)


def test_phone_masks_keep_the_last_two_digits_only():
    assert mask_phones("+442079460958") == "+**********58"
    assert mask_phones("+1234567") == "+*****67"  # the shortest E.164
    assert mask_phones("+123456") == "+123456"  # too short to be a number
    assert mask_phones("call 6175550142 now") == "call ********42 now"
    assert mask_phones("call 6175550142.") == "call ********42."
    assert mask_phones("v6175550142") == "v********42"
    assert mask_phones("61755501420") == "61755501420"  # 11 digits not starting with 1
    assert mask_phones("3.6175550142") == "3.6175550142"  # part of a dotted number


def test_protecting_the_logs_twice_adds_one_filter():
    root = logging.getLogger()
    handler = logging.StreamHandler()
    root.addHandler(handler)
    try:
        protect_logs()
        protect_logs()
        assert sum(isinstance(f, PrivateLogs) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)


def test_deeply_nested_fields_are_cleaned_too():
    record = logging.makeLogRecord({"msg": "x", "job": {"a": {"b": {"c": {"d": {"e": [
        "+16175550142"]}}}}}})
    PrivateLogs().filter(record)
    assert "+16175550142" not in str(record.job) and "42" in str(record.job)
    assert isinstance(record.job["a"]["b"], dict)  # structure kept where it is shallow


def test_only_windows_of_thirteen_to_nineteen_digits_are_judged():
    # 13 digits failing the check: its shorter windows ("0", "18", ...) pass it but are no card.
    assert not luhn_ok("1234567890123")
    assert redact_cards("ref 1234567890123") == "ref 1234567890123"
    # 20 digits passing the check as a whole, with no 13-19 digit window that does: no card.
    twenty = "30500937412619391525"
    assert luhn_ok(twenty) and redact_cards(f"ref {twenty}") == f"ref {twenty}"


def test_a_digit_said_before_a_card_is_kept_and_the_card_goes_whole():
    card = CARDS[0].replace(" ", "")
    assert redact_cards(f"7 {card}") == f"7 {CARD_MARK}"  # 7 belongs to no card window


def test_lists_and_nesting_of_any_depth_are_cleaned_without_looping():
    loop: dict = {"phone": "+16175550142"}
    loop["self"] = loop  # a record can hold itself; the filter must still return
    ring: list = ["+16175550142"]
    ring.append(ring)
    nested = [["+16175550142", ["+16175550143"]]]
    record = logging.makeLogRecord({"msg": "x", "loop": loop, "nested": nested, "ring": ring,
                                    "said": ["call +16175550142", "ok"]})
    assert PrivateLogs().filter(record)
    assert record.said == ["call +*********42", "ok"]  # kept as a list, each item cleaned
    assert record.nested[0][0] == "+*********42" and "+16175550143" not in str(record.nested)
    assert "+16175550142" not in str(record.loop) and "+16175550142" not in str(record.ring)


def test_a_value_that_cannot_be_printed_is_named_so():
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    record = logging.makeLogRecord({"msg": "x", "thing": Broken()})
    assert PrivateLogs().filter(record) and record.thing == "[unprintable]"
