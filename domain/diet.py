"""Allergen and diet questions answered as a restaurant must: from what each dish declares.

"Free of X" and "contains X" are the same fact about a dish, so every answer states that fact
with its side named ("contains gluten", "free of gluten as it comes"), whatever the caller's
phrasing ("gluten-free", "without gluten", "I'm celiac", "is there gluten in ..."). A dish is
free of X only when X is neither in its allergens nor in its traces (`may_contain`); a choice
can add X (feta: dairy) or take it out (oat milk: dairy), and then only ordered that way.
Anything the menu does not declare (an allergen no dish lists, a diet no dish is tagged with)
is "I can't promise that": never a guess.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from domain.menu import Menu
from models import MenuItem, Option

# Canonical allergen -> the words callers (and menu writers) use for it.
ALLERGEN_WORDS: dict[str, tuple[str, ...]] = {
    "dairy": ("dairy", "milk", "lactose", "cheese", "butter", "cream"),
    "gluten": ("gluten", "wheat", "celiac", "coeliac", "celiacs", "coeliacs"),
    "egg": ("egg", "eggs"),
    "tree-nuts": ("tree nuts", "tree nut", "nuts", "nut", "almond", "almonds", "pecan",
                  "pecans", "walnut", "walnuts", "cashew", "cashews", "hazelnut", "hazelnuts",
                  "pistachio", "pistachios"),
    "peanuts": ("peanuts", "peanut", "nuts", "nut"),
    "sesame": ("sesame", "tahini"),
    "fish": ("fish", "anchovy", "anchovies"),
    "shellfish": ("shellfish", "shrimp", "prawn", "prawns", "crab", "lobster"),
    "molluscs": ("molluscs", "mollusks", "mussels", "clams", "oysters"),
    "soy": ("soy", "soya", "soybean", "soybeans"),
    "mustard": ("mustard",),
    "celery": ("celery",),
    "lupin": ("lupin", "lupine"),
    "sulphites": ("sulphites", "sulfites", "sulphite", "sulfite"),
}
# Diets a dish can be tagged with; "gluten-free" is the gluten allergen, asked the other way.
DIET_WORDS: dict[str, tuple[str, ...]] = {
    "vegan": ("vegan", "plant based", "vegans"),
    "vegetarian": ("vegetarian", "vegetarians", "no meat", "meat free", "meatless"),
}
# Diets callers ask about that no dish here can be tagged with: always "can't promise".
OTHER_DIETS = ("halal", "kosher", "keto", "paleo", "low carb", "low sodium", "sugar free",
               "diabetic", "fodmap", "pescatarian")
# What makes a dish not vegan / not vegetarian when a choice adds it.
NOT_VEGAN = {"dairy", "egg", "fish", "shellfish", "molluscs"}
NOT_VEGETARIAN = {"fish", "shellfish", "molluscs"}
# Words that say the caller is asking about a diet or an allergy at all.
CONCERN_CUES = ("free", "without", "allergy", "allergic", "allergies", "intolerant",
                "intolerance", "avoid", "sensitive", "contain", "contains", "safe")
# Words that make an unknown word an allergy question ("allergic to kiwi").
ALLERGY_CUES = ("allergy", "allergic", "allergies", "intolerant", "intolerance", "sensitive",
                "sensitivity", "avoid", "without", "contain", "contains")
# "X free" names a concern unless X is one of these ("is the refill free?", "have free wifi").
NOT_A_FREE_OF = (r"\b(?!(?:for|is|it|its|be|are|was|have|has|get|got|the|a|any|refill|refills|"
                 r"delivery|wifi|parking|water|coffee|drink|drinks|dessert|birthday)\b)")
# Ingredient words that are an allergy question only with a dish or a cue ("no milk").
WEAK_WORDS = {"milk", "cheese", "butter", "cream", "almond", "almonds", "wheat"}
WEAK_CUES = ("no", "is there", "are there", "in it", "has")
# Synonyms staff may write in a menu file, mapped to the canonical allergen.
MENU_SPELLINGS = {"tree nuts": "tree-nuts", "nuts": "tree-nuts", "eggs": "egg",
                  "milk": "dairy", "peanut": "peanuts", "soya": "soy", "wheat": "gluten",
                  "sulfites": "sulphites", "mollusks": "molluscs"}


@functools.lru_cache(maxsize=4096)
def _norm(text: str) -> str:
    text = text.lower().replace("-", " ").replace("'", "")
    return " " + re.sub(r"[^a-z0-9ñáéíóúü]+", " ", text).strip() + " "


def canonical(allergen: str) -> str | None:
    """The canonical name of an allergen as a menu writes it ("tree nuts" -> "tree-nuts")."""
    key = allergen.strip().lower()
    if key in ALLERGEN_WORDS:
        return key
    return MENU_SPELLINGS.get(key)


def _canon_all(names: Iterable[str]) -> set[str]:
    return {canonical(n) or n.strip().lower() for n in names}


def contained(item: MenuItem, options: Iterable[Option] = ()) -> set[str]:
    """The allergens in a dish with these choices: its own, less what a choice takes out,
    plus what a choice adds."""
    chosen = list(options)
    out = _canon_all(item.allergens)
    for option in chosen:
        out -= _canon_all(option.removes)
    for option in chosen:
        out |= _canon_all(option.allergens)
    return out


def traces(item: MenuItem) -> set[str]:
    return _canon_all(item.may_contain)


@functools.lru_cache(maxsize=8)
def declared(menu: Menu) -> frozenset[str]:
    """The allergens this menu speaks for: any dish or choice names them."""
    found: set[str] = set()
    for item in menu.items.values():
        found |= _canon_all(item.allergens) | traces(item)
        for group in item.option_groups:
            for option in group.options:
                found |= _canon_all(option.allergens) | _canon_all(option.removes)
    return frozenset(found)


def _diets_of(item: MenuItem) -> set[str]:
    return {d.strip().lower() for d in item.dietary}


@functools.lru_cache(maxsize=8)
def tagged(menu: Menu) -> frozenset[str]:
    return frozenset().union(*(_diets_of(i) for i in menu.items.values()))


def _choices(item: MenuItem) -> list[Option]:
    return [o for g in item.option_groups for o in g.options if o.available]


# ---------------------------------------------------------------- reading the question


@dataclass(frozen=True)
class Question:
    dishes: tuple[MenuItem, ...]
    allergens: tuple[str, ...]  # canonical
    diets: tuple[str, ...]
    undeclared: tuple[str, ...]  # what the caller named that no dish here declares


def _said(words: Iterable[str], text: str) -> str | None:
    return next((w for w in words if f" {_norm(w).strip()} " in text), None)


@functools.lru_cache(maxsize=8)
def _labels(menu: Menu) -> list[tuple[str, MenuItem]]:
    """Every name, id and alias of the menu's dishes, longest first (a menu never changes)."""
    return sorted(((_norm(label).strip(), item) for item in menu.items.values()
                   for label in (item.name, item.id, *item.aliases)),
                  key=lambda pair: -len(pair[0]))


