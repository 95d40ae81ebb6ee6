"""Order phrasings generated from the menu file, each with what the caller meant.

item x size x options x quantity (digits, words, articles) x filler x singular/plural x
spoken variants (size synonyms, "oat" for oat milk, options before or after the item, in
the phrase or in the tool's own arguments), and optionally a word that is not on the menu
(the tool must then refuse and name it). An option sold out today may be picked too: the
tool must then refuse naming it (the case lists it in `sold_out`).
Used by the property test and bench/phrases.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from domain.item_phrase import SIZE_WORDS
from models import MenuItem

NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve"]
OPENERS = ["", "can I get", "I'd like", "could I have", "let me get", "I'll have", "um,",
           "give me"]
CLOSERS = ["", "please", "thanks", "to go please"]
NOTES = ["no foam", "extra hot", "no ice", "on the side", "without onions", "well done",
         "light ice"]
JUNK = ["ketchup", "purple", "unicorn", "marshmallow", "jalapeno", "pickled", "wasabi"]


@dataclass
class Case:
    phrase: str
    kwargs: dict[str, Any]
    item_id: str
    quantity: int
    size: str | None
    option_ids: set[tuple[str, str]]
    note: str = ""
    junk: list[str] = field(default_factory=list)
    sold_out: list[str] = field(default_factory=list)  # options said that are sold out today

    def said(self) -> str:
        extra = f" {self.kwargs}" if self.kwargs else ""
        return f"'{self.phrase}'{extra}"


def plural(label: str) -> str:
    words = label.split()
    last = words[-1]
    if last.endswith(("s", "sh", "ch", "x", "z")):
        last += "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return " ".join([*words[:-1], last])


def _option_said(rng: random.Random, group_name: str, option_name: str) -> str:
    words = option_name.lower().split()
    if len(words) > 1 and words[-1] == group_name.lower() and rng.random() < 0.4:
        return " ".join(words[:-1])  # "oat" for Oat milk
    return option_name.lower()


def make_case(rng: random.Random, items: list[MenuItem], junk: bool = False) -> Case:
    item = rng.choice([i for i in items if i.available])
    label = rng.choice([item.name, *item.aliases]).lower()
    quantity = rng.choice([1, 1, 1, 2, 2, 3, 4, 6, 12])
    kwargs: dict[str, Any] = {}
    # how the count is said
    if quantity == 1:
        count = rng.choice(["", "a", "one", "1"])
        if count == "a" and label[0] in "aeiou":
            count = "an"
    else:
        count = rng.choice([str(quantity), NUMBER_WORDS[quantity - 1],
                            *(["a couple of"] if quantity == 2 else []),
                            *(["half a dozen"] if quantity == 6 else []),
                            *(["a dozen"] if quantity == 12 else []), "KWARG"])
        if count == "KWARG":
            kwargs["quantity"] = rng.choice([quantity, NUMBER_WORDS[quantity - 1]])
            count = ""
        if rng.random() < 0.7:
            label = plural(label)
    # size: by name, by a synonym, or in the size argument
    size = None
    size_words: list[str] = []
    if item.sizes and rng.random() < 0.7:
        size = rng.choice(item.sizes).id
        synonyms = [w for w, s in SIZE_WORDS.items() if s == size]
        said_size = rng.choice([size, *synonyms])
        if rng.random() < 0.25:
            kwargs["size"] = said_size
        else:
            size_words = [said_size]
    # options: respecting each group's picks
    picks: list[tuple[str, str]] = []
    said_options: list[str] = []
    sold_out: list[str] = []
    for group in item.option_groups:
        count_picks = rng.randint(group.min_picks, min(group.max_picks, 2))
        for option in rng.sample(group.options, count_picks):
            picks.append((group.id, option.id))
            said_options.append(_option_said(rng, group.name, option.name))
            if not option.available:
                sold_out.append(option.name)
    before: list[str] = []
    after: list[str] = []
    in_kwargs: list[str] = []
    for said in said_options:
        where = rng.random()
        if where < 0.25:
            before.append(said)
        elif where < 0.8:
            after.append(said)
        else:
            in_kwargs.append(said)
    if in_kwargs:
        kwargs["options"] = in_kwargs
    note = rng.choice(NOTES) if rng.random() < 0.2 else ""
    parts = [rng.choice(OPENERS), count, *size_words, *before, label]
    if after:
        parts.append("with " + " and ".join(after))
    if note:
        parts.append(", " + note)
    parts.append(rng.choice(CLOSERS))
    junk_words: list[str] = []
    if junk:
        word = rng.choice(JUNK)
        junk_words.append(word)
        slot = rng.randrange(1, len(parts) + 1)  # between whole parts, never inside a name
        parts.insert(slot, word)
    phrase = " ".join(p for p in parts if p).replace(" ,", ",").strip(", ")
    return Case(
        phrase=phrase, kwargs=kwargs, item_id=item.id, quantity=quantity,
        size=size or item.default_size, option_ids=set(picks), note=note, junk=junk_words,
        sold_out=sold_out,
    )
