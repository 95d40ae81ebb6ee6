"""The allergen and diet answers, word for word, on a small menu built for the purpose
(domain/diet.py). What the model is handed is the guard: it must name the right dishes on
the right side, vegan and vegetarian must not be confused, a sold-out dish says so, and a
trace is never "free". tests/test_diet_answers.py asks the sample menu in every phrasing;
here every branch of the answer is pinned, so a slip in it cannot pass unnoticed."""

from __future__ import annotations

import pytest

from domain import diet
from domain.menu import Menu
from models import MenuItem, Option, OptionGroup


def _opt(oid: str, name: str, **kw: object) -> Option:
    return Option(id=oid, name=name, **kw)


BOWL = MenuItem(id="bowl", name="Grain Bowl", category="food", price_cents=1200,
                dietary=["vegan", "Vegetarian"], option_groups=[OptionGroup(
                    id="top", name="Topping", options=[
                        _opt("feta", "Feta", allergens=["dairy"]),
                        _opt("tuna", "Tuna", allergens=["fish"]),
                        _opt("tofu", "Tofu"),
                        _opt("egg", "Fried Egg", allergens=["eggs"], dietary=["Vegetarian"]),
                        _opt("bacon", "Bacon", dietary=[])])])
LATTE = MenuItem(id="latte", name="Latte", category="drinks", price_cents=450,
                 allergens=["Milk"], dietary=["vegetarian"], option_groups=[OptionGroup(
                     id="milk", name="Milk", options=[
                         _opt("oat", "Oat Milk", removes=["milk"]),
                         _opt("soy", "Soy Milk", removes=["dairy"], allergens=["soya"]),
                         _opt("almond", "Almond Milk", removes=["dairy"],
                              allergens=["tree nuts"])])])
COOKIE = MenuItem(id="cookie", name="Cookie", category="bakery", price_cents=300,
                  allergens=["wheat", "egg"], may_contain=["peanut"], available=False)
BROWNIE = MenuItem(id="brownie", name="Brownie", category="bakery", price_cents=350,
                   allergens=["egg", "dairy"], may_contain=["peanuts"])
FLAPJACK = MenuItem(id="flapjack", name="Flapjack", category="bakery", price_cents=300,
                    allergens=["Kiwi"], may_contain=["peanuts"])
MENU = Menu([BOWL, LATTE, COOKIE, BROWNIE, FLAPJACK])
SIDES = ("Say which side each dish is on exactly as written here; an option changes it only "
         "if the caller orders it that way.")


def test_a_menu_writers_spelling_is_the_allergen_and_an_unknown_one_is_kept_as_written():
    assert diet.contained(LATTE) == {"dairy"}  # "Milk"
    assert diet.contained(FLAPJACK) == {"kiwi"}  # not a known allergen: kept, lower case
    assert diet.traces(COOKIE) == {"peanuts"}  # "peanut"
    assert diet.contained(LATTE, [LATTE.option_groups[0].options[2]]) == {"tree-nuts"}


@pytest.mark.parametrize(("query", "said"), [
    ("is the grain bowl vegan",
     "Grain Bowl is vegan as it comes, but not with Feta, Tuna, Fried Egg or Bacon."),
    # dairy and egg keep a dish vegetarian; fish and a choice that keeps no diet do not
    ("is the grain bowl vegetarian", "Grain Bowl is vegetarian as it comes, but not with Tuna "
     "or Bacon."),
    ("is the latte vegetarian", "Latte is vegetarian as it comes."),
    ("is the brownie vegan", "Brownie is NOT declared vegan: do not offer it as vegan."),
    ("is the latte dairy free", "Latte CONTAINS dairy: it is not free of dairy; it has no dairy "
     f"only if ordered with Oat Milk, Soy Milk or Almond Milk. {SIDES}"),
    ("is the latte nut free", "Latte is free of tree nuts as it comes (no tree nuts declared, "
     "no traces), but Almond Milk would add tree nuts. Latte is free of peanuts as it comes "
     f"(no peanuts declared, no traces). {SIDES}"),
    ("does the brownie or the flapjack have peanuts",
     "Flapjack MAY CONTAIN TRACES of peanuts: it is not free of peanuts and not safe for a "
     "peanuts allergy. Brownie MAY CONTAIN TRACES of peanuts: it is not free of peanuts and "
     f"not safe for a peanuts allergy. {SIDES}"),
    ("is the cookie gluten free",
     f"Cookie (sold out today) CONTAINS gluten: it is not free of gluten. {SIDES}"),
    ("is the latte halal or kosher", "The menu does not declare halal or kosher: tell the caller "
     "\"I can't promise that; let me get someone who can\" and offer to connect them with "
     "staff (transfer_to_staff). Never guess."),
])
def test_one_dish_word_for_word(query, said):
    assert diet.answer(MENU, query) == said


@pytest.mark.parametrize(("query", "said"), [
    ("anything vegan?", "Declared vegan as they come: Grain Bowl (not with Feta, Tuna, Fried Egg "
     "or Bacon). Nothing else on the menu is declared vegan."),
    ("anything vegetarian", "Declared vegetarian as they come: Grain Bowl (not with Tuna or "
     "Bacon), Latte. Nothing else on the menu is declared vegetarian."),
    ("dairy free", "Free of dairy as they come: Grain Bowl (not with Feta), Flapjack. Free of "
     "dairy only if ordered that way: Latte (only with Oat Milk, Soy Milk or Almond Milk). "
     f"CONTAIN dairy: Latte, Brownie. {SIDES}"),
    ("peanut allergy", "Free of peanuts as they come: Grain Bowl, Latte. CONTAIN peanuts: none. "
     "MAY CONTAIN TRACES of peanuts (not safe for an allergy): Brownie, Flapjack. " + SIDES),
])
def test_the_whole_menu_word_for_word(query, said):
    assert diet.answer(MENU, query) == said