def _dishes_in(menu: Menu, text: str) -> tuple[tuple[MenuItem, ...], str]:
    """The dishes named in the question, and the text without their names: each dish named
    whole (longest names first; "the iced coffee" is that dish, not the coffee category), then
    every dish of a category named ("any gluten-free pastries?")."""
    found: list[MenuItem] = []
    category = {i.id: _norm(i.category).strip() for i in menu.items.values()}
    forms = {f: c for c in category.values() for f in (c, c.rstrip("s"), f"{c}s")}
    for label, item in _labels(menu):
        if label and label not in forms and f" {label} " in text:
            text = text.replace(f" {label} ", " ")
            # "the croissant" is also the Almond Croissant: answer for every dish it may be
            for other in (item, *menu.items.values()):
                if other not in found and (other is item or f" {label} " in _norm(other.name)):
                    found.append(other)
    named = {c for f, c in forms.items() if f" {f} " in text}
    found += [i for i in menu.items.values() if category[i.id] in named and i not in found]
    if not found:  # "the croissant": every dish whose name holds the word
        words = [w for w in text.split() if len(w) > 3 and not _is_concern_word(w)]
        for item in menu.items.values():
            name = _norm(item.name)
            if words and any(f" {w} " in name or f" {w.rstrip('s')} " in name for w in words):
                found.append(item)
    return tuple(found), text


def _is_concern_word(word: str) -> bool:
    every = [*CONCERN_CUES, *OTHER_DIETS]
    every += [w for ws in (*ALLERGEN_WORDS.values(), *DIET_WORDS.values()) for w in ws]
    return any(word in _norm(w).split() for w in every)


