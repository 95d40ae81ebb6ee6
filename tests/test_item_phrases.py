"""Nothing the caller said is dropped: phrasings generated from the menu file either become
exactly the line that was said, or are refused with the unplaced words named.

Counts (generated / accepted / refused) are printed with -s and reported in bench/README.md.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.menu import Menu
from domain.pricing import build_line
from domain.refusal import Refusal
from store.menu_file import load_menu_file
from testkit.phrase_cases import Case, make_case

ROOT = Path(__file__).resolve().parent.parent
ITEMS = load_menu_file(ROOT / "data" / "menu.yaml").items
MENU = Menu(ITEMS)
# PROPERTY_EXAMPLES: fewer examples where each test runs hundreds of times (scripts/mutation.py).
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "2500"))
MANY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TALLY: Counter[str] = Counter()


def _check(case: Case) -> str:
    """'accepted' or 'refused', after asserting it was the right answer, exactly."""
    try:
        line = build_line(MENU, case.phrase, **case.kwargs)
    except Refusal as e:
        assert case.junk or case.sold_out, f"{case.said()} was refused: {e}"
        names_junk = bool(case.junk) and all(f"'{w}'" in str(e) for w in case.junk)
        names_sold_out = bool(case.sold_out) and any(
            f"{name} for " in str(e) and "sold out" in str(e) for name in case.sold_out)
        # Either reason is a whole answer: the caller is asked again either way.
        assert names_junk or names_sold_out, (
            f"{case.said()}: refusal names neither {case.junk} nor sold-out {case.sold_out}: {e}")
        return "refused"
    assert not case.sold_out, f"{case.said()} placed sold-out {case.sold_out}: {line}"
    for word in case.junk:  # said right after a kitchen note, it goes to the kitchen with it
        assert word in line.special_instructions, f"{case.said()} dropped {word}: {line}"
    got = (line.item_id, line.quantity, line.size,
           {(o.group_id, o.option_id) for o in line.options})
    assert got == (case.item_id, case.quantity, case.size, case.option_ids), case.said()
    assert case.note in line.special_instructions, case.said()
    return "carried in the note" if case.junk else "accepted"


@MANY
@given(seed=st.integers(0, 2**32), junk=st.booleans())
def test_every_phrasing_is_carried_whole_or_refused_naming_the_words(seed, junk):
    case = make_case(random.Random(seed), ITEMS, junk=junk)
    TALLY["generated"] += 1
    TALLY[_check(case)] += 1


def test_report_counts():
    # Runs after the property test in this module (pytest keeps file order).
    assert TALLY["generated"] >= min(1000, EXAMPLES)
    placed = TALLY["accepted"] + TALLY["carried in the note"]
    assert placed + TALLY["refused"] == TALLY["generated"]
    assert TALLY["accepted"] > 0 and TALLY["refused"] > 0
    print(f"\nphrasings: {TALLY['generated']} generated, {TALLY['accepted']} accepted exactly "
          f"as said, {TALLY['carried in the note']} with the odd word kept in the kitchen note, "
          f"{TALLY['refused']} refused naming the unplaced word")


@pytest.mark.parametrize(("phrase", "kwargs", "expected"), [
    ("two large oat milk lattes with an extra shot, no foam", {},
     ("latte", 2, "large", {"oat", "extra-shot"}, "no foam")),
    ("a couple of big caps", {}, ("cappuccino", 2, "large", set(), "")),
    ("blt on rye", {}, ("blt-sandwich", 1, None, {"rye"}, "")),
    ("latte", {"quantity": "three", "size": "grande", "options": ["almond"]},
     ("latte", 3, "medium", {"almond"}, "")),
    ("half a dozen blueberry muffins", {}, ("blueberry-muffin", 6, None, set(), "")),
    ("caesar salad with grilled chicken", {"special_instructions": "dressing on the side"},
     ("caesar-salad", 1, None, {"grilled-chicken"}, "dressing on the side")),
])
def test_spoken_lines(phrase, kwargs, expected):
    line = build_line(MENU, phrase, **kwargs)
    assert (line.item_id, line.quantity, line.size, {o.option_id for o in line.options},
            line.special_instructions) == expected


@pytest.mark.parametrize(("phrase", "kwargs", "names"), [
    ("latte with ketchup", {}, ["'ketchup'"]),
    ("two lattes and a cookie", {}, ["Latte", "Chocolate Chip Cookie", "one item per"]),
    ("latte", {"options": ["purple"]}, ["'purple'"]),
    ("cappuccino with extra shots", {}, ["'extra shots'", "one Extra shot"]),
    ("2 lattes", {"quantity": 3}, ["says 2", "quantity is 3"]),
    ("large latte", {"size": "small"}, ["Ask which size"]),
    ("croissant warmed up", {}, ["'warmed'", "'up'"]),
])
def test_what_cannot_be_placed_is_named(phrase, kwargs, names):
    with pytest.raises(Refusal) as e:
        build_line(MENU, phrase, **kwargs)
    for name in names:
        assert name in str(e.value)


def test_a_change_carries_or_refuses_every_option_word():
    # change_item rebuilds the line from its item id with the new options, as said
    line = build_line(MENU, "latte", options=["almond milk", "vanilla"], size="large")
    assert {o.option_id for o in line.options} == {"almond", "vanilla-syrup"}
    with pytest.raises(Refusal, match="Caramel syrup for Latte is sold out"):  # out today
        build_line(MENU, "latte", options=["almond milk", "caramel"], size="large")
    with pytest.raises(Refusal, match="'sprinkles'"):
        build_line(MENU, "latte", options=["almond milk with sprinkles"])


def test_a_word_left_over_is_named_and_only_what_is_on_offer_is_listed():
    with pytest.raises(Refusal) as e:
        build_line(MENU, "a latte 2")
    assert "could not place '2'" in str(e.value)
    assert "Vanilla syrup" in str(e.value) and "Caramel syrup" not in str(e.value)  # sold out


def test_a_count_after_the_item_is_not_read_as_a_second_quantity():
    # "half a dozen" is three words; the words after the item are never a quantity.
    with pytest.raises(Refusal, match="could not place '2'"):
        build_line(MENU, "half a dozen blueberry muffins 2")


def test_an_item_not_on_an_empty_menu_is_refused_without_hints():
    with pytest.raises(Refusal) as e:
        build_line(Menu([]), "latte")
    assert str(e.value) == "'latte' is not on our menu. Ask the caller what they'd like."
