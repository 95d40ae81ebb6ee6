"""What the caller said about one menu item, every word placed: quantity, size, item,
options and kitchen note. A word that fits none of them is never dropped: the phrase is
refused with that word named, so the model asks the caller about it.

"two large oat milk lattes with an extra shot, no foam" ->
quantity 2, size large, Latte, options [oat milk, extra shot], note "no foam".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from domain.menu import Menu, _norm
from domain.natural import words_to_digits
from domain.refusal import Refusal
from models import MenuItem, Option, OptionGroup

# How callers say sizes; the item's own size ids and names are understood too.
SIZE_WORDS = {
    "small": "small", "little": "small", "short": "small", "tall": "small",
    "medium": "medium", "regular": "medium", "grande": "medium",
    "large": "large", "big": "large", "venti": "large",
}
# Words that carry nothing to place: politeness, articles, connectors, containers.
FILLER = frozenset("""
a an the some of with and also plus please thanks thank you can could i id i'd ill i'll like
would have get give me let us we want need just maybe um uh oh so then too as well order
size sized cup cups to go for it that those them x w in on add another more ,
""".split())
QUANTITY_PHRASES = {  # longest first when matched
    ("half", "a", "dozen"): 6, ("a", "half", "dozen"): 6, ("a", "couple", "of"): 2,
    ("a", "couple"): 2, ("couple", "of"): 2, ("a", "pair", "of"): 2, ("a", "dozen"): 12,
    ("dozen",): 12, ("a",): 1, ("an",): 1, ("single",): 1,
}
ARTICLES = {("a",), ("an",), ("single",)}  # a weak count: an explicit quantity wins
NOTE_ENDS = frozenset({",", "and", "with", "plus", "please", "thanks", "thank", "to", "also"})
NOTE_STARTS = ("no", "without", "hold", "light", "easy", "extra", "less", "more", "not",
               "well", "on")
FUZZY_ITEM = 88  # a mis-heard name ("capuccino") still names one item


@dataclass
class Said:
    """One line as the caller said it; None means they did not say it."""

    item: MenuItem
    quantity: int | None = None
    quantity_is_article: bool = False  # "a latte": 1, unless a quantity is passed too
    size_id: str | None = None
    options: list[tuple[OptionGroup, Option]] = field(default_factory=list)
    note: str = ""


def _words(text: str) -> list[str]:
    text = text.lower().replace("’", "'").replace("&", " and ")
    text = re.sub(r"(\d)\s*x\b|\bx\s*(\d)", r"\1\2", text)  # "2x", "x2"
    text = words_to_digits(text.replace("-", " ")).replace(",", " , ").replace(";", " , ")
    text = re.sub(r"[^a-z0-9', ]+", " ", text)
    return [w.strip("'") for w in text.split() if w.strip("'")]


def _singular(word: str) -> list[str]:
    forms = []
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        forms.append(word[:-2])
    if word.endswith("s") and len(word) > 2:
        forms.append(word[:-1])
    return forms


def _spans(words: list[str]) -> list[tuple[int, int]]:
    n = len(words)
    return sorted(((i, j) for i in range(n) for j in range(i + 1, min(n, i + 6) + 1)),
                  key=lambda s: (s[0] - s[1], s[0]))  # longest first, then leftmost


def _names(menu: Menu) -> dict[str, str]:
    return menu._names  # normalised name / alias / id -> item id


def find_item_span(menu: Menu, words: list[str]) -> tuple[int, int, MenuItem] | None:
    """The longest run of words that names a menu item (plural or mis-heard too)."""
    names = _names(menu)
    for i, j in _spans(words):
        span = words[i:j]
        for candidate in (" ".join(span),
                          *(" ".join([*span[:-1], s]) for s in _singular(span[-1]))):
            if candidate in names:
                return i, j, menu.items[names[candidate]]
    best: tuple[float, int, int, str] | None = None
    for i, j in _spans(words):
        text = " ".join(words[i:j])
        if len(text) < 4 or all(w in FILLER or w.isdigit() for w in words[i:j]):
            continue
        for label, item_id in names.items():
            score = fuzz.ratio(text, label)
            if score >= FUZZY_ITEM and (best is None or score > best[0]):
                best = (score, i, j, item_id)
    if best is None:
        return None
    return best[1], best[2], menu.items[best[3]]


def _option_labels(item: MenuItem) -> dict[str, tuple[OptionGroup, Option]]:
    """Every way a caller names an option: "oat milk", "oat", "oat-milk", "extra shot"."""
    labels: dict[str, tuple[OptionGroup, Option]] = {}
    for group in item.option_groups:
        tails = [o.name.lower().split()[-1] for o in group.options if len(o.name.split()) > 1]
        shared = {t for t in tails if tails.count(t) > 1} | {_norm(group.name)}
        for option in group.options:
            for label in (option.id, option.name, f"{option.name} {group.name}"):
                labels.setdefault(_norm(label), (group, option))
            words = _norm(option.name).split()
            if len(words) > 1 and words[-1] in shared:  # "oat" for Oat milk, "vanilla"
                labels.setdefault(" ".join(words[:-1]), (group, option))
    return labels


def _size_of(item: MenuItem, word: str) -> str | None:
    for s in item.sizes:
        if word in (s.id, _norm(s.name)):
            return s.id
    return SIZE_WORDS.get(word)


def _unplaced(words: list[str], placed: list[bool]) -> list[str]:
    """The caller's words nothing took (fillers aside), in the order they were said."""
    return [w for w, p in zip(words, placed, strict=True) if not p and w not in FILLER]