def read_question(menu: Menu, query: str) -> Question | None:
    """The dishes, allergens and diets a question names; None when it is not about either."""
    dishes, rest = _dishes_in(menu, _norm(query))
    allergens = [a for a, words in ALLERGEN_WORDS.items() if _said(words, rest)]
    diets = [d for d, words in DIET_WORDS.items() if _said(words, rest)]
    if not dishes and not _said((*CONCERN_CUES, *WEAK_CUES), rest):
        # "do you have oat milk?" asks for a choice, not about dairy
        allergens = [a for a in allergens if _said(
            [w for w in ALLERGEN_WORDS[a] if w not in WEAK_WORDS], rest)]
    others = [d for d in OTHER_DIETS if _said((d,), rest)]
    if not (allergens or diets or others):
        if _said(ALLERGY_CUES, rest) or re.search(NOT_A_FREE_OF + r"\w+ free\b", rest):
            # "allergic to strawberries", "corn-free": a concern the menu cannot speak for
            # (not "is the refill free?")
            leftover = " ".join(w for w in rest.split() if not _is_concern_word(w)
                                and w not in {"i", "im", "am", "to", "the", "a", "is", "it",
                                              "are", "any", "of", "in", "what", "which",
                                              "do", "you", "have", "there", "dishes",
                                              "anything", "something", "options"})
            return Question(dishes, (), (), (leftover or "that",))
        return None
    known, tags = declared(menu), tagged(menu)
    undeclared = [a for a in allergens if a not in known]
    undeclared += [d for d in diets if d not in tags] + others
    return Question(dishes, tuple(a for a in allergens if a in known),
                    tuple(d for d in diets if d in tags), tuple(undeclared))


# ---------------------------------------------------------------- what a dish is


@dataclass(frozen=True)
class Verdict:
    """One dish against one allergen or diet."""

    item: MenuItem
    concern: str
    free: bool  # as it comes: free of the allergen / fits the diet
    traces: bool = False  # may contain it: never free
    only_with: tuple[Option, ...] = ()  # free only if ordered with one of these
    not_with: tuple[Option, ...] = ()  # free as it comes, but these choices add it


def allergen_verdict(item: MenuItem, allergen: str) -> Verdict:
    choices = _choices(item)
    if allergen in traces(item):
        return Verdict(item, allergen, free=False, traces=True)
    if allergen in contained(item):
        removers = tuple(o for o in choices if allergen not in contained(item, [o]))
        return Verdict(item, allergen, free=False, only_with=removers)
    adders = tuple(o for o in choices if allergen in contained(item, [o]))
    return Verdict(item, allergen, free=True, not_with=adders)


def diet_verdict(item: MenuItem, diet: str) -> Verdict:
    if diet not in _diets_of(item):
        return Verdict(item, diet, free=False)
    breaking = NOT_VEGAN if diet == "vegan" else NOT_VEGETARIAN

    def breaks(option: Option) -> bool:
        keeps = option.dietary is None or diet in {d.lower() for d in option.dietary}
        return not keeps or bool(contained(item, [option]) & breaking)

    return Verdict(item, diet, free=True, not_with=tuple(o for o in _choices(item) if breaks(o)))


# ---------------------------------------------------------------- the answer


def _names(options: Iterable[Option]) -> str:
    names = [o.name for o in options]
    return " or ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " or " + names[-1]


def spoken(concern: str) -> str:
    return concern.replace("-", " ")


def _is_diet(concern: str) -> bool:
    return concern in DIET_WORDS


def dish_sentence(v: Verdict) -> str:
    """One dish against one concern, in words that cannot be read the wrong way round."""
    name, c = v.item.name, spoken(v.concern)
    sold = " (sold out today)" if not v.item.available else ""
    if _is_diet(c):
        if not v.free:
            return f"{name}{sold} is NOT declared {c}: do not offer it as {c}."
        text = f"{name}{sold} is {c} as it comes"
        return text + (f", but not with {_names(v.not_with)}." if v.not_with else ".")
    if v.traces:
        return (f"{name}{sold} MAY CONTAIN TRACES of {c}: it is not free of {c} and not "
                f"safe for a {c} allergy.")
    if not v.free:
        text = f"{name}{sold} CONTAINS {c}: it is not free of {c}"
        if v.only_with:
            text += f"; it has no {c} only if ordered with {_names(v.only_with)}"
        return text + "."
    text = f"{name}{sold} is free of {c} as it comes (no {c} declared, no traces)"
    if v.not_with:
        text += f", but {_names(v.not_with)} would add {c}"
    return text + "."


