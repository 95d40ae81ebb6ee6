"""Ids derived from the call (domain/ids.py): the same call always gets the same ids, so a retried
or replayed save finds its own record instead of making a twin; different calls, bookings and
attempts get different ones; and what is read aloud is easy to say and to hear."""

from __future__ import annotations

import re
from collections import Counter

from domain import ids


def test_record_ids_name_the_call_and_the_sequence():
    assert ids.order_id("call-a", 2) == "call-a-order-2"
    assert ids.message_id("call-a", 3) == "call-a-message-3"


def test_ids_are_stable_across_releases():
    # A call resumed by a new worker (or an outbox entry replayed after a deploy) must derive
    # the very ids the caller was told: these values may never change.
    assert ids.order_number("call-a-order-1") == "6707"
    assert ids.reservation_code("call-a", 1) == "J4Y3P4"
    assert ids.reservation_code("call-a", 1, 1) == "3J7QK7"


def test_order_numbers_are_four_digits_spread_over_the_whole_range():
    numbers = [ids.order_number(ids.order_id(f"call-{n}", 1)) for n in range(20000)]
    assert all(re.fullmatch(r"[1-9]\d{3}", x) for x in numbers)
    values = [int(x) for x in numbers]
    assert min(values) < 1010 and max(values) > 9990
    assert len(set(values)) > 8000  # no bias into a small part of the range
    assert ids.order_number("call-a-order-1") == ids.order_number("call-a-order-1")
    assert ids.order_number("call-a-order-1") != ids.order_number("call-a-order-2")


def test_reservation_codes_use_only_letters_that_are_told_apart_aloud():
    codes = [ids.reservation_code(f"call-{n}", s, a)
             for n in range(800) for s in (1, 2) for a in (0, 1, 2)]
    assert all(len(c) == 6 for c in codes)
    used = Counter("".join(codes))
    assert set(used) == set(ids.SPOKEN_ALPHABET)  # every letter, and no other
    assert not set("015O8BILS") & set(used)
    assert len(set(codes)) == len(codes)  # no clash among 4800


def test_every_part_of_a_reservation_code_matters():
    base = ids.reservation_code("call-a", 1, 0)
    assert base == ids.reservation_code("call-a", 1)
    assert len({base, ids.reservation_code("call-b", 1, 0), ids.reservation_code("call-a", 2, 0),
                ids.reservation_code("call-a", 1, 1)}) == 4
    # The parts are kept apart: "call-a" + seq 11 is not "call-a1" + seq 1.
    assert ids.reservation_code("call-a", 11) != ids.reservation_code("call-a1", 1)


def test_a_replayed_order_keeps_its_id_unless_another_order_holds_it():
    # The first replay is the same order again (idempotent); a collision with different
    # content moves to -2, -3: never an id another saved order already has.
    original = ids.order_id("call-a", 1)
    assert ids.replayed_order_id(original, 0) == original
    moved = [ids.replayed_order_id(original, attempt) for attempt in (1, 2, 3)]
    assert moved == [f"{original}-2", f"{original}-3", f"{original}-4"]
