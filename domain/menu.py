"""The live menu as an immutable snapshot: lookup by id, name, alias or what was heard."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from domain.refusal import Refusal
from models import MenuItem, Option, OptionGroup, RestaurantSettings

SIZE_WORDS = {
    "small": "small", "short": "small", "little": "small", "regular": "medium",
    "medium": "medium", "large": "large", "big": "large", "tall": "large",
}
FILLER = {"a", "an", "the", "one", "some", "please", "of", "with", "i'd", "like", "can", "get"}
FUZZY_CUTOFF = 80


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]+", " ", text.lower().replace("-", " ")).strip()


@dataclass(frozen=True)
class Heard:
    """What was matched in a phrase: the item and any size word said with it."""

    item: MenuItem
    size_id: str | None


class Menu:
    """Never mutated: the listener swaps in a new one, so a turn sees one consistent menu."""

    def __init__(self, items: Iterable[MenuItem]) -> None:
        self.items: dict[str, MenuItem] = {i.id: i for i in items}
        self._names: dict[str, str] = {}  # normalised name/alias/id -> item id
        for item in self.items.values():
            for label in (item.id, item.name, *item.aliases):
                self._names.setdefault(_norm(label), item.id)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, item_id: str) -> MenuItem | None:
        return self.items.get(item_id)

    def hear(self, phrase: str) -> Heard | None:
        """Match a phrase such as "a large cap" to (Cappuccino, large)."""
        words = _norm(phrase).split()
        size_id = next((SIZE_WORDS[w] for w in words if w in SIZE_WORDS), None)
        core = " ".join(w for w in words if w not in SIZE_WORDS and w not in FILLER)
        for candidate in (_norm(phrase), core):
            if candidate in self._names:
                return Heard(self.items[self._names[candidate]], size_id)
        if not core:
            return None
        best = process.extractOne(core, list(self._names), scorer=fuzz.WRatio)
        if best is None or best[1] < FUZZY_CUTOFF:
            return None
        return Heard(self.items[self._names[best[0]]], size_id)

    def suggestions(self, phrase: str, limit: int = 3) -> list[str]:
        found = process.extract(_norm(phrase), list(self._names), scorer=fuzz.WRatio, limit=10)
        names: list[str] = []
        for label, _score, _ in found:
            item = self.items[self._names[label]]
            if item.available and item.name not in names:
                names.append(item.name)
        return names[:limit]

    def alternatives(self, item: MenuItem, limit: int = 3) -> list[str]:
        return [
            i.name for i in self.items.values()
            if i.category == item.category and i.available and i.id != item.id
        ][:limit]

    def require(self, phrase: str) -> Heard:
        """The available item the caller means, or a Refusal that says what to ask."""
        heard = self.hear(phrase)
        if heard is None:
            hints = self.suggestions(phrase)
            hint = f" Closest matches: {', '.join(hints)}." if hints else ""
            raise Refusal(f"'{phrase}' is not on our menu.{hint} Ask the caller what they'd like.")
        if not heard.item.available:
            alts = self.alternatives(heard.item)
            offer = f" Offer instead: {', '.join(alts)}." if alts else ""
            raise Refusal(f"{heard.item.name} is sold out today.{offer}")
        return heard

    def matching(self, query: str) -> list[MenuItem]:
        """Items whose category, dietary tag or allergen is named in the query ("vegan", "nuts")."""
        q = _norm(query)
        if not q:
            return []

        def named(label: str) -> bool:
            label = _norm(label)
            return bool(label) and (label in q or q in label)

        return [
            i for i in self.items.values()
            if named(i.category) or any(named(t) for t in (*i.dietary, *i.allergens))
        ]

    def prompt_text(self) -> str:
        """Compact menu for the LLM: names, sizes and choices; no prices or descriptions."""
        by_category: dict[str, list[str]] = {}
        for item in self.items.values():
            if not item.available:
                continue
            extras = []
            if item.sizes:
                extras.append("/".join(s.id for s in item.sizes))
            extras += [g.name + ("*" if g.min_picks else "") for g in item.option_groups]
            label = item.name + (f" ({'; '.join(extras)})" if extras else "")
            by_category.setdefault(item.category, []).append(label)
        sold_out = [i.name for i in self.items.values() if not i.available]
        lines = [f"{cat}: {', '.join(names)}" for cat, names in by_category.items()]
        if sold_out:
            lines.append(f"sold out today: {', '.join(sold_out)}")
        lines.append("(* = a required choice)")
        return "\n".join(lines)


def find_option(item: MenuItem, phrase: str) -> tuple[OptionGroup, Option]:
    """Match a spoken option ("oat milk", "extra shot") to one of the item's option groups."""
    labels: dict[str, tuple[OptionGroup, Option]] = {}
    for group in item.option_groups:
        for option in group.options:
            for label in (option.id, option.name, f"{option.name} {group.name}"):
                labels.setdefault(_norm(label), (group, option))
    key = _norm(phrase)
    if key in labels:
        return labels[key]
    best = process.extractOne(key, list(labels), scorer=fuzz.WRatio) if key else None
    if best is None or best[1] < FUZZY_CUTOFF:
        offered = "; ".join(
            f"{g.name}: {', '.join(o.name for o in g.options)}" for g in item.option_groups
        ) or "none"
        raise Refusal(f"{item.name} has no option '{phrase}'. Options offered: {offered}.")
    return labels[best[0]]


class Catalog:
    """The current menu and restaurant settings of this process, swapped whole on every change.

    The watch thread replaces a reference; readers on the call loop take whichever snapshot is
    current (a single attribute assignment is atomic, so no lock is needed).
    """

    def __init__(self, menu: Menu, settings: RestaurantSettings) -> None:
        self._menu = menu
        self._settings = settings

    @property
    def menu(self) -> Menu:
        return self._menu

    @property
    def settings(self) -> RestaurantSettings:
        return self._settings

    def replace_menu(self, items: Iterable[MenuItem]) -> None:
        self._menu = Menu(items)

    def replace_settings(self, settings: RestaurantSettings) -> None:
        self._settings = settings