def _group(menu: Menu, concern: str) -> str:
    verdicts = [diet_verdict(i, concern) if _is_diet(concern) else allergen_verdict(i, concern)
                for i in menu.items.values() if i.available]

    def label(v: Verdict) -> str:
        if v.not_with:
            return f"{v.item.name} (not with {_names(v.not_with)})"
        return v.item.name

    if _is_diet(concern):
        fits = [label(v) for v in verdicts if v.free]
        return (f"Declared {concern} as they come: {', '.join(fits) or 'none'}. Nothing else "
                f"on the menu is declared {concern}.")
    concern = spoken(concern)
    free = [label(v) for v in verdicts if v.free]
    only = [f"{v.item.name} (only with {_names(v.only_with)})"
            for v in verdicts if not v.free and v.only_with and not v.traces]
    has = [v.item.name for v in verdicts if not v.free and not v.traces]
    may = [v.item.name for v in verdicts if v.traces]
    parts = [f"Free of {concern} as they come: {', '.join(free) or 'none'}."]
    if only:
        parts.append(f"Free of {concern} only if ordered that way: {', '.join(only)}.")
    parts.append(f"CONTAIN {concern}: {', '.join(has) or 'none'}.")
    if may:
        parts.append(f"MAY CONTAIN TRACES of {concern} (not safe for an allergy): "
                     f"{', '.join(may)}.")
    return " ".join(parts)


CANT_PROMISE = (
    "The menu does not declare {what}: tell the caller \"I can't promise that; let me get "
    "someone who can\" and offer to connect them with staff (transfer_to_staff). Never guess."
)


def answer(menu: Menu, query: str) -> str | None:
    """The menu's answer to an allergen or diet question, or None when the query is neither."""
    question = read_question(menu, query)
    if question is None:
        return None
    parts: list[str] = []
    for concern in (*question.allergens, *question.diets):
        if question.dishes:
            parts += [dish_sentence(diet_verdict(d, concern) if _is_diet(concern)
                                    else allergen_verdict(d, concern)) for d in question.dishes]
        else:
            parts.append(_group(menu, concern))
    if question.undeclared:
        what = " or ".join(spoken(u) for u in question.undeclared)
        parts.append(CANT_PROMISE.format(what=what))
    if question.allergens:
        parts.append("Say which side each dish is on exactly as written here; an option "
                     "changes it only if the caller orders it that way.")
    return " ".join(parts)


# ---------------------------------------------------------------- checking a menu file

Problem = tuple[tuple[str | int, ...], str]  # (path inside the item, message)


def _unknown(names: list[str], path: tuple[str | int, ...]) -> list[Problem]:
    known = ", ".join(ALLERGEN_WORDS)
    return [((*path, i), f"unknown allergen '{n}'; use one of: {known}")
            for i, n in enumerate(names) if canonical(n) is None]


def _diet_clashes(tags: set[str], allergens: set[str], maybe: set[str], what: str) -> list[str]:
    """Diet tags the allergens contradict; a trace (`maybe`) only rules out gluten-free."""
    clashes = []
    for diet, breaking in (("vegan", NOT_VEGAN), ("vegetarian", NOT_VEGETARIAN)):
        if diet in tags and allergens & breaking:
            clashes.append(f"{what} is tagged {diet} but contains "
                           f"{', '.join(sorted(allergens & breaking))}")
    if "gluten-free" in tags and "gluten" in allergens | maybe:
        clashes.append(f"{what} is tagged gluten-free but contains or may contain gluten")
    return clashes


def menu_problems(item: MenuItem) -> list[Problem]:
    """What a menu file must not say about a dish's allergens: unknown allergen names, a trace
    it already contains, a diet tag its allergens contradict, a choice that breaks the dish's
    diet without saying which diets it keeps. Paths are relative to the item."""
    problems = _unknown(item.allergens, ("allergens",)) + _unknown(item.may_contain,
                                                                  ("may_contain",))
    has = _canon_all(item.allergens)
    for i, name in enumerate(item.may_contain):
        if canonical(name) in has:
            problems.append((("may_contain", i), f"'{name}' is already in allergens: a trace "
                             "is what the dish may contain, not what it contains"))
    tags = _diets_of(item)
    problems += [(("dietary",), text) for text in
                 _diet_clashes(tags, has, traces(item), "the dish")]
    for g, group in enumerate(item.option_groups):
        for o, option in enumerate(group.options):
            at = ("option_groups", g, "options", o)
            problems += _unknown(option.allergens, (*at, "allergens"))
            problems += _unknown(option.removes, (*at, "removes"))
            for r, name in enumerate(option.removes):
                if canonical(name) not in has:
                    problems.append(((*at, "removes", r), f"option '{option.id}' takes out "
                                     f"'{name}', which the dish does not contain"))
            kept = tags if option.dietary is None else tags & {d.lower() for d in option.dietary}
            problems += [((*at, "dietary"), text + "; give the option `dietary:` (the diets "
                          "it keeps, [] for none)") for text in _diet_clashes(
                              kept, contained(item, [option]) - has, set(),
                              f"option '{option.id}'")]
    return problems
