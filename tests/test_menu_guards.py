"""Menu guards on the sample menu (data/menu.yaml), without a database.

* A sold-out option is refused the way a sold-out item is: by name, with what to offer, and
  never priced into a line. The sample menu has one (caramel syrup on the latte) and one
  sold-out item (pumpkin loaf).
* The menu the model is given carries no prices: prices are read out by the tools from the
  menu, so a price in the prompt could only be a price the model repeats wrongly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.menu import Menu
from domain.pricing import build_line, describe_item, money
from domain.refusal import Refusal
from store.menu_file import load_menu_file

ROOT = Path(__file__).resolve().parent.parent
ITEMS = list(load_menu_file(ROOT / "data" / "menu.yaml").items)
MENU = Menu(ITEMS)


def test_the_sample_menu_has_a_sold_out_item_and_a_sold_out_option():
    assert [i.id for i in ITEMS if not i.available] == ["pumpkin-loaf"]
    sold_out_options = [(i.id, o.id) for i in ITEMS for g in i.option_groups for o in g.options
                        if not o.available]
    assert sold_out_options == [("latte", "caramel-syrup")]


def test_a_sold_out_item_is_refused_with_what_to_offer():
    with pytest.raises(Refusal, match=r"Pumpkin Loaf is sold out today\. Offer instead: .+"):
        build_line(MENU, "pumpkin loaf")


def test_a_sold_out_item_with_nothing_of_its_kind_left_offers_nothing():
    loaf = next(i for i in ITEMS if i.id == "pumpkin-loaf")
    with pytest.raises(Refusal, match=r"^Pumpkin Loaf is sold out today\.$"):
        build_line(Menu([loaf]), "pumpkin loaf")  # never "Offer instead: ." with no names


@pytest.mark.parametrize("said", ["caramel syrup", "Caramel Syrup", "caramel-syrup", "caramel"])
def test_a_sold_out_option_is_refused_like_a_sold_out_item(said):
    with pytest.raises(Refusal) as refused:
        build_line(MENU, "latte", size="large", options=["oat milk", said])
    text = str(refused.value)
    assert "Caramel syrup for Latte is sold out today" in text
    offered = text.split("Offer instead:")[1]
    assert "Extra shot" in offered and "Vanilla syrup" in offered and "Caramel" not in offered


def test_the_same_line_without_the_sold_out_option_is_priced_from_the_menu():
    line = build_line(MENU, "latte", size="large", options=["oat milk", "vanilla syrup"])
    assert [o.option_id for o in line.options] == ["oat", "vanilla-syrup"]
    assert line.unit_price_cents == 450 + 100 + 75 + 60


def test_a_sold_out_option_is_not_offered_when_the_caller_asks_about_the_item():
    described = describe_item(MENU.get("latte"))
    assert "Vanilla syrup" in described and "Caramel" not in described


# ---------------------------------------------------------------- the model's menu


def _prices_in(text: str) -> list[str]:
    """Every way a menu price could be written into the prompt."""
    found = re.findall(r"\$\s*\d|\d+\.\d\d\b|\bcents?\b|\bdollars?\b|\busd\b", text, re.I)
    for item in ITEMS:
        amounts = {item.price_cents} | {item.price_cents + s.price_delta_cents
                                        for s in item.sizes}
        amounts |= {o.price_delta_cents for g in item.option_groups for o in g.options}
        for cents in amounts - {0}:
            for written in (money(cents), money(cents)[1:], str(cents)):
                if re.search(rf"(?<![\d.]){re.escape(written)}(?![\d])", text):
                    found.append(f"{item.id}: {written}")
    return found


def test_the_price_finder_finds_prices():  # the oracle below is only as good as this
    assert _prices_in("Latte 4.50") and _prices_in("latte $4") and _prices_in("oat +75 cents")
    assert _prices_in(describe_item(MENU.get("latte")))


def test_the_menu_prompt_names_every_dish_and_no_price():
    prompt = MENU.prompt_text()
    assert _prices_in(prompt) == [], prompt
    for item in ITEMS:
        assert item.name in prompt
    assert "Pumpkin Loaf" in prompt.split("sold out today:")[1]
