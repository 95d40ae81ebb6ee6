"""What the order tools make of what a model passes: `python -m bench.phrases [--n 5000]`.

Prints the generated-phrasing counts (tests/phrase_cases.py, the property test's generator)
and a table of typical phrasings with the line they became or the refusal the model got;
plus the natural dates, times and party sizes the booking tools accept or refuse.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from datetime import date, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from domain.menu import Menu  # noqa: E402
from domain.natural import parse_clock, parse_count, parse_day  # noqa: E402
from domain.pricing import build_line, describe_line  # noqa: E402
from domain.refusal import Refusal  # noqa: E402
from store.menu_file import load_menu_file  # noqa: E402
from testkit.phrase_cases import make_case  # noqa: E402

LINES = [
    ("two large oat milk lattes with an extra shot, no foam", {}),
    ("a couple of big caps", {}),
    ("can I get a blt on rye please", {}),
    ("latte", {"quantity": "three", "size": "grande", "options": ["almond"]}),
    ("half a dozen blueberry muffins", {}),
    ("an avocado toast with a poached egg and feta", {}),
    ("hummus veggie wrap no cucumber", {}),
    ("capuccino with skim", {}),
    ("latte with ketchup", {}),
    ("two lattes and a cookie", {}),
    ("cappuccino with extra shots", {}),
    ("2 lattes", {"quantity": 3}),
    ("blt", {}),
    ("large croissant", {}),
    ("pumpkin loaf", {}),
    ("latte", {"options": ["no foam", "purple"]}),
]
DAYS = ["2026-11-21", "tomorrow", "Saturday", "next friday", "Nov 28", "the 24th",
        "tonight", "in a week", "a week from today", "someday"]
TIMES = ["19:00", "7pm", "7:30 PM", "half past seven", "quarter to eight pm", "noon",
         "seven", "tonight at 7", "dinner time"]
PARTIES = [4, "4", "four", "four people", "party of six", "a couple", "just me", "a few",
           "4 adults and 2 kids"]


def _short(text: str, limit: int = 150) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def report(n: int) -> str:
    items = load_menu_file(ROOT / "data" / "menu.yaml").items
    menu = Menu(items)
    tally: Counter[str] = Counter()
    for seed in range(n):
        case = make_case(random.Random(seed), items, junk=seed % 2 == 1)
        try:
            line = build_line(menu, case.phrase, **case.kwargs)
            exact = (line.item_id, line.quantity, line.size,
                     {(o.group_id, o.option_id) for o in line.options}) == (
                case.item_id, case.quantity, case.size, case.option_ids)
            kept = all(w in line.special_instructions for w in case.junk)
            tally["accepted exactly as said" if exact and not case.junk else
                  "accepted, odd word kept in the kitchen note" if exact and kept else
                  "WRONG"] += 1
        except Refusal as e:
            named = case.junk and all(f"'{w}'" in str(e) for w in case.junk)
            tally["refused naming the unplaced word" if named else "WRONG (refused)"] += 1
    out = [f"Generated phrasings ({n}, half with a word not on the menu):", ""]
    out += [f"- {k}: {v}" for k, v in sorted(tally.items())]
    out += ["", "| the model passes | the line / the refusal |", "|---|---|"]
    for phrase, kwargs in LINES:
        said = f"`{phrase}`" + (f" {kwargs}" if kwargs else "")
        try:
            got = "**" + describe_line(build_line(menu, phrase, **kwargs)) + "**"
        except Refusal as e:
            got = "refused: " + _short(str(e))
        out.append(f"| {said} | {got} |")
    today = date(2026, 11, 20)  # a Friday
    out += ["", "Bookings, on Friday 2026-11-20 (open 7-21; Saturday 8-22):", "",
            "| argument | passed | understood as / refused |", "|---|---|---|"]
    for said in DAYS:
        out.append(f"| date | `{said}` | {_try(lambda s=said: parse_day(s, today))} |")
    friday = {time(h, m) for h in range(7, 21) for m in (0, 30)}
    for said in TIMES:
        got = _try(lambda s=said: parse_clock(s, bookable=lambda t: t in friday))
        out.append(f"| time | `{said}` | {got} |")
    for said in PARTIES:
        got = _try(lambda s=said: parse_count(s, "party_size", "4"))
        out.append(f"| party_size | `{said!r}` | {got} |")
    return "\n".join(out)


def _try(fn) -> str:  # type: ignore[no-untyped-def]
    try:
        return f"**{fn()}**"
    except Refusal as e:
        return "refused: " + _short(str(e), 110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    print(report(parser.parse_args().n))


if __name__ == "__main__":
    main()