def _take_options(
    item: MenuItem, words: list[str], placed: list[bool]
) -> list[tuple[OptionGroup, Option]]:
    labels = _option_labels(item)
    found: list[tuple[int, tuple[OptionGroup, Option]]] = []
    for i, j in _spans(words):
        if any(placed[i:j]):
            continue
        span = words[i:j]
        key = " ".join(span)
        if key in labels:
            found.append((i, labels[key]))
            placed[i:j] = [True] * (j - i)
            continue
        for single in _singular(span[-1]):
            plural = " ".join([*span[:-1], single])
            if plural in labels:  # "extra shots": a line takes each option once
                _, option = labels[plural]
                raise Refusal(
                    f"'{key}': {item.name} takes one {option.name} per item. Ask the caller "
                    "whether one is right, or add the rest as a kitchen note."
                )
    return [pick for _, pick in sorted(found, key=lambda f: f[0])]


def _take_note(words: list[str], placed: list[bool]) -> str:
    """"no tomato", "without ice", "hold the mayo", "extra hot", "well done": a kitchen note
    runs from its first word to the next placed word or connector."""
    parts: list[str] = []
    i = 0
    while i < len(words):
        if placed[i] or words[i] not in NOTE_STARTS or words[i - 1:i + 1] == ["as", "well"]:
            i += 1  # "a latte as well": filler, not a note for the kitchen
            continue
        j = i + 1
        while j < len(words) and not placed[j] and words[j] not in NOTE_ENDS:
            j += 1
        if j - i > 1 or words[i] == "well":
            parts.append(" ".join(words[i:j]))
            placed[i:j] = [True] * (j - i)
        i = j
    return ", ".join(parts)


