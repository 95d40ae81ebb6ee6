"""Order lines, totals and pickup time, computed from menu prices in integer cents."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain.item_phrase import SIZE_WORDS, Said, parse_item_phrase, parse_option_phrases
from domain.menu import Menu, _norm
from domain.natural import parse_count
from domain.redact import has_card_number
from domain.refusal import Refusal
from models import ChosenOption, MenuItem, Option, OptionGroup, OrderLine

MAX_QUANTITY = 20
MAX_INSTRUCTIONS = 200


def check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise Refusal("Pass quantity as a whole number, e.g. 2. Ask how many they want.")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Refusal(
            f"Quantity {quantity} is not possible: we take 1 to {MAX_QUANTITY} of an item a line. "
            "Ask the caller how many they want."
        )


def _size_for(item: MenuItem, size: str | None) -> str | None:
    if not item.sizes:
        if size and _norm(size) not in {"regular", "one size", "normal", "medium"}:
            raise Refusal(f"{item.name} comes in one size only; no need to ask for a size.")
        return None
    if size is None:
        if item.default_size is None:
            raise Refusal(
                f"Ask which size of {item.name}: {', '.join(s.name for s in item.sizes)}."
            )
        return item.default_size
    wanted = _norm(size).removesuffix(" size").removeprefix("a ")
    for s in item.sizes:
        if wanted in {s.id, s.name.lower()}:
            return s.id
    said = SIZE_WORDS.get(wanted)
    if said is not None and item.size(said) is not None:
        return said
    raise Refusal(
        f"{item.name} has no size '{size}'. Sizes: {', '.join(s.name for s in item.sizes)}."
    )


def _choices(item: MenuItem, picks: list[tuple[OptionGroup, Option]]) -> list[ChosenOption]:
    chosen: list[ChosenOption] = []
    for group, option in picks:
        if not option.available:
            others = [o.name for o in group.options if o.available and o.id != option.id]
            offer = (f"Offer instead: {', '.join(others)}." if others
                     else f"Ask whether they want the {item.name} without it.")
            raise Refusal(f"{option.name} for {item.name} is sold out today. {offer}")
        if any(c.option_id == option.id and c.group_id == group.id for c in chosen):
            continue
        chosen.append(ChosenOption(
            group_id=group.id, option_id=option.id, name=option.name,
            price_delta_cents=option.price_delta_cents,
        ))
    for group in item.option_groups:
        picked = sum(1 for c in chosen if c.group_id == group.id)
        names = ", ".join(o.name for o in group.options if o.available)
        if picked < group.min_picks:
            raise Refusal(f"{item.name} needs a choice of {group.name}: ask for one of {names}.")
        if picked > group.max_picks:
            raise Refusal(
                f"{item.name} allows at most {group.max_picks} {group.name} choice(s); "
                f"ask which to keep."
            )
    return chosen


def _quantity(said: Said, quantity: int | str | None) -> int:
    """The count the caller said: in the phrase ("two lattes"), as `quantity`, or both."""
    passed = None if quantity is None else parse_count(quantity, "quantity", "2")
    if passed is None:
        return 1 if said.quantity is None else said.quantity
    if said.quantity is None or said.quantity_is_article or said.quantity == passed:
        return passed
    if passed == 1:  # the model's habitual default; the phrase has what the caller said
        return said.quantity
    raise Refusal(
        f"The item says {said.quantity} but quantity is {passed}. Ask the caller how many "
        f"{said.item.name} they want."
    )


# A deliberate same-shape pair (`duplicates`) with agents/tools/order.add_item, whose
# arguments (the model's schema) are these.
def build_line(
    menu: Menu,
    item: str,
    *,
    quantity: int | str | None = None,
    size: str | None = None,
    options: list[str] | None = None,
    special_instructions: str = "",
) -> OrderLine:
    """One validated, priced order line carrying everything said, or a Refusal saying what
    to ask the caller (naming any words that could not be placed)."""
    said = parse_item_phrase(menu, item)
    menu_item = said.item
    if not menu_item.available:
        alts = menu.alternatives(menu_item)
        offer = f" Offer instead: {', '.join(alts)}." if alts else ""
        raise Refusal(f"{menu_item.name} is sold out today.{offer}")
    count = _quantity(said, quantity)
    check_quantity(count)
    if size and said.size_id and _size_for(menu_item, size) != _size_for(menu_item, said.size_id):
        raise Refusal(f"The item says {said.size_id} but size is {size}. Ask which size.")
    size_id = _size_for(menu_item, size or said.size_id)
    picked, option_note = parse_option_phrases(menu_item, options or [])
    chosen = _choices(menu_item, said.options + picked)
    instructions = ", ".join(
        n for n in (said.note, option_note, " ".join(special_instructions.split())) if n
    )
    if len(instructions) > MAX_INSTRUCTIONS:
        raise Refusal("Those instructions are too long; ask the caller for a short note.")
    if has_card_number(instructions):
        raise Refusal(
            "Never take card details: customers pay at pickup. Tell the caller, and ask for the "
            "kitchen note without the card number."
        )
    size_obj = menu_item.size(size_id)
    unit = (
        menu_item.price_cents
        + (size_obj.price_delta_cents if size_obj else 0)
        + sum(c.price_delta_cents for c in chosen)
    )
    return OrderLine(
        item_id=menu_item.id, name=menu_item.name, size=size_id,
        size_name=size_obj.name if size_obj else None, options=chosen, quantity=count,
        unit_price_cents=unit, line_price_cents=unit * count,
        special_instructions=instructions,
    )


def tax_cents(subtotal_cents: int, rate: float) -> int:
    # Decimal of the rate's repr keeps 0.0625 exact; half-up is how tills round.
    return int((Decimal(subtotal_cents) * Decimal(repr(rate))).quantize(0, ROUND_HALF_UP))


def totals(lines: list[OrderLine], tax_rate: float) -> tuple[int, int, int]:
    subtotal = sum(line.line_price_cents for line in lines)
    tax = tax_cents(subtotal, tax_rate)
    return subtotal, tax, subtotal + tax


def pickup_time(now: datetime, prep_minutes: int, item_count: int) -> datetime:
    """Prep time plus a minute per item beyond five, rounded up to the next 5 minutes."""
    minutes = prep_minutes + max(0, item_count - 5)
    ready = now + timedelta(minutes=minutes)
    extra = (5 - ready.minute % 5) % 5
    return (ready + timedelta(minutes=extra)).replace(second=0, microsecond=0)


def money(cents: int) -> str:
    return f"${cents // 100}.{cents % 100:02d}"


def describe_line(line: OrderLine) -> str:
    size = f"{line.size_name.lower()} " if line.size_name else ""
    opts = f" with {', '.join(o.name.lower() for o in line.options)}" if line.options else ""
    note = f" ({line.special_instructions})" if line.special_instructions else ""
    return f"{line.quantity} {size}{line.name}{opts}{note}"


def spoken_list(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _allergen_change(option: Option) -> str:
    said = ([f"adds {', '.join(option.allergens)}"] if option.allergens else []) + (
        [f"takes out {', '.join(option.removes)}"] if option.removes else [])
    return f"{option.name} {' and '.join(said)}"


def describe_item(item: MenuItem) -> str:
    """What a caller asking about one dish hears: prices by size, choices, allergens, diet."""
    if item.sizes:
        prices = ", ".join(
            f"{s.name.lower()} {money(item.price_cents + s.price_delta_cents)}" for s in item.sizes
        )
    else:
        prices = money(item.price_cents)
    parts = [f"{item.name}: {prices}"]
    if not item.available:
        parts.append("sold out today")
    for g in item.option_groups:
        picks = ", ".join(
            o.name + (f" +{money(o.price_delta_cents)}" if o.price_delta_cents else "")
            for o in g.options if o.available
        )
        parts.append(f"{g.name}{' (required)' if g.min_picks else ''}: {picks}")
    parts.append(f"allergens: {', '.join(item.allergens) or 'none listed'}")
    if item.dietary:
        parts.append(f"dietary: {', '.join(item.dietary)}")
    if item.description:
        parts.append(item.description)
    if item.may_contain:
        parts.append(f"may contain traces of {', '.join(item.may_contain)}")
    changes = [_allergen_change(o) for g in item.option_groups for o in g.options
               if o.available and (o.allergens or o.removes)]
    if changes:
        parts.append(f"allergens by choice: {', '.join(changes)}")
    return "; ".join(parts)
