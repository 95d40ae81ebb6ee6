"""Allergy and diet answers (domain/diet.py): every allergen and diet, in every phrasing callers
use, about every dish of the sample menu. No answer ever calls a dish free of something it
contains or may contain, or fit for a diet it is not declared for; anything the menu does not
declare is "I can't promise that"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain import diet
from domain.menu import Menu
from models import MenuItem, Option
from store.menu_file import MenuFileError, load_menu_file, parse_menu_text

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = load_menu_file(ROOT / "data" / "menu.yaml")
MENU = Menu(SAMPLE.items)
DISHES = list(MENU.items.values())

# How callers ask about one dish; {d} the dish as said, {a} the allergen in their words.
DISH_PHRASINGS = (
    "is the {d} {a} free", "is the {d} {a}-free?", "does the {d} have {a} in it",
    "is there {a} in the {d}", "does the {d} contain {a}", "can I have the {d} without {a}",
    "I'm allergic to {a}, can I have the {d}?", "{a} allergy, is the {d} ok",
    "I can't have {a}, what about the {d}", "{d} no {a}", "is the {d} safe for a {a} allergy",
    "{d} {a}",
)
# How callers ask about the menu as a whole.
GROUP_PHRASINGS = (
    "{a} free", "anything {a}-free?", "what do you have without {a}", "no {a} please",
    "I'm allergic to {a}", "{a} allergy", "what has {a} in it", "which dishes contain {a}",
    "{a}", "I have a severe {a} allergy, what can I eat",
)
# Conditions callers name instead of the allergen.
CONDITIONS = {"gluten": ("I'm celiac", "I'm coeliac", "celiac, is the {d} ok"),
              "dairy": ("I'm lactose intolerant", "lactose intolerant, can I have the {d}")}
DIET_PHRASINGS = ("is the {d} {a}", "I'm {a}, can I have the {d}?", "is the {d} ok for a {a}",
                  "anything {a}?", "{a} options", "what's {a} on the menu")


def _words(allergen: str) -> tuple[str, ...]:
    # the allergen's own name and the first two words callers use for it
    words = diet.ALLERGEN_WORDS[allergen]
    return tuple(dict.fromkeys((diet.spoken(allergen), *words[:2])))


def _as_said(item: MenuItem) -> tuple[str, ...]:
    return (item.name, *item.aliases[:1])


def _contains(item: MenuItem, options: list[Option]) -> set[str]:
    """Independent of diet.py: the dish's allergens, less what choices take out, plus what
    they add, in canonical names."""
    have = {diet.canonical(a) for a in item.allergens}
    for o in options:
        have -= {diet.canonical(a) for a in o.removes}
    for o in options:
        have |= {diet.canonical(a) for a in o.allergens}
    return have


def _unsafe_for(item: MenuItem, allergen: str) -> bool:
    return allergen in _contains(item, []) | {diet.canonical(a) for a in item.may_contain}


def _listed(text: str, label: str) -> list[str]:
    """The entries of a list sentence ("Free of dairy as they come: A, B (not with C, D).")."""
    found = re.search(re.escape(label) + r": (.*?)\.(?: |$)", text)
    if not found:
        return []
    return [e.strip() for e in re.findall(r"[^,(]+(?:\([^)]*\))?", found.group(1)) if e.strip()]


def _option(item: MenuItem, name: str) -> Option:
    return next(o for g in item.option_groups for o in g.options if o.name == name)


def unsafe_in(text: str, allergen: str) -> list[str]:
    """What in one answer calls a dish free of an allergen it contains or may contain."""
    said, wrong = diet.spoken(allergen), []
    for item in DISHES:
        if not _unsafe_for(item, allergen):
            continue
        if f"{item.name} is free of {said}" in text or f"{item.name} (sold out today) is " \
                f"free of {said}" in text:
            wrong.append(f"{item.name}: called free")
        if item.name in [e.split(" (")[0] for e in _listed(text, f"Free of {said} as they come")]:
            wrong.append(f"{item.name}: listed free as it comes")
        for entry in _listed(text, f"Free of {said} only if ordered that way"):
            name, _, rest = entry.partition(" (only with ")
            if name != item.name:
                continue
            for option in re.split(r", | or ", rest.rstrip(")")):
                traced = allergen in {diet.canonical(a) for a in item.may_contain}
                if traced or allergen in _contains(item, [_option(item, option)]):
                    wrong.append(f"{item.name}: free with {option}")
    return wrong


def test_the_property_no_answer_calls_a_dish_free_of_what_it_contains():
    """Every allergen x every phrasing x every dish of the sample menu: 0 unsafe answers."""
    checked, unsafe = 0, []
    for allergen in diet.ALLERGEN_WORDS:
        questions = [p.format(d=d, a=a) for p in DISH_PHRASINGS for a in _words(allergen)
                     for item in DISHES for d in _as_said(item)]
        questions += [p.format(a=a) for p in GROUP_PHRASINGS for a in _words(allergen)]
        questions += [p.format(d=d) for p in CONDITIONS.get(allergen, ())
                      for item in DISHES for d in _as_said(item)]
        for question in questions:
            text = diet.answer(MENU, question)
            if text is None and question in diet.WEAK_WORDS:
                continue  # "milk" alone asks about the menu, not an allergy
            assert text is not None, f"not read as an allergy question: {question!r}"
            if allergen not in diet.declared(MENU):
                assert "I can't promise that" in text, (question, text)
            unsafe += [(question, w) for w in unsafe_in(text, allergen)]
            checked += len(DISHES)  # every dish is checked against every answer
    print(f"\nallergen answers checked: {checked} (question x dish), unsafe: {len(unsafe)}")
    assert unsafe == []
    assert checked > 100_000


def test_the_property_no_answer_calls_a_dish_fit_for_a_diet_it_is_not_declared_for():
    checked, wrong = 0, []
    for d_name in diet.DIET_WORDS:
        for phrasing in DIET_PHRASINGS:
            for item in DISHES:
                for said in _as_said(item):
                    text = diet.answer(MENU, phrasing.format(d=said, a=d_name)) or ""
                    for other in DISHES:
                        checked += 1
                        fits = [e.split(" (")[0] for e in _listed(
                            text, f"Declared {d_name} as they come")]
                        if d_name not in other.dietary and (
                                other.name in fits or f"{other.name} is {d_name}" in text):
                            wrong.append((phrasing, other.name))
    print(f"\ndiet answers checked: {checked}, wrong: {len(wrong)}")
    assert wrong == [] and checked > 10_000


@pytest.mark.parametrize(("question", "said"), [
    ("is the BLT gluten free", "BLT Sandwich CONTAINS gluten: it is not free of gluten."),
    ("I'm celiac, is the croissant ok?",
     "Butter Croissant CONTAINS gluten: it is not free of gluten. Almond Croissant CONTAINS "
     "gluten: it is not free of gluten."),
    ("is the latte dairy free",
     "Latte CONTAINS dairy: it is not free of dairy; it has no dairy only if ordered with "
     "Oat milk or Almond milk."),
    ("is the americano dairy free",
     "Americano is free of dairy as it comes (no dairy declared, no traces), but Splash of "
     "milk would add dairy."),
    ("does the muffin have nuts",
     "Blueberry Muffin MAY CONTAIN TRACES of tree nuts: it is not free of tree nuts and not "
     "safe for a tree nuts allergy."),
    ("is the avocado toast vegan", "Avocado Toast is vegan as it comes, but not with Poached "
     "egg or Feta."),
    ("is the breakfast burrito vegetarian", "Breakfast Burrito is vegetarian as it comes, but "
     "not with Bacon or Chorizo."),
    ("is the turkey club vegetarian", "Turkey Club is NOT declared vegetarian"),
])
def test_a_dish_is_answered_yes_or_no_from_what_it_declares(question, said):
    assert said in diet.answer(MENU, question)


def test_dairy_free_separates_the_free_the_conditional_and_the_containing():
    text = diet.answer(MENU, "I'm allergic to dairy, what can I have?")
    free = [e.split(" (")[0] for e in _listed(text, "Free of dairy as they come")]
    assert "Espresso" in free and "Latte" not in free and "Butter Croissant" not in free
    assert "Latte (only with Oat milk or Almond milk)" in _listed(
        text, "Free of dairy only if ordered that way")
    assert "Butter Croissant" in _listed(text, "CONTAIN dairy")


@pytest.mark.parametrize("question", [
    "are you peanut free", "allergic to shellfish", "is the latte soy free",
    "is anything halal", "I'm allergic to strawberries", "is the fruit cup kosher",
    "anything corn-free?",
])
def test_what_the_menu_does_not_declare_is_never_promised(question):
    text = diet.answer(MENU, question)
    assert "I can't promise that; let me get someone who can" in text
    assert "transfer_to_staff" in text and " is free of " not in text


@pytest.mark.parametrize("question", ["do you have oat milk", "how much is a latte",
                                      "what pastries do you have", "a BLT on rye",
                                      "is the refill free?", "do you have free wifi"])
def test_other_questions_are_left_to_the_menu_description(question):
    assert diet.answer(MENU, question) is None


MENU_FILE = """
restaurant: {{name: T, timezone: America/New_York}}
items:
  - id: toast
    name: Toast
    category: breakfast
    price_cents: 500
    allergens: [{allergens}]
    may_contain: [{traces}]
    dietary: [{diets}]
    option_groups:
      - id: add
        name: Add
        options:
          - {{id: feta, name: Feta, allergens: [{option}], removes: [{removes}]}}