def _take_quantity(
    words: list[str], placed: list[bool], before: int
) -> tuple[int | None, bool]:
    """A count said before the item: "2", "two", "a", "a couple of", "half a dozen";
    and whether it was only an article."""
    quantity = None
    article = False
    i = 0
    while i < before:
        if placed[i]:
            i += 1
            continue
        for phrase, value in QUANTITY_PHRASES.items():
            if tuple(words[i:i + len(phrase)]) == phrase and i + len(phrase) <= before:
                if phrase in (("a",), ("an",)) and quantity is not None:
                    break  # "2 with a ..." - the article is filler
                if phrase == ("dozen",) and quantity is not None and not article:
                    quantity *= 12  # "two dozen", "a couple dozen"
                elif quantity is None:
                    quantity, article = value, phrase in ARTICLES
                placed[i:i + len(phrase)] = [True] * len(phrase)
                i += len(phrase) - 1
                break
        else:
            if words[i].isdigit():
                if quantity is not None and not article and quantity != int(words[i]):
                    raise Refusal(
                        f"Two different quantities were said ({quantity} and {words[i]}). "
                        "Ask the caller how many they want."
                    )
                quantity, article = int(words[i]), False
                placed[i] = True
        i += 1
    return quantity, article


def _offered(item: MenuItem) -> str:
    """The item's options as the model may read them to the caller: sold-out ones left out."""
    return "; ".join(f"{g.name}: {', '.join(o.name for o in g.options if o.available)}"
                     for g in item.option_groups)


def _refuse_unplaced(menu: Menu, item: MenuItem | None, phrase: str, left: list[str]) -> None:
    other = find_item_span(menu, left) if item is not None else None
    if other is not None and other[2].id != item.id:  # type: ignore[union-attr]
        raise Refusal(
            f"'{phrase}' names more than one item ({item.name} and "  # type: ignore[union-attr]
            f"{other[2].name}). Add one item per add_item call."
        )
    words = ", ".join(f"'{w}'" for w in left)
    offered = ""
    if item is not None and item.option_groups:
        offered = f" Options for {item.name}: {_offered(item)}."
    raise Refusal(
        f"I could not place {words} from '{phrase}'.{offered} Ask the caller what they meant "
        "by it; pass a kitchen note (e.g. 'no tomato') as special_instructions."
    )


def parse_item_phrase(menu: Menu, phrase: str) -> Said:
    """Every word of `phrase` placed, or a Refusal naming the words that could not be."""
    words = _words(phrase)
    span = find_item_span(menu, words)
    if span is None:
        hints = menu.suggestions(phrase)
        hint = f" Closest matches: {', '.join(hints)}." if hints else ""
        raise Refusal(f"'{phrase}' is not on our menu.{hint} Ask the caller what they'd like.")
    start, end, item = span
    placed = [False] * len(words)
    placed[start:end] = [True] * (end - start)
    said = Said(item=item)
    said.options = _take_options(item, words, placed)
    for i, w in enumerate(words):
        if placed[i]:
            continue
        size = _size_of(item, w)
        if size is not None:
            if said.size_id not in (None, size):
                raise Refusal(f"Two sizes were said in '{phrase}'. Ask which size they want.")
            said.size_id = size
            placed[i] = True
    said.note = _take_note(words, placed)
    said.quantity, said.quantity_is_article = _take_quantity(words, placed, before=start)
    left = _unplaced(words, placed)
    if left:
        _refuse_unplaced(menu, item, phrase, left)
    return said


def parse_option_phrases(item: MenuItem, phrases: list[str]) -> tuple[
    list[tuple[OptionGroup, Option]], str
]:
    """Options as passed in the `options` list ("oat milk", "an extra shot", "no foam"):
    each one placed as an option or a kitchen note, or refused naming what is left."""
    picks: list[tuple[OptionGroup, Option]] = []
    notes: list[str] = []
    for phrase in phrases:
        words = _words(phrase)
        placed = [False] * len(words)
        picks += _take_options(item, words, placed)
        note = _take_note(words, placed)
        left = _unplaced(words, placed)
        if left or not any(placed):
            offered = _offered(item) or "none"
            named = ", ".join(f"'{w}'" for w in left) if left else f"'{phrase}'"
            raise Refusal(
                f"{item.name} has no option {named}. Options offered: {offered}. Ask the "
                "caller which they want; a kitchen note goes in special_instructions."
            )
        if note:
            notes.append(note)
    return picks, ", ".join(notes)
