"""Menu files (YAML or JSON): parse, validate the whole file, and plan the Firestore changes.

Staff edit these files by hand, so every problem is reported at once and points at the item
id, the field and the line, e.g.
``data/menu.yaml: item 'latte' (items[3]) field 'price_cents': must be greater than 0 (line 57)``.
Nothing here touches Firestore; `scripts/seed_menu.py` applies the plan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from domain import diet
from models import MENU, SETTINGS_DOC, MenuItem, RestaurantSettings

Path_ = tuple[str | int, ...]

TOP_LEVEL_KEYS = ("restaurant", "items")


# ---------------------------------------------------------------- problems


@dataclass(frozen=True)
class MenuProblem:
    source: str
    message: str
    where: str = ""  # "item 'latte' (items[3])", "restaurant", ""
    field: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = f"{self.source}:"
        if self.where:
            text += f" {self.where}"
        if self.field:
            text += f" field '{self.field}'"
        text += f": {self.message}" if (self.where or self.field) else f" {self.message}"
        if self.line is not None:
            text += f" (line {self.line}" + (
                f", column {self.column})" if self.column is not None else ")"
            )
        return text


class MenuFileError(Exception):
    def __init__(self, problems: list[MenuProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class MenuFile:
    source: str
    restaurant: RestaurantSettings
    items: list[MenuItem]


# ---------------------------------------------------------------- loading


def load_menu_file(path: Path | str) -> MenuFile:
    """Parse and validate; raises MenuFileError listing every problem found."""
    path = Path(path)
    source = str(path)
    fmt = _format_of(path)
    if fmt is None:
        raise MenuFileError([MenuProblem(
            source, "unsupported file type; use .yaml, .yml or .json")])
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MenuFileError([MenuProblem(source, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise MenuFileError([MenuProblem(source, f"cannot read the file: {e}")]) from None
    return parse_menu_text(text, source=source, fmt=fmt)


def parse_menu_text(text: str, *, source: str, fmt: Literal["yaml", "json"]) -> MenuFile:
    data, lines, problems = _parse(text, source, fmt)
    if problems:
        raise MenuFileError(problems)
    checker = _Checker(source, lines)
    menu = checker.check(data)
    if checker.problems or menu is None:
        raise MenuFileError(checker.problems)
    return menu


def _format_of(path: Path) -> Literal["yaml", "json"] | None:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".json":
        return "json"
    return None


def _parse(
    text: str, source: str, fmt: Literal["yaml", "json"]
) -> tuple[Any, dict[Path_, int], list[MenuProblem]]:
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            return None, {}, [MenuProblem(source, f"JSON syntax error: {e.msg}",
                                          line=e.lineno, column=e.colno)]
        try:  # JSON is (nearly) YAML, so the YAML composer gives us line numbers too
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return data, {}, []
        lines, dupes = _line_map(node)
        return data, lines, [_dupe_problem(source, d) for d in dupes]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = {"line": mark.line + 1, "column": mark.column + 1} if mark else {}
        problem = " ".join(p for p in (e.context, e.problem) if p) or "invalid YAML"
        return None, {}, [MenuProblem(source, f"YAML syntax error: {problem}", **where)]
    except yaml.YAMLError as e:
        return None, {}, [MenuProblem(source, f"YAML syntax error: {e}")]
    lines, dupes = _line_map(node)
    return data, lines, [_dupe_problem(source, d) for d in dupes]


def _line_map(node: yaml.Node | None) -> tuple[dict[Path_, int], list[tuple[Path_, int]]]:
    """1-based line of every path in the document, plus keys given twice in one mapping."""
    lines: dict[Path_, int] = {}
    dupes: list[tuple[Path_, int]] = []

    def walk(n: yaml.Node, path: Path_) -> None:
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in n.value:
                name = str(key.value)
                if name in seen:
                    dupes.append(((*path, name), key.start_mark.line + 1))
                seen.add(name)
                lines[(*path, name)] = key.start_mark.line + 1
                walk(value, (*path, name))
                lines[(*path, name)] = key.start_mark.line + 1  # the key, not its value
        elif isinstance(n, yaml.SequenceNode):
            for i, child in enumerate(n.value):
                walk(child, (*path, i))

    if node is not None:
        walk(node, ())
    return lines, dupes


def _dupe_problem(source: str, dupe: tuple[Path_, int]) -> MenuProblem:
    path, line = dupe
    return MenuProblem(source, f"key '{path[-1]}' appears twice; only one is allowed",
                       where=_render(path[:-1]) or "top level", line=line)


def _render(path: Path_) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


# ---------------------------------------------------------------- validation

_SHOULD = re.compile(r"^(Input|List|String|Value|Dictionary|Object) should\b")
# Model-level validator messages name the field they are about in their first words.
_ITEM_FIELD_HINTS = (
    ("default_size", "default_size"), ("duplicate size ids", "sizes"), ("size ", "sizes"),
    ("duplicate option group ids", "option_groups"),
)
_GROUP_FIELD_HINTS = (
    ("min_picks", "min_picks"), ("max_picks", "max_picks"), ("duplicate option ids", "options"),
)


def _say(err: dict[str, Any]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field (check the spelling)"
    if kind == "value_error":
        return str(ctx.get("error") or err["msg"].removeprefix("Value error, "))
    msg = _SHOULD.sub("must", err["msg"])
    return msg.removesuffix(" after validation, not 0")


class _Checker:
    def __init__(self, source: str, lines: dict[Path_, int]) -> None:
        self.source = source
        self.lines = lines
        self.problems: list[MenuProblem] = []

    def check(self, data: Any) -> MenuFile | None:
        if not isinstance(data, dict):
            self._add("the file must be a mapping with 'restaurant:' and 'items:'", path=())
            return None
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                self._add(f"unknown top-level key '{key}'; expected {list(TOP_LEVEL_KEYS)}",
                          path=(key,))
        restaurant = self._restaurant(data.get("restaurant"))
        items = self._items(data.get("items"))
        if self.problems or restaurant is None or items is None:
            return None
        return MenuFile(self.source, restaurant, items)

    def _restaurant(self, raw: Any) -> RestaurantSettings | None:
        if raw is None:
            self._add("missing 'restaurant:' settings (name, timezone, hours, tax_rate, ...)",
                      path=())
            return None
        if not isinstance(raw, dict):
            self._add("must be a mapping of settings", where="restaurant", path=("restaurant",))
            return None
        return self._validate(RestaurantSettings, raw, "restaurant", ("restaurant",))

    def _items(self, raw: Any) -> list[MenuItem] | None:
        if raw is None:
            self._add("missing 'items:' (the list of menu items)", path=())
            return None
        if not isinstance(raw, list) or not raw:
            self._add("must be a non-empty list of menu items", where="items", path=("items",))
            return None
        items: list[MenuItem] = []
        first_at: dict[str, int] = {}
        for i, entry in enumerate(raw):
            path: Path_ = ("items", i)
            item_id = entry.get("id") if isinstance(entry, dict) else None
            where = f"item '{item_id}' ({_render(path)})" if item_id else f"item {_render(path)}"
            if not isinstance(entry, dict):
                self._add("must be a mapping with id, name, category, price_cents, ...",
                          where=where, path=path)
                continue
            if isinstance(item_id, str) and item_id in first_at:
                j = first_at[item_id]
                line = self.lines.get(("items", j, "id"))
                self._add(f"duplicate id; already used by items[{j}]"
                          + (f" on line {line}" if line else ""),
                          where=where, field_="id", path=(*path, "id"))
            elif isinstance(item_id, str):
                first_at[item_id] = i
            item = self._validate(MenuItem, entry, where, path)
            if item is not None:
                for loc, message in diet.menu_problems(item):
                    self._add(message, where=where, field_=_render(loc), path=path + loc)
                items.append(item)
        return items

    def _validate(self, model: type[BaseModel], raw: dict[str, Any], where: str,
                  path: Path_) -> Any:
        try:
            return model.model_validate(raw)
        except ValidationError as e:
            for err in e.errors():
                loc = tuple(err["loc"])
                if model is MenuItem and _is_group_level(loc, err):
                    continue  # the group validator stops at its first problem; ours list all
                message = _say(err)
                loc, message = self._refine(model, raw, loc, message)
                self._add(message, where=where, field_=_render(loc) or None, path=path + loc)
            if model is MenuItem:
                for loc, message in _group_problems(raw.get("option_groups")):
                    self._add(message, where=where, field_=_render(loc), path=path + loc)
            return None

    @staticmethod
    def _refine(model: type[BaseModel], raw: dict[str, Any], loc: Path_,
                message: str) -> tuple[Path_, str]:
        """Point model-level errors (no field in `loc`) at the field they are about."""
        if model is RestaurantSettings:
            return _refine_seating(raw, loc, message)
        if model is MenuItem and not loc:
            for prefix, name in _ITEM_FIELD_HINTS:
                if message.startswith(prefix):
                    return (name,), message
        if model is MenuItem and len(loc) == 2 and loc[0] == "option_groups":
            group = _nth(raw.get("option_groups"), loc[1])
            gid = group.get("id") if isinstance(group, dict) else None
            for prefix, name in _GROUP_FIELD_HINTS:
                if message.startswith(prefix):
                    loc = (*loc, name)
                    break
            if gid:
                message = f"group '{gid}': {message}"
        if model is MenuItem and len(loc) == 3 and loc[0] == "option_groups" and loc[2] == (
            "options"
        ) and message.startswith("must have at least 1"):
            group = _nth(raw.get("option_groups"), loc[1]) or {}
            required = " but is required" if group.get("required") else ""
            message = f"group '{group.get('id', '?')}' offers no options{required}"
        return loc, message

    def _add(self, message: str, *, where: str = "", field_: str | None = None,
             path: Path_) -> None:
        self.problems.append(MenuProblem(self.source, message, where=where, field=field_,
                                         line=self._line(path)))

    def _line(self, path: Path_) -> int | None:
        # A missing field has no line of its own: use its nearest parent that exists.
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None


def _refine_seating(raw: dict[str, Any], loc: Path_, message: str) -> tuple[Path_, str]:
    """Seating problems name the table by its id, as staff call it."""
    if not loc and message.startswith("max_party_size"):
        return ("max_party_size",), message
    if len(loc) >= 3 and loc[:2] == ("seating", "tables") and isinstance(loc[2], int):
        seating = raw.get("seating") if isinstance(raw.get("seating"), dict) else {}
        table = _nth(seating.get("tables"), loc[2])
        tid = table.get("id") if isinstance(table, dict) else None
        if tid:
            message = f"table '{tid}': {message}"
    return loc, message


def _is_group_level(loc: Path_, err: dict[str, Any]) -> bool:
    return len(loc) == 2 and loc[0] == "option_groups" and err["type"] == "value_error"


def _group_problems(groups: Any) -> list[tuple[Path_, str]]:
    """Every cross-field problem of every option group (pydantic reports only the first)."""
    found: list[tuple[Path_, str]] = []
    if not isinstance(groups, list):
        return found
    for g, group in enumerate(groups):
        if not isinstance(group, dict):
            continue
        loc: Path_ = ("option_groups", g)
        name = f"group '{group.get('id', '?')}'"
        options = group.get("options") if isinstance(group.get("options"), list) else []
        lo, hi = group.get("min_picks", 0), group.get("max_picks", 1)
        if group.get("required") and isinstance(lo, int) and lo < 1:
            lo = 1
        if isinstance(lo, int) and isinstance(hi, int):
            if lo > hi:
                found.append(((*loc, "min_picks"),
                              f"{name}: min_picks {lo} exceeds max_picks {hi}"))
            if options and hi > len(options):
                found.append(((*loc, "max_picks"),
                              f"{name}: max_picks {hi} exceeds the {len(options)} options offered"))
        ids = [o.get("id") for o in options if isinstance(o, dict)]
        dupes = sorted({str(i) for i in ids if ids.count(i) > 1})
        if dupes:
            found.append(((*loc, "options"), f"{name}: duplicate option ids {dupes}"))
    return found


def _nth(value: Any, index: Any) -> Any:
    if isinstance(value, list) and isinstance(index, int) and 0 <= index < len(value):
        return value[index]
    return None


# ---------------------------------------------------------------- planning changes

ChangeKind = Literal["added", "changed", "unchanged", "unavailable"]


@dataclass(frozen=True)
class DocChange:
    path: str  # Firestore document path, e.g. "menu_items/latte"
    kind: ChangeKind
    fields: list[str] = field(default_factory=list)
    doc: dict[str, Any] | None = None  # what to write
    partial: bool = False  # True: update these fields only; False: replace the whole doc

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[1]

    @property
    def is_write(self) -> bool:
        return self.kind != "unchanged"


@dataclass(frozen=True)
class SeedPlan:
    changes: list[DocChange]

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def writes(self) -> list[DocChange]:
        return [c for c in self.changes if c.is_write]

    def summary(self) -> str:
        return (f"{self.count('added')} added, {self.count('changed')} changed, "
                f"{self.count('unchanged')} unchanged, "
                f"{self.count('unavailable')} marked unavailable")


def changed_fields(current: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(current) | set(wanted) if current.get(k) != wanted.get(k))


def plan_seed(
    menu: MenuFile,
    current_items: dict[str, dict[str, Any]],
    current_settings: dict[str, Any] | None,
    *,
    prune: bool = False,
) -> SeedPlan:
    """What writing `menu` over the current Firestore state would change (full-doc upserts)."""
    changes = [_plan_doc(SETTINGS_DOC, current_settings, menu.restaurant.to_doc())]
    for item in menu.items:
        current = current_items.get(item.id)
        wanted = item.to_doc()
        if current is not None and "available" not in item.model_fields_set:
            # A price edit must not undo today's --sold-out: only an explicit
            # `available:` in the file overrides what staff set for the day.
            wanted["available"] = current.get("available", True)
        changes.append(_plan_doc(f"{MENU}/{item.id}", current, wanted))
    if prune:
        listed = {i.id for i in menu.items}
        for item_id in sorted(set(current_items) - listed):
            if current_items[item_id].get("available", True) is not False:
                changes.append(DocChange(f"{MENU}/{item_id}", "unavailable",
                                         ["available"], {"available": False}, partial=True))
    return SeedPlan(changes)


def _plan_doc(path: str, current: dict[str, Any] | None, wanted: dict[str, Any]) -> DocChange:
    if current is None:
        return DocChange(path, "added", sorted(wanted), wanted)
    diff = changed_fields(current, wanted)
    return DocChange(path, "changed", diff, wanted) if diff else DocChange(path, "unchanged")


def plan_availability(
    current_items: dict[str, dict[str, Any]], ids: Iterable[str], available: bool
) -> SeedPlan:
    """Flip `available` on existing items; check `unknown_ids` first (KeyError otherwise)."""
    changes = []
    for item_id in ids:
        path = f"{MENU}/{item_id}"
        if current_items[item_id].get("available", True) == available:
            changes.append(DocChange(path, "unchanged"))
        else:
            changes.append(DocChange(path, "changed", ["available"], {"available": available},
                                     partial=True))
    return SeedPlan(changes)


def unknown_ids(current_items: dict[str, Any], ids: Iterable[str]) -> list[str]:
    return [i for i in ids if i not in current_items]