def test_when_no_dish_on_sale_fits_the_answer_says_none():
    sold_out_vegan = BOWL.model_copy(update={"available": False})
    assert diet.answer(Menu([sold_out_vegan, BROWNIE]), "anything vegan?") == (
        "Declared vegan as they come: none. Nothing else on the menu is declared vegan.")
    assert diet.answer(Menu([BROWNIE]), "egg allergy") == (
        f"Free of egg as they come: none. CONTAIN egg: Brownie. {SIDES}")


@pytest.mark.parametrize(("tags", "allergens", "said"), [
    (["vegan"], ["egg", "milk"], "the dish is tagged vegan but contains dairy, egg"),
    (["vegetarian"], ["fish"], "the dish is tagged vegetarian but contains fish"),
    (["vegetarian"], ["egg", "milk"], None),
])
def test_a_menu_file_whose_tags_its_allergens_contradict_is_refused(tags, allergens, said):
    dish = MenuItem(id="quiche", name="Quiche", category="food", price_cents=900,
                    allergens=allergens, dietary=tags)
    found = [text for path, text in diet.menu_problems(dish) if path == ("dietary",)]
    assert found == ([said] if said else [])


def _quiche(**fields: object) -> MenuItem:
    return MenuItem(id="quiche", name="Quiche", category="food", price_cents=900, **fields)


def _adds(*options: Option) -> list[OptionGroup]:
    return [OptionGroup(id="side", name="Side", options=[_opt("plain", "Plain")]),
            OptionGroup(id="add", name="Add", options=[_opt("none", "Nothing"), *options])]


UNKNOWN = f"; use one of: {', '.join(diet.ALLERGEN_WORDS)}"
AT = ("option_groups", 1, "options", 1)  # the second choice of the second group
KEEPS = "; give the option `dietary:` (the diets it keeps, [] for none)"


@pytest.mark.parametrize(("dish", "problems"), [
    # each mistake at the exact place in the file where the menu writer has to fix it
    (_quiche(allergens=["egg", "kiwi"], may_contain=["sesame", "mango"]),
     [(("allergens", 1), "unknown allergen 'kiwi'" + UNKNOWN),
      (("may_contain", 1), "unknown allergen 'mango'" + UNKNOWN)]),
    (_quiche(allergens=["gluten", "Milk"], may_contain=["sesame", "dairy"]),
     [(("may_contain", 1), "'dairy' is already in allergens: a trace is what the dish may "
                           "contain, not what it contains")]),
    (_quiche(allergens=["egg"], option_groups=_adds(
        _opt("jam", "Jam", allergens=["papaya"], removes=["guava"]))),
     [((*AT, "allergens", 0), "unknown allergen 'papaya'" + UNKNOWN),
      ((*AT, "removes", 0), "unknown allergen 'guava'" + UNKNOWN),
      ((*AT, "removes", 0), "option 'jam' takes out 'guava', which the dish does not contain")]),
    (_quiche(allergens=["egg", "dairy"], option_groups=_adds(
        _opt("oat", "Oat cream", removes=["Milk", "gluten"]))),
     [((*AT, "removes", 1), "option 'oat' takes out 'gluten', which the dish does not contain")]),
    # a choice breaks the dish's diet only by what it adds, and only the diets it keeps
    (_quiche(dietary=["Vegan", "vegetarian", "gluten-free"], option_groups=_adds(
        _opt("feta", "Feta", allergens=["dairy"]), _opt("bun", "Bun", allergens=["wheat"]))),
     [((*AT, "dietary"), "option 'feta' is tagged vegan but contains dairy" + KEEPS),
      (("option_groups", 1, "options", 2, "dietary"),
       "option 'bun' is tagged gluten-free but contains or may contain gluten" + KEEPS)]),
    (_quiche(dietary=["vegan", "vegetarian"], option_groups=_adds(
        _opt("feta", "Feta", allergens=["dairy"], dietary=["Vegetarian"]))), []),
    (_quiche(dietary=["vegetarian"], option_groups=_adds(
        _opt("feta", "Feta", allergens=["dairy"], dietary=["vegan"]))), []),
    (_quiche(dietary=["vegan"], option_groups=_adds(
        _opt("feta", "Feta", allergens=["dairy"], dietary=["Vegan"]))),
     [((*AT, "dietary"), "option 'feta' is tagged vegan but contains dairy" + KEEPS)]),
    (_quiche(allergens=["egg"], dietary=["vegetarian"], option_groups=_adds(
        _opt("ham", "Ham", dietary=[]), _opt("egg", "Extra egg", allergens=["egg"]))), []),
    (_quiche(allergens=["wheat"], dietary=["gluten-free"]),
     [(("dietary",), "the dish is tagged gluten-free but contains or may contain gluten")]),
])
def test_the_menu_file_check_names_each_mistake_where_it_is_written(dish, problems):
    assert diet.menu_problems(dish) == problems
