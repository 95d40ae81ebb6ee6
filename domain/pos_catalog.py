"""Square's Catalog as our menu file's items (pure: Square's objects in, menu-file dicts out).

* ITEM -> item; its ITEM_VARIATIONs -> sizes (the cheapest is the item's price, the others a
  price difference); one variation -> no sizes.
* MODIFIER_LIST attached to the item -> option group: `min_selected_modifiers` >= 1 makes it
  required, `max_selected_modifiers` -1 (no limit) becomes the number of options, a SINGLE list
  without a maximum allows one; each MODIFIER -> option with its price.
* Prices in cents. Sold out at the location (every variation's `location_overrides.sold_out`)
  -> `available: false`; an item not offered at the location is left out.
* Ids stay stable across imports: `previous` maps each Square object id to the id we gave it
  before, so a renamed item keeps its id and past orders keep their meaning. New objects get a
  slug of their name, never one already taken.

What cannot be mapped is a problem naming the object (an item without a price, a discount
modifier, a free-text modifier list, a list the catalog does not hold); the caller decides to
write nothing then.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ImportedMenu:
    items: list[dict[str, Any]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # Square object id -> our id
    problems: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # our item ids imported before, gone now
    # our item id -> {"variations": {size id or "": Square variation id},
    #                 "modifiers": {"group/option": Square modifier id}}: orders go back to
    # Square by catalog id (actions/pos.py)
    catalog: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def id_map(self) -> dict[str, Any]:
        """What the import keeps beside the menu file (`<menu>.square-ids.json`)."""
        return {"square_ids": self.ids, "catalog": self.catalog}


def read_id_map(data: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """(Square id -> our id, our item -> catalog ids) from a saved id map."""
    if "square_ids" in data:
        return dict(data["square_ids"]), dict(data.get("catalog") or {})
    return dict(data), {}


def slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "item"


class _Ids:
    def __init__(self, previous: dict[str, str]) -> None:
        self.previous = previous
        self.given: dict[str, str] = {}

    def of(self, square_id: str, name: str, taken: set[str]) -> str:
        our = self.previous.get(square_id)
        if our is None or our in taken:
            base, n, our = slug(name), 2, slug(name)
            while our in taken:
                our, n = f"{base}-{n}", n + 1
        taken.add(our)
        self.given[square_id] = our
        return our


def _offered_at(obj: dict[str, Any], location: str) -> bool:
    if location in (obj.get("absent_at_location_ids") or []):
        return False
    return bool(obj.get("present_at_all_locations", True)) or location in (
        obj.get("present_at_location_ids") or [])


def _sold_out(variation: dict[str, Any], location: str) -> bool:
    overrides = (variation.get("item_variation_data") or {}).get("location_overrides") or []
    return any(o.get("location_id") == location and o.get("sold_out") for o in overrides)


def _category(item: dict[str, Any], names: dict[str, str]) -> str:
    data = item.get("item_data") or {}
    ids = [c.get("id") for c in data.get("categories") or []] + [data.get("category_id")]
    return next((slug(names[i]) for i in ids if i in names), "menu")


def _sizes(item: dict[str, Any], where: str, ids: _Ids, problems: list[str]
           ) -> tuple[int, list[dict[str, Any]]] | None:
    variations = (item.get("item_data") or {}).get("variations") or []
    priced = []
    for v in variations:
        vd = v.get("item_variation_data") or {}
        amount = (vd.get("price_money") or {}).get("amount")
        if vd.get("pricing_type") == "VARIABLE_PRICING" or not isinstance(amount, int) \
                or amount <= 0:
            problems.append(f"{where}: variation '{vd.get('name', v.get('id'))}' ({v.get('id')})"
                            " has no price; set a fixed price in Square")
            continue
        priced.append((v, vd.get("name") or "Regular", amount))
    if len(priced) != len(variations) or not priced:
        if not variations:
            problems.append(f"{where}: has no variations, so no price")
        return None
    base = min(p for _, _, p in priced)
    if len(priced) == 1:
        return base, []
    taken: set[str] = set()
    return base, [{"id": ids.of(v["id"], name, taken), "name": name,
                   "price_delta_cents": amount - base} for v, name, amount in priced]


def _group(info: dict[str, Any], lists: dict[str, dict[str, Any]], where: str, ids: _Ids,
           taken: set[str], problems: list[str], square_ids: dict[str, str]
           ) -> dict[str, Any] | None:
    """The option group, or None (a problem named); `square_ids` gets "group/option" ->
    Square modifier id."""
    lid = info.get("modifier_list_id", "")
    mlist = lists.get(lid)
    if mlist is None:
        problems.append(f"{where}: modifier list {lid} is not in the catalog")
        return None
    data = mlist.get("modifier_list_data") or {}
    name = data.get("name") or lid
    if data.get("modifier_type") == "TEXT":
        problems.append(f"{where}: modifier list '{name}' ({lid}) takes free text, which a "
                        "phone order cannot map to options")
        return None
    options, option_ids = [], set()
    for m in data.get("modifiers") or []:
        md = m.get("modifier_data") or {}
        cents = (md.get("price_money") or {}).get("amount", 0)
        if not isinstance(cents, int) or cents < 0:
            problems.append(f"{where}: modifier '{md.get('name')}' ({m.get('id')}) in list "
                            f"'{name}' has a negative price (a discount); we cannot map it")
            return None
        options.append({"id": ids.of(m["id"], md.get("name") or m["id"], option_ids),
                        "name": md.get("name") or m["id"], "price_delta_cents": cents})
    lo = max(int(info.get("min_selected_modifiers", -1)), 0)
    hi = int(info.get("max_selected_modifiers", -1))
    if hi < 0:
        hi = 1 if data.get("selection_type", "SINGLE") == "SINGLE" else len(options)
    group_id = ids.of(lid, name, taken)
    for option, m in zip(options, data.get("modifiers") or [], strict=True):
        square_ids[f"{group_id}/{option['id']}"] = m["id"]
    return {"id": group_id, "name": name, "required": lo >= 1,
            "min_picks": lo, "max_picks": hi, "options": options}


def _catalog_ids(item: dict[str, Any], sizes: list[dict[str, Any]],
                 modifiers: dict[str, str]) -> dict[str, dict[str, str]]:
    variations = (item.get("item_data") or {}).get("variations") or []
    by_size = ({size["id"]: v["id"] for size, v in zip(sizes, variations, strict=True)}
               if sizes else {"": variations[0]["id"]})
    return {"variations": by_size, "modifiers": modifiers}


def import_catalog(objects: list[dict[str, Any]], location: str,
                   previous: dict[str, str] | None = None) -> ImportedMenu:
    previous = previous or {}
    ids, out = _Ids(previous), ImportedMenu()
    names = {o["id"]: (o.get("category_data") or {}).get("name", "") for o in objects
             if o.get("type") == "CATEGORY"}
    lists = {o["id"]: o for o in objects if o.get("type") == "MODIFIER_LIST"}
    items = [o for o in objects if o.get("type") == "ITEM" and not o.get("is_deleted")]
    item_ids: set[str] = set()
    imported_items: set[str] = set()
    for item in items:
        data = item.get("item_data") or {}
        if not _offered_at(item, location):
            continue
        where = f"item '{data.get('name', '?')}' ({item['id']})"
        sized = _sizes(item, where, ids, out.problems)
        groups, group_ids, modifier_ids = [], set(), {}
        for info in data.get("modifier_list_info") or []:
            if info.get("enabled", True) is False:
                continue
            group = _group(info, lists, where, ids, group_ids, out.problems, modifier_ids)
            if group is not None:
                groups.append(group)
        if sized is None:
            continue
        price, sizes = sized
        variations = data.get("variations") or []
        entry: dict[str, Any] = {
            "id": ids.of(item["id"], data.get("name") or item["id"], item_ids),
            "name": data.get("name") or item["id"], "category": _category(item, names),
            "price_cents": price, "description": data.get("description") or "",
            "available": not all(_sold_out(v, location) for v in variations),
        }
        if sizes:
            entry["sizes"], entry["default_size"] = sizes, sizes[0]["id"]
        if groups:
            entry["option_groups"] = groups
        out.items.append(entry)
        out.catalog[entry["id"]] = _catalog_ids(item, sizes, modifier_ids)
        imported_items.add(item["id"])
        ids.given[f"item:{item['id']}"] = entry["id"]
    out.ids = ids.given
    out.dropped = sorted(previous[f"item:{sid}"] for sid in previous_items(previous)
                         if sid not in imported_items)
    return out


def previous_items(previous: dict[str, str]) -> set[str]:
    """The Square ids of items in an id map (sizes, groups and options are not items)."""
    return {sid.removeprefix("item:") for sid in previous if sid.startswith("item:")}
