"""The menu from Square's Catalog: the import script through the official SDK against the fake
Square serving a 42-item catalog fixture with modifier lists, validated as seed_menu validates."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scripts import import_square_catalog as importer
from store.menu_file import load_menu_file
from testkit.square import FakeSquare, serve_square
from tests.conftest import ROOT

FIXTURE = ROOT / "testkit" / "square_catalog.json"
LOCATION = "L-FAKE-MAIN"


@pytest.fixture
async def square(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSquare]:
    async with serve_square() as fake:
        fake.state.catalog = json.loads(FIXTURE.read_text())["objects"]
        monkeypatch.setenv("SQUARE_ACCESS_TOKEN", fake.state.token)
        monkeypatch.setenv("SQUARE_BASE_URL", fake.url)
        monkeypatch.setenv("ENV_FILE", "/nonexistent")
        yield fake


async def _import(out: Path, *extra: str, location: str = LOCATION) -> int:
    # the script is synchronous (the SDK's sync client): off the loop the fake runs on
    return await asyncio.to_thread(importer.main, ["--location", location, "--out", str(out),
                                                   *extra])


def _item(square: FakeSquare, name: str) -> dict:
    return next(o for o in square.state.catalog
                if o["type"] == "ITEM" and o["item_data"]["name"] == name)


async def test_the_catalog_becomes_a_valid_menu_file(square, tmp_path, capsys) -> None:
    out = tmp_path / "square-menu.yaml"
    assert await _import(out) == 0
    menu = load_menu_file(out)  # the same validation seed_menu applies
    assert len(menu.items) == 42 and menu.restaurant.name == "Harbor Street Café"
    items = {i.id: i for i in menu.items}
    burrito = items["classic-burrito"]
    assert burrito.category == "burritos"
    assert [(s.id, s.price_delta_cents) for s in burrito.sizes] == [("regular", 0), ("large", 150)]
    protein, salsa, extras = burrito.option_groups
    assert (protein.required, protein.min_picks, protein.max_picks) == (True, 1, 1)
    assert [(o.id, o.price_delta_cents) for o in protein.options][1] == ("steak", 200)
    assert (salsa.required, salsa.max_picks) == (False, 1)
    assert extras.max_picks == 4  # Square's -1 (no limit) on a list of four
    assert [o.id for o in extras.options] == ["guacamole", "sour-cream", "extra-cheese",
                                              "jalapenos"]
    assert not items["wet-burrito"].available  # sold out at this location in Square
    assert sum(1 for i in menu.items if i.option_groups) >= 25
    assert "42 items (1 sold out: wet-burrito)" in capsys.readouterr().out


async def test_ids_stay_stable_and_a_dropped_item_is_named(square, tmp_path, capsys) -> None:
    out = tmp_path / "square-menu.yaml"
    assert await _import(out) == 0
    _item(square, "Classic Burrito")["item_data"]["name"] = "The Classic"
    square.state.catalog = [o for o in square.state.catalog
                            if not (o["type"] == "ITEM" and o["item_data"]["name"] == "Flan")]
    capsys.readouterr()
    assert await _import(out) == 0
    items = {i.id: i for i in load_menu_file(out).items}
    assert items["classic-burrito"].name == "The Classic"  # past orders keep their meaning
    assert "flan" not in items
    assert "dropped from the menu (no longer in Square at L-FAKE-MAIN): flan" in (
        capsys.readouterr().out)


@pytest.mark.parametrize(("spoil", "named"), [
    (lambda o: o["item_data"]["variations"][0]["item_variation_data"].pop("price_money"),
     "item 'Churros' (ITEM038): variation 'Regular' (ITEM038-V0) has no price"),
    (lambda o: o["item_data"]["variations"][0]["item_variation_data"].update(
        pricing_type="VARIABLE_PRICING"),
     "item 'Churros' (ITEM038): variation 'Regular' (ITEM038-V0) has no price"),
])
async def test_an_item_without_a_price_is_named_and_nothing_written(
        square, tmp_path, capsys, spoil, named) -> None:
    spoil(_item(square, "Churros"))
    out = tmp_path / "m.yaml"
    assert await _import(out) == 1
    err = capsys.readouterr().err
    assert named in err and "nothing was written" in err
    assert not out.exists()


async def test_a_modifier_we_cannot_map_is_named(square, tmp_path, capsys) -> None:
    lists = {o["id"]: o for o in square.state.catalog if o["type"] == "MODIFIER_LIST"}
    extras = lists["ML-EXTRAS"]["modifier_list_data"]
    extras["modifiers"].append(copy.deepcopy(extras["modifiers"][0]))
    extras["modifiers"][-1].update(id="ML-EXTRAS-M9")
    extras["modifiers"][-1]["modifier_data"].update(
        name="Happy hour", price_money={"amount": -100, "currency": "USD"})
    lists["ML-ICE"]["modifier_list_data"]["modifier_type"] = "TEXT"
    assert await _import(tmp_path / "m.yaml") == 1
    err = capsys.readouterr().err
    assert "modifier 'Happy hour' (ML-EXTRAS-M9) in list 'Extras' has a negative price" in err
    assert "modifier list 'Ice' (ML-ICE) takes free text" in err


async def test_a_location_that_does_not_exist_is_named(square, tmp_path, capsys) -> None:
    assert await _import(tmp_path / "m.yaml", location="L-NOWHERE") == 1
    assert "location L-NOWHERE does not exist" in capsys.readouterr().err


async def test_without_location_the_restaurants_own_square_location_is_imported(
        square, tmp_path, capsys, monkeypatch) -> None:
    """Several restaurants on one line: the import reads the location a restaurant's file names
    (`square_location_id`), else SQUARE_LOCATION_ID, and says so when neither does."""
    import yaml

    square.state.locations["LCASA"] = "Casa"
    base = tmp_path / "casa.yaml"
    data = yaml.safe_load((ROOT / "data" / "menu.yaml").read_text())
    base.write_text(yaml.safe_dump({"restaurant": {**data["restaurant"],
                                                   "square_location_id": "LCASA"},
                                    "items": data["items"]}, sort_keys=False))
    out = tmp_path / "casa-square.yaml"
    args = ["--out", str(out), "--base", str(base)]
    assert await asyncio.to_thread(importer.main, args) == 0
    menu = load_menu_file(out)
    assert menu.restaurant.square_location_id == "LCASA"
    # the wet burrito is sold out at the main location only: at casa's it is on
    assert {i.id: i.available for i in menu.items}["wet-burrito"] is True

    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump({"restaurant": data["restaurant"], "items": data["items"]},
                                    sort_keys=False))
    monkeypatch.delenv("SQUARE_LOCATION_ID", raising=False)
    args = ["--out", str(tmp_path / "x.yaml"), "--base", str(plain)]
    assert await asyncio.to_thread(importer.main, args) == 2
    assert "which Square location?" in capsys.readouterr().err
    monkeypatch.setenv("SQUARE_LOCATION_ID", LOCATION)
    assert await asyncio.to_thread(importer.main, args) == 0
    assert {i.id: i.available
            for i in load_menu_file(tmp_path / "x.yaml").items}["wet-burrito"] is False
