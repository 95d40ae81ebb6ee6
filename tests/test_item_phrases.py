"""Nothing the caller said is dropped: phrasings generated from the menu file either become
exactly the line that was said, or are refused with the unplaced words named.

Counts (generated / accepted / refused) are printed with -s and reported in bench/README.md.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from menu import Menu
from menu_file import load_menu_file
from pricing import build_line
from refusal import Refusal
from tests.phrase_cases import Case, make_case

ROOT = Path(__file__).resolve().parent.parent
ITEMS = load_menu_file(ROOT / "data" / "menu.yaml").items
MENU = Menu(ITEMS)
MANY = settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TALLY: Counter[str] = Counter()


def _check(case: Case) -> str:
    """'accepted' or 'refused', after asserting it was the right answer, exactly."""
    try:
        line = build_line(MENU, case.phrase, **case.kwargs)
    except Refusal as e:
        assert case.junk, f"{case.said()} was refused: {e}"
        for word in case.junk:
            assert f"'{word}'" in str(e), f"{case.said()}: refusal does not name {word}: {e}"
        return "refused"
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
    assert TALLY["generated"] >= 1000
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
    line = build_line(MENU, "latte", options=["almond milk", "caramel"], size="large")
    assert {o.option_id for o in line.options} == {"almond", "caramel-syrup"}
    with pytest.raises(Refusal, match="'sprinkles'"):
        build_line(MENU, "latte", options=["almond milk with sprinkles"])