"""


def _problems(allergens="gluten", traces="", diets="", option="", removes="") -> list[str]:
    text = MENU_FILE.format(allergens=allergens, traces=traces, diets=diets, option=option,
                            removes=removes)
    try:
        parse_menu_text(text, source="m.yaml", fmt="yaml")
    except MenuFileError as e:
        return [str(p) for p in e.problems]
    return []


def test_the_menu_file_check_refuses_what_would_make_an_allergy_answer_wrong():
    assert _problems() == []
    assert _problems(allergens="gluten, eggs", traces="tree nuts") == []  # usual spellings
    [typo] = _problems(allergens="gluten, diary")
    assert typo.startswith("m.yaml: item 'toast' (items[0]) field 'allergens[1]': unknown "
                           "allergen 'diary'; use one of: dairy, gluten")
    [twice] = _problems(traces="gluten")
    assert "field 'may_contain[0]': 'gluten' is already in allergens" in twice
    [vegan] = _problems(allergens="gluten, egg", diets="vegan")
    assert "field 'dietary': the dish is tagged vegan but contains egg" in vegan
    [gf] = _problems(allergens="", traces="gluten", diets="gluten-free")
    assert "tagged gluten-free but contains or may contain gluten" in gf
    [feta] = _problems(diets="vegetarian, vegan", option="dairy")
    assert "option_groups[0].options[0].dietary': option 'feta' is tagged vegan but " \
           "contains dairy; give the option `dietary:`" in feta
    [removes] = _problems(removes="dairy")
    assert "option 'feta' takes out 'dairy', which the dish does not contain" in removes


def test_the_sample_menus_declare_traces_and_choices():
    croissant = MENU.get("croissant")
    assert croissant.may_contain == ["tree-nuts"]
    oat = _option(MENU.get("latte"), "Oat milk")
    assert oat.removes == ["dairy"] and oat.allergens == []
    assert load_menu_file(ROOT / "data" / "casa-lupita.yaml").items


NUTS = ("tree-nuts",), (), ("peanuts",)  # "nuts": tree nuts, and peanuts no dish declares


@pytest.mark.parametrize(("query", "dishes", "allergens", "diets", "undeclared"), [
    # a dish by its name, its id or an alias; a shared word is every dish it may be, once each
    ("is the cap dairy free", ["cappuccino"], ("dairy",), (), ()),
    ("does the caffe latte have milk", ["latte"], ("dairy",), (), ()),
    ("does the almond croissant or the croissant have nuts",
     ["almond-croissant", "croissant"], *NUTS),
    # a dish named whole is that dish, even with a category's word in its name
    ("does the iced coffee have dairy", ["iced-coffee"], ("dairy",), (), ()),
    ("is the fruit salad vegan", ["fruit-cup"], (), ("vegan",), ()),
    ("is the english breakfast tea vegan", ["english-breakfast-tea"], (), ("vegan",), ()),
    # no name said whole: the dishes whose name holds a word of four letters or more ...
    ("do the muffins have nuts", ["blueberry-muffin"], *NUTS),
    ("is the cake gluten free", ["flourless-chocolate-cake"], ("gluten",), (), ()),
    # ... but not a short word, nor the concern itself ("Vegan Banana Bread", "Almond Croissant")
    ("a cup of something dairy free", [], ("dairy",), (), ()),
    ("anything vegan?", [], (), ("vegan",), ()),
    ("anything without almonds", [], ("tree-nuts",), (), ()),
    # a category, singular or plural, is every dish in it; two categories are both
    ("any dairy free dessert", ["chocolate-chip-cookie", "flourless-chocolate-cake",
                                "new-york-cheesecake", "fruit-cup"], ("dairy",), (), ()),
    ("any dairy-free teas?", ["english-breakfast-tea", "green-tea", "chai-latte",
                              "peppermint-tea"], ("dairy",), (), ()),
    ("any dairy free cold drinks?", ["iced-coffee", "fresh-orange-juice", "sparkling-lemonade",
                                     "berry-smoothie"], ("dairy",), (), ()),
    ("is the coffee dairy free", ["cappuccino", "latte", "americano", "drip-coffee", "espresso",
                                  "mocha"], ("dairy",), (), ()),
    ("is the latte or the pastries dairy free", ["latte", "chai-latte", "croissant",
                                                 "almond-croissant", "blueberry-muffin",
                                                 "cinnamon-roll", "banana-bread", "pumpkin-loaf"],
     ("dairy",), (), ()),
    ("is there dairy in the tea or the desserts",
     ["english-breakfast-tea", "green-tea", "chai-latte", "peppermint-tea",
      "chocolate-chip-cookie", "flourless-chocolate-cake", "new-york-cheesecake", "fruit-cup"],
     ("dairy",), (), ()),
    # an ingredient word is the allergen with a dish or a cue, not when a choice is asked for
    ("is there milk", [], ("dairy",), (), ()),
    ("does the latte have milk", ["latte", "chai-latte"], ("dairy",), (), ()),
    ("I'm vegan and celiac", [], ("gluten",), ("vegan",), ()),
    ("is the latte halal or kosher", ["latte", "chai-latte"], (), (), ("halal", "kosher")),
    # what the menu cannot speak for is named back in the caller's words, without the filler
    ("I am allergic to kiwi", [], (), (), ("kiwi",)),
    ("I'm allergic to red dye", [], (), (), ("red dye",)),
    ("is it corn free", [], (), (), ("corn",)),
    ("a kiwi allergy", [], (), (), ("kiwi",)),
    ("is any of it kiwi free", [], (), (), ("kiwi",)),
    ("are there any dishes without mango", [], (), (), ("mango",)),
    ("what do you have without garlic", [], (), (), ("garlic",)),
    ("which options contain coconut", [], (), (), ("coconut",)),
    ("anything without onion", [], (), (), ("onion",)),
    ("something without pork", [], (), (), ("pork",)),
    ("I'm sensitive to kiwi, is there any in the smoothie", ["berry-smoothie"], (), (),
     ("kiwi",)),
    ("is the latte kiwi free", ["latte", "chai-latte"], (), (), ("kiwi",)),
    ("I have allergies", [], (), (), ("that",)),
])
def test_a_callers_phrasing_is_read_as_the_question_they_asked(query, dishes, allergens, diets,
                                                               undeclared):
    read = diet.read_question(MENU, query)
    assert ([d.id for d in read.dishes], read.allergens, read.diets, read.undeclared) == (
        dishes, allergens, diets, undeclared)
