"""What the caller said, matched to the menu (menu.py): items, sizes, options, and the lists
the model is given. A small menu of our own keeps each case exact."""

from __future__ import annotations

import pytest

from menu import Catalog, Menu, find_option
from models import MenuItem, RestaurantSettings
from refusal import Refusal


def item(id_: str, name: str, category: str, **more: object) -> MenuItem:
    return MenuItem.model_validate({"id": id_, "name": name, "category": category,
                                    "price_cents": 300, **more})


LATTE = item("latte", "Latte", "coffee", aliases=["cafe latte"],
             sizes=[{"id": "small", "name": "Small"}, {"id": "large", "name": "Large",
                                                        "price_delta_cents": 100}],
             default_size="small", allergens=["dairy"], dietary=["vegetarian"],
             option_groups=[
                 {"id": "milk", "name": "Milk", "max_picks": 1, "options": [
                     {"id": "oat", "name": "Oat milk"}, {"id": "whole", "name": "Whole milk"}]},
                 {"id": "syrup", "name": "Syrup", "min_picks": 1, "max_picks": 1, "options": [
                     {"id": "vanilla", "name": "Vanilla"}, {"id": "none", "name": "No syrup"}]}])
MOCHA = item("mocha", "Mocha", "coffee", allergens=["dairy", "soy"])
TEA = item("green-tea", "Jasmine Green Tea", "tea", dietary=["vegan"])
LOAF = item("pumpkin-loaf", "Pumpkin Loaf", "pastries", available=False, allergens=["gluten"])
MUFFIN = item("muffin", "Blueberry Muffin", "pastries", allergens=["gluten", "tree nuts"])
SCONE = item("scone", "Cheddar Scone", "pastries", allergens=["gluten", "dairy"])
BUN = item("bun", "Cinnamon Bun", "pastries")
ROLL = item("roll", "Sausage Roll", "pastries")
MENU = Menu([LATTE, MOCHA, TEA, LOAF, MUFFIN, SCONE, BUN, ROLL])


@pytest.mark.parametrize(("said", "item_id", "size"), [
    ("Latte", "latte", None), ("latte", "latte", None), ("cafe latte", "latte", None),
    ("a large latte please", "latte", "large"), ("LATTE, BIG", "latte", "large"),
    ("a small cafe-latte", "latte", "small"), ("green-tea", "green-tea", None),
    ("jasmine green tea", "green-tea", None), ("lattee", "latte", None),
    ("blueberry muffins", "muffin", None), ("one regular mocha", "mocha", "medium"),
])
def test_what_the_caller_says_finds_the_item_and_size(said, item_id, size):
    heard = MENU.hear(said)
    assert heard is not None and (heard.item.id, heard.size_id) == (item_id, size)


@pytest.mark.parametrize("said", ["", "the", "lobster thermidor", "large", "a please"])
def test_nothing_on_the_menu_is_none(said):
    assert MENU.hear(said) is None


def test_an_unknown_item_is_refused_with_the_closest_available_names():
    with pytest.raises(Refusal) as refused:
        MENU.require("pumpkin pie")
    text = str(refused.value)
    assert text.startswith("'pumpkin pie' is not on our menu. Closest matches: ")
    assert "Blueberry Muffin" in text and "Pumpkin Loaf" not in text  # sold out: not offered
    assert text.endswith("Ask the caller what they'd like.")
    with pytest.raises(Refusal, match=r"^'zzzz' is not on our menu\. Ask the caller"):
        Menu([LOAF]).require("zzzz")  # nothing available to suggest


def test_a_sold_out_item_is_refused_offering_three_of_its_kind():
    with pytest.raises(Refusal) as refused:
        MENU.require("pumpkin loaf")
    assert str(refused.value) == ("Pumpkin Loaf is sold out today. Offer instead: "
                                  "Blueberry Muffin, Cheddar Scone, Cinnamon Bun.")
    alone = Menu([LOAF])
    with pytest.raises(Refusal, match=r"^Pumpkin Loaf is sold out today\.$"):
        alone.require("pumpkin loaf")
    assert MENU.require("muffin").item.id == "muffin"


def test_suggestions_are_available_distinct_and_limited():
    names = MENU.suggestions("latte", limit=2)
    assert names[0] == "Latte" and len(names) == 2 and len(set(names)) == 2
    assert "Pumpkin Loaf" not in MENU.suggestions("pumpkin loaf")
    assert len(MENU.suggestions("roll")) == 3


def test_items_are_found_by_category_diet_or_allergen():
    assert [i.id for i in MENU.matching("pastries")] == ["pumpkin-loaf", "muffin", "scone",
                                                         "bun", "roll"]
    assert [i.id for i in MENU.matching("anything vegan?")] == ["green-tea"]
    assert [i.id for i in MENU.matching("nuts")] == ["muffin"]
    assert [i.id for i in MENU.matching("soy")] == ["mocha"]
    assert MENU.matching("") == [] and MENU.matching("!!") == []


def test_without_an_allergen_lists_available_items_only():
    assert [i.id for i in MENU.without_allergen("dairy")] == ["green-tea", "muffin", "bun",
                                                              "roll"]
    assert [i.id for i in MENU.without_allergen("nuts")] == [
        "latte", "mocha", "green-tea", "scone", "bun", "roll"]


def test_the_model_gets_names_sizes_and_required_choices_only():
    assert MENU.prompt_text() == (
        "coffee: Latte (small/large; Milk; Syrup*), Mocha\n"
        "tea: Jasmine Green Tea\n"
        "pastries: Blueberry Muffin, Cheddar Scone, Cinnamon Bun, Sausage Roll\n"
        "sold out today: Pumpkin Loaf\n"
        "(* = a required choice)")
    assert Menu([MOCHA]).prompt_text() == "coffee: Mocha\n(* = a required choice)"


@pytest.mark.parametrize(("said", "option"), [
    ("oat", "oat"), ("Oat milk", "oat"), ("oat milk milk", "oat"), ("whole", "whole"),
    ("vanilla syrup", "vanilla"), ("vanila", "vanilla"), ("no syrup", "none"),
])
def test_options_are_matched_by_id_name_or_name_and_group(said, option):
    group, found = find_option(LATTE, said)
    assert found.id == option and found in group.options


@pytest.mark.parametrize("said", ["", "caramel drizzle"])
def test_an_unknown_option_lists_what_is_offered(said):
    with pytest.raises(Refusal) as refused:
        find_option(LATTE, said)
    assert str(refused.value) == (f"Latte has no option '{said}'. Options offered: "
                                  "Milk: Oat milk, Whole milk; Syrup: Vanilla, No syrup.")
    with pytest.raises(Refusal, match="Options offered: none"):
        find_option(MOCHA, "oat")


def test_a_catalog_swaps_menu_and_settings_whole():
    settings = RestaurantSettings(name="A")
    catalog = Catalog(MENU, settings)
    assert catalog.menu is MENU and catalog.settings is settings
    catalog.replace_menu([MOCHA])
    assert list(catalog.menu.items) == ["mocha"] and len(catalog.menu) == 1
    other = RestaurantSettings(name="B")
    catalog.replace_settings(other)
    assert catalog.settings is other and MENU.get("latte") is LATTE
