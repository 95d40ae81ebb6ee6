"""Prices, totals, pickup times and what the caller hears about a dish (domain/pricing.py), computed
from the sample menu in integer cents, at the edges where an off-by-one costs money."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.menu import Menu
from domain.pricing import (
    MAX_INSTRUCTIONS,
    MAX_QUANTITY,
    build_line,
    check_quantity,
    describe_item,
    describe_line,
    money,
    pickup_time,
    spoken_list,
    tax_cents,
    totals,
)
from domain.refusal import Refusal
from models import ChosenOption, MenuItem, OrderLine
from store.menu_file import load_menu_file
from tests.privacy import CARD

ROOT = Path(__file__).resolve().parent.parent
MENU = Menu(load_menu_file(ROOT / "data" / "menu.yaml").items)
TZ = ZoneInfo("America/New_York")


@pytest.mark.parametrize("quantity", [1, MAX_QUANTITY])
def test_quantities_from_one_to_the_maximum_are_taken(quantity):
    check_quantity(quantity)
    assert build_line(MENU, "croissant", quantity=quantity).line_price_cents == 375 * quantity


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1])
def test_other_quantities_are_refused(quantity):
    with pytest.raises(Refusal, match=f"Quantity {quantity} is not possible"):
        check_quantity(quantity)


def test_a_line_is_priced_from_item_size_and_options():
    line = build_line(MENU, "cappuccino", quantity=3, size="large",
                      options=["oat milk", "extra shot", "vanilla syrup"])
    assert (line.item_id, line.name, line.size, line.size_name) == (
        "cappuccino", "Cappuccino", "large", "Large")
    assert line.unit_price_cents == 425 + 100 + 75 + 100 + 60
    assert line.line_price_cents == 3 * line.unit_price_cents
    assert [(o.group_id, o.option_id, o.name, o.price_delta_cents) for o in line.options] == [
        ("milk", "oat", "Oat milk", 75), ("extras", "extra-shot", "Extra shot", 100),
        ("extras", "vanilla-syrup", "Vanilla syrup", 60)]


def test_the_default_size_and_a_size_said_with_the_item():
    assert build_line(MENU, "latte").size == "medium"
    assert build_line(MENU, "latte").unit_price_cents == 500
    assert build_line(MENU, "a small latte").size == "small"
    assert build_line(MENU, "a small latte", size="Small").size == "small"  # said twice, agreed
    # Said two ways that disagree: neither is silently dropped, the caller is asked (issue 11).
    with pytest.raises(Refusal, match=r"says small but size is Large\. Ask which size"):
        build_line(MENU, "a small latte", size="Large")
    assert build_line(MENU, "latte", size="venti").size == "large"  # the coffee-shop word
    assert build_line(MENU, "latte", size=" MEDIUM ").size == "medium"


def test_one_size_items_take_no_size_but_the_words_for_none():
    for said in (None, "regular", "One Size", "normal"):
        line = build_line(MENU, "espresso", size=said)
        assert line.size is None and line.size_name is None and line.unit_price_cents == 300
    with pytest.raises(Refusal, match="comes in one size only"):
        build_line(MENU, "espresso", size="large")


def test_an_unknown_size_names_the_sizes():
    with pytest.raises(Refusal, match=r"has no size 'jumbo'\. Sizes: Small, Medium, Large\."):
        build_line(MENU, "latte", size="jumbo")


def test_an_item_without_a_default_size_asks_for_one():
    item = MENU.get("latte").model_copy(update={"default_size": None})
    with pytest.raises(Refusal, match="Ask which size of Latte: Small, Medium, Large"):
        build_line(Menu([item]), "latte")
    assert build_line(Menu([item]), "latte", size="small").unit_price_cents == 450


def test_a_required_choice_must_be_made_and_at_most_the_maximum_taken():
    with pytest.raises(Refusal, match="needs a choice of Bread: ask for one of Sourdough, Rye"):
        build_line(MENU, "blt")
    assert build_line(MENU, "blt", options=["rye"]).unit_price_cents == 1150
    with pytest.raises(Refusal, match="allows at most 1 Bread choice"):
        build_line(MENU, "blt", options=["rye", "sourdough"])
    two = build_line(MENU, "latte", options=["extra shot", "vanilla syrup"])
    assert len(two.options) == 2
    latte = MENU.get("latte")
    one_extra = latte.model_copy(update={"option_groups": [
        g.model_copy(update={"max_picks": 1}) if g.id == "extras" else g
        for g in latte.option_groups]})
    build_line(Menu([one_extra]), "latte", options=["extra shot"])
    with pytest.raises(Refusal, match="allows at most 1 Extras choice"):
        build_line(Menu([one_extra]), "latte", options=["extra shot", "vanilla syrup"])


def test_an_option_said_twice_is_counted_once():
    line = build_line(MENU, "latte", options=["oat milk", "Oat Milk", "oat"])
    assert [o.option_id for o in line.options] == ["oat"] and line.unit_price_cents == 575


def test_kitchen_notes_are_tidied_bounded_and_never_hold_a_card():
    line = build_line(MENU, "croissant", special_instructions="  warm   it\n up  ")
    assert line.special_instructions == "warm it up"
    build_line(MENU, "croissant", special_instructions="x" * MAX_INSTRUCTIONS)
    with pytest.raises(Refusal, match="too long"):
        build_line(MENU, "croissant", special_instructions="x" * (MAX_INSTRUCTIONS + 1))
    with pytest.raises(Refusal, match="pay at pickup"):
        build_line(MENU, "croissant", special_instructions=f"charge {CARD}")


def test_tax_is_rounded_half_up_like_a_till():
    assert tax_cents(8, 0.0625) == 1  # 0.5 -> 1
    assert tax_cents(7, 0.0625) == 0  # 0.4375 -> 0
    assert tax_cents(24, 0.0625) == 2  # 1.5 -> 2
    assert tax_cents(1000, 0.0625) == 63  # 62.5 -> 63: half-up, not to even
    assert tax_cents(1999, 0.0) == 0


def test_totals_add_the_lines_then_the_tax():
    lines = [build_line(MENU, "croissant", quantity=2), build_line(MENU, "latte")]
    assert totals(lines, 0.0625) == (1250, 78, 1328)
    assert totals([], 0.0625) == (0, 0, 0)


def _at(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 11, 20, hh, mm, ss, 500, tzinfo=TZ)


def test_pickup_is_prep_time_plus_big_orders_rounded_up_to_five_minutes():
    assert pickup_time(_at(12, 0), 15, 1) == _at(12, 15).replace(microsecond=0)
    assert pickup_time(_at(12, 0), 15, 5) == _at(12, 15).replace(microsecond=0)
    assert pickup_time(_at(12, 0), 15, 6) == _at(12, 20).replace(microsecond=0)  # 16 -> 20
    assert pickup_time(_at(12, 0), 15, 10) == _at(12, 20).replace(microsecond=0)
    assert pickup_time(_at(12, 1, 30), 15, 1) == _at(12, 20).replace(microsecond=0)
    assert pickup_time(_at(12, 4), 15, 1) == _at(12, 20).replace(microsecond=0)
    ready = pickup_time(_at(12, 5, 59), 15, 2)
    assert ready == _at(12, 20).replace(microsecond=0) and ready.second == 0


def test_money_is_said_in_dollars_and_cents():
    assert [money(c) for c in (0, 5, 60, 100, 1250, 10000)] == [
        "$0.00", "$0.05", "$0.60", "$1.00", "$12.50", "$100.00"]


def test_a_line_is_read_back_with_size_options_and_note():
    line = build_line(MENU, "latte", quantity=2, size="large", options=["oat milk"],
                      special_instructions="extra hot")
    assert describe_line(line) == "2 large Latte with oat milk (extra hot)"
    assert describe_line(build_line(MENU, "croissant")) == "1 Butter Croissant"
    bare = OrderLine(item_id="x", name="Thing", quantity=1, unit_price_cents=1,
                     line_price_cents=1, options=[ChosenOption(
                         group_id="g", option_id="o", name="Foam", price_delta_cents=0)])
    assert describe_line(bare) == "1 Thing with foam"


def test_lists_are_said_with_and():
    assert spoken_list([]) == ""
    assert spoken_list(["a"]) == "a"
    assert spoken_list(["a", "b"]) == "a and b"
    assert spoken_list(["a", "b", "c"]) == "a, b and c"


def test_a_dish_is_described_with_prices_choices_allergens_and_diet():
    latte = describe_item(MENU.get("latte"))
    assert latte.startswith("Latte: small $4.50, medium $5.00, large $5.50; ")
    assert "Milk: Whole milk, Oat milk +$0.75, Almond milk +$0.75, Skim milk; " in latte
    assert "Extras: Extra shot +$1.00, Vanilla syrup +$0.60; " in latte
    assert "allergens: dairy; dietary: vegetarian, gluten-free; Espresso with plenty" in latte
    assert "sold out" not in latte
    blt = describe_item(MENU.get("blt-sandwich"))
    assert blt.startswith("BLT Sandwich: $11.50; Bread (required): Sourdough, Rye, Whole wheat")
    assert "dietary" not in blt
    loaf = describe_item(MENU.get("pumpkin-loaf"))
    assert loaf.startswith("Pumpkin Loaf: $3.95; sold out today; allergens: gluten")
    plain = MenuItem.model_validate({"id": "water", "name": "Water", "category": "drinks",
                                     "price_cents": 100})
    assert describe_item(plain) == "Water: $1.00; allergens: none listed"


def _latte_with(**changes: object) -> Menu:
    return Menu([MENU.get("latte").model_copy(update=changes)])


def test_a_size_is_found_by_its_name_when_its_id_differs():
    latte = MENU.get("latte")
    sizes = [s.model_copy(update={"id": s.id[:2]}) for s in latte.sizes]  # sm, me, la
    menu = _latte_with(sizes=sizes, default_size="me")
    assert build_line(menu, "latte", size="Large").size == "la"
    assert build_line(menu, "latte", size="la").size == "la"


def test_sold_out_options_are_never_offered_instead():
    latte = MENU.get("latte")
    extras = next(g for g in latte.option_groups if g.id == "extras")
    two_out = extras.model_copy(update={"options": [
        o.model_copy(update={"available": False}) if o.id == "extra-shot" else o
        for o in extras.options]})
    menu = _latte_with(option_groups=[g if g.id != "extras" else two_out
                                      for g in latte.option_groups])
    with pytest.raises(Refusal) as refused:
        build_line(menu, "latte", options=["caramel syrup"])
    assert str(refused.value) == ("Caramel syrup for Latte is sold out today. "
                                  "Offer instead: Vanilla syrup.")
    only = extras.model_copy(update={"options": [o for o in extras.options
                                                 if o.id == "caramel-syrup"]})
    alone = _latte_with(option_groups=[only])
    with pytest.raises(Refusal) as nothing_else:
        build_line(alone, "latte", options=["caramel syrup"])
    assert str(nothing_else.value) == ("Caramel syrup for Latte is sold out today. "
                                       "Ask whether they want the Latte without it.")


def test_the_other_options_are_listed_with_commas():
    with pytest.raises(Refusal, match=r"Offer instead: Extra shot, Vanilla syrup\.$"):
        build_line(MENU, "latte", options=["caramel syrup"])


def test_a_repeated_option_does_not_stop_the_ones_after_it():
    line = build_line(MENU, "latte", options=["oat milk", "oat", "extra shot"])
    assert [o.option_id for o in line.options] == ["oat", "extra-shot"]


def test_a_line_with_several_options_reads_them_with_commas():
    line = build_line(MENU, "latte", options=["oat milk", "extra shot", "vanilla syrup"])
    assert describe_line(line) == "1 medium Latte with oat milk, extra shot, vanilla syrup"


def test_every_allergen_is_named():
    loaf = describe_item(MENU.get("pumpkin-loaf"))
    assert "; allergens: gluten, dairy, egg; dietary: vegetarian; " in loaf


def test_the_count_in_the_phrase_and_the_quantity_argument_are_reconciled():
    # "a croissant" is an article, not a count: the quantity argument stands.
    assert build_line(MENU, "a croissant", quantity=2).quantity == 2
    # quantity=1 is the model's habit; "three croissants" is what the caller said.
    assert build_line(MENU, "three croissants", quantity=1).quantity == 3
    # the same count said both ways is that count, not a conflict.
    assert build_line(MENU, "two croissants", quantity=2).quantity == 2
    # two different counts: ask, naming both.
    with pytest.raises(Refusal, match="says 3 but quantity is 2"):
        build_line(MENU, "three croissants", quantity=2)


def test_a_quantity_the_tool_cannot_read_names_the_quantity_argument():
    with pytest.raises(Refusal, match="quantity") as refused:
        build_line(MENU, "croissant", quantity="lots")
    assert "QUANTITY" not in str(refused.value)


def test_every_kitchen_note_of_a_line_is_kept_each_apart():
    """A note in the item phrase and one passed as instructions both reach the kitchen."""
    line = build_line(MENU, "latte extra hot", special_instructions="no lid")
    assert line.special_instructions == "extra hot, no lid"


def test_a_choice_that_adds_and_takes_out_allergens_says_both():
    item = MenuItem.model_validate({
        "id": "soy-latte", "name": "Latte", "category": "coffee", "price_cents": 500,
        "allergens": ["dairy"], "option_groups": [{"id": "milk", "name": "Milk", "options": [
            {"id": "soy", "name": "Soy milk", "allergens": ["soy"], "removes": ["dairy"]}]}],
    })
    assert "allergens by choice: Soy milk adds soy and takes out dairy" in describe_item(item)


def test_a_quantity_that_is_no_number_is_named_to_the_model():
    """"lots" of croissants: the refusal names the argument to fix, with an example."""
    with pytest.raises(Refusal, match=r"not a number I can read for quantity\. Pass it as a whole"):
        build_line(MENU, "croissant", quantity="lots")


def test_what_a_guest_hears_about_allergens_is_every_one_of_them_word_for_word():
    """The traces, and what each choice adds and takes out, each listed; a sold-out choice is
    not offered, and a choice that changes nothing is not in the allergen line."""
    item = MenuItem.model_validate({
        "id": "flat-white", "name": "Flat white", "category": "coffee", "price_cents": 450,
        "allergens": ["dairy"], "may_contain": ["nuts", "sesame"],
        "option_groups": [{"id": "milk", "name": "Milk", "options": [
            {"id": "soy", "name": "Soy milk", "allergens": ["soy", "nuts"],
             "removes": ["dairy", "lactose"]},
            {"id": "oat", "name": "Oat milk", "removes": ["dairy"]},
            {"id": "whole", "name": "Whole milk"},
            {"id": "honey", "name": "Honey", "allergens": ["honey"]},
            {"id": "almond", "name": "Almond milk", "available": False,
             "allergens": ["nuts"], "removes": ["dairy"]}]}],
    })
    assert describe_item(item) == (
        "Flat white: $4.50; Milk: Soy milk, Oat milk, Whole milk, Honey; allergens: dairy; "
        "may contain traces of nuts, sesame; allergens by choice: Soy milk adds soy, nuts "
        "and takes out dairy, lactose, Oat milk takes out dairy, Honey adds honey")


@pytest.mark.parametrize(("said", "size"), [
    ("a medium", "medium"), ("medium size", "medium"), ("Medium", "medium"),
    ("a large size", "large"), ("A Large", "large"), ("LARGE", "large")])
def test_a_size_said_the_way_callers_say_it_is_the_size(said, size):
    assert build_line(MENU, "latte", size=said).size == size


@pytest.mark.parametrize("said", ["medium", "Medium", "regular", "one size"])
def test_a_one_size_item_takes_the_sizes_that_mean_no_size(said):
    assert build_line(MENU, "croissant", size=said).size is None


def test_a_one_size_item_asked_in_a_real_size_is_refused():
    with pytest.raises(Refusal, match="comes in one size only"):
        build_line(MENU, "croissant", size="large")


@pytest.mark.parametrize("quantity", [2.5, 2.0, "2"])
def test_a_quantity_argument_must_be_a_whole_number_not_a_float_or_text(quantity):
    with pytest.raises(Refusal, match=r"Pass quantity as a whole number, e\.g\. 2\."):
        check_quantity(quantity)


def test_a_count_in_the_phrase_is_the_quantity_and_a_bad_one_names_an_example():
    assert build_line(MENU, "two croissants").quantity == 2
    assert build_line(MENU, "croissant").quantity == 1
    with pytest.raises(Refusal, match=r"e\.g\. 2; if the caller gave several"):
        build_line(MENU, "croissant", quantity="lots")


def test_a_size_word_names_a_size_only_when_the_item_has_it():
    """"Tall" means small; an item without a small size refuses it and names its own."""
    item = MenuItem.model_validate({
        "id": "big-tea", "name": "Big tea", "category": "tea", "price_cents": 300,
        "sizes": [{"id": "medium", "name": "Medium"}, {"id": "large", "name": "Large"}],
        "default_size": "medium"})
    menu = Menu([item])
    assert build_line(menu, "big tea", size="venti").size == "large"
    with pytest.raises(Refusal, match=r"Big tea has no size 'tall'\. Sizes: Medium, Large\."):
        build_line(menu, "big tea", size="tall")


def test_a_sold_out_dish_offers_each_alternative_by_name():
    menu = Menu([MenuItem.model_validate(item) for item in (
        {"id": "blt", "name": "BLT", "category": "sandwiches", "price_cents": 900,
         "available": False},
        {"id": "club", "name": "Club", "category": "sandwiches", "price_cents": 950},
        {"id": "melt", "name": "Tuna melt", "category": "sandwiches", "price_cents": 875})])
    with pytest.raises(Refusal) as refused:
        build_line(menu, "blt")
    assert str(refused.value).endswith(" Offer instead: Club, Tuna melt.")
