"""What the caller said, matched to the menu (domain/menu.py): items, sizes, options, and the lists
the model is given. A small menu of our own keeps each case exact."""

from __future__ import annotations

import pytest

from domain.menu import Catalog, Menu, find_option
from domain.refusal import Refusal
from models import MenuItem, RestaurantSettings


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
    ("ocatmil", "oat"), ("o syrkp", "none"),  # both score exactly the cutoff (80): taken
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


def test_a_name_said_in_full_wins_over_a_shorter_name_inside_it():
    menu = Menu([item("roll", "Bread Roll", "bread"), item("sausage-roll", "Sausage Roll", "hot"),
                 item("tea", "Tea", "tea"), item("iced-tea", "Iced Tea", "cold")])
    assert menu.hear("one large sausage roll please").item.id == "sausage-roll"
    assert menu.hear("a large iced tea").item.id == "iced-tea"
    assert menu.hear("some tea").item.id == "tea"


@pytest.mark.parametrize(("said", "item_id"), [("lattp", "latte"), ("mocba", "mocha")])
def test_a_match_scoring_exactly_the_cutoff_is_taken(said, item_id):
    # These score exactly 80 against the menu (rapidfuzz WRatio): the cutoff is inclusive.
    assert MENU.hear(said).item.id == item_id


def test_a_size_said_with_a_misheard_name_is_kept():
    heard = MENU.hear("a large lattee")
    assert (heard.item.id, heard.size_id) == ("latte", "large")


def test_punctuation_and_hyphens_do_not_hide_a_diet_or_allergen():
    free = item("cake", "Flourless Cake", "desserts", dietary=["gluten-free"])
    assert [i.id for i in Menu([free, TEA]).matching("anything gluten free?")] == ["cake"]
    menu = Menu([free, MUFFIN])
    assert [i.id for i in menu.matching("nuts?")] == ["muffin"]
    assert [i.id for i in menu.matching("tree-nuts")] == ["muffin"]


def test_suggestions_reach_past_the_aliases_of_a_sold_out_item():
    loaf = LOAF.model_copy(update={"aliases": [f"pumpkin {w}" for w in (
        "bread", "cake", "slice", "bar")]})
    menu = Menu([loaf, MUFFIN, SCONE, BUN, ROLL])
    # The loaf's five labels are the closest; the next five still hold available items.
    assert menu.suggestions("pumpkin")[:2] == ["Blueberry Muffin", "Cinnamon Bun"]
    crowded = LOAF.model_copy(update={"aliases": [f"pumpkin {w}" for w in (
        "bread", "cake", "slice", "bar", "square", "treat", "round", "bake", "tart")]})
    # Ten labels of a sold-out item closer than anything else: nothing close enough to offer.
    assert Menu([crowded, MUFFIN, SCONE, BUN, ROLL]).suggestions("pumpkin") == []


def test_lists_in_refusals_and_the_prompt_are_comma_separated():
    hints = MENU.suggestions("pumpkin pie")
    assert len(hints) == 3
    with pytest.raises(Refusal) as refused:
        MENU.require("pumpkin pie")
    assert f"Closest matches: {hints[0]}, {hints[1]}, {hints[2]}. Ask" in str(refused.value)
    two = Menu([LOAF, LOAF.model_copy(update={"id": "pie", "name": "Apple Pie"})])
    assert "sold out today: Pumpkin Loaf, Apple Pie\n" in two.prompt_text()
