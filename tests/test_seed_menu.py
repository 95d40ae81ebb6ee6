"""scripts/seed_menu.py run the way staff run it: a subprocess against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from store import FirebaseManager
from testkit.emulator import Emulator
from tests.conftest import MENU_PATH, PROJECT, ROOT

MENU_TEXT = MENU_PATH.read_text(encoding="utf-8")


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def seed(firestore_emulator: Emulator, tmp_path: Path) -> Any:
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": firestore_emulator.host,
           "GOOGLE_CLOUD_PROJECT": PROJECT, "OUTBOX_PATH": str(tmp_path / "outbox.jsonl")}
    env.pop("FIREBASE_SERVICE_ACCOUNT_PATH", None)

    def run(*args: str | Path, extra_env: dict[str, str] | None = None) -> Run:
        proc = subprocess.run(
            [sys.executable, "scripts/seed_menu.py", *map(str, args)],
            cwd=ROOT, env={**env, **(extra_env or {})}, capture_output=True, text=True,
            timeout=60,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


async def firestore_state(db: FirebaseManager) -> dict[str, Any]:
    state = {}
    for collection in ("menu_items", "settings"):
        async for snap in db.db.collection(collection).stream():
            state[f"{collection}/{snap.id}"] = snap.to_dict()
    return state


def edit(text: str, anchor: str, old: str, new: str) -> tuple[str, int]:
    """Replace the first `old` after `anchor`; returns the text and the 1-based line edited."""
    start = text.index(anchor)
    at = text.index(old, start)
    return text[:at] + new + text[at + len(old):], text.count("\n", 0, at) + 1


def line_of(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle)) + 1


def with_canary(text: str) -> str:
    """A harmless valid change too: if anything at all were written, it would show.

    The error-path tests start from an empty database, so any write at all would show up in
    the before/after comparison.
    """
    return edit(text, "  - id: croissant\n", "price_cents: 375", "price_cents: 999")[0]


# ---------------------------------------------------------------- every error path


def _bad_price() -> tuple[str, list[str]]:
    text, line = edit(MENU_TEXT, "  - id: latte\n", "price_cents: 450", "price_cents: -5")
    return text, [f"item 'latte' (items[1]) field 'price_cents': must be greater than 0 "
                  f"(line {line})"]


def _missing_price() -> tuple[str, list[str]]:
    text, _ = edit(MENU_TEXT, "  - id: americano\n", "    price_cents: 350\n", "")
    return text, [f"item 'americano' (items[2]) field 'price_cents': is required "
                  f"(line {line_of(text, '  - id: americano')})"]


def _duplicate_id() -> tuple[str, list[str]]:
    text, line = edit(MENU_TEXT, "  - id: espresso\n", "id: espresso", "id: americano")
    first = line_of(MENU_TEXT, "  - id: americano")
    return text, [f"item 'americano' (items[4]) field 'id': duplicate id; already used by "
                  f"items[2] on line {first} (line {line})"]


def _min_over_max() -> tuple[str, list[str]]:
    text, line = edit(MENU_TEXT, "  - id: blt-sandwich\n", "min_picks: 1", "min_picks: 2")
    return text, [f"item 'blt-sandwich' (items[18]) field 'option_groups[0].min_picks': "
                  f"group 'bread': min_picks 2 exceeds max_picks 1 (line {line})"]


def _required_group_without_options() -> tuple[str, list[str]]:
    soup = ("  - id: soup-of-the-day\n    name: Soup of the Day\n    category: salads\n"
            "    price_cents: 700\n    option_groups:\n      - id: soup\n        name: Soup\n"
            "        required: true\n        options: []\n")
    text = MENU_TEXT + soup
    return text, [f"item 'soup-of-the-day' (items[35]) field 'option_groups[0].options': "
                  f"group 'soup' offers no options but is required "
                  f"(line {line_of(text, '        options: []')})"]


def _duplicate_option() -> tuple[str, list[str]]:
    text, _ = edit(MENU_TEXT, "  - id: cappuccino\n", "{id: skim, name: Skim milk",
                   "{id: oat, name: Oat again")
    return text, ["item 'cappuccino' (items[0]) field 'option_groups[0].options': "
                  "group 'milk': duplicate option ids ['oat'] (line"]


def _unknown_size() -> tuple[str, list[str]]:
    text, line = edit(MENU_TEXT, "  - id: cappuccino\n", "default_size: medium",
                      "default_size: venti")
    return text, [f"item 'cappuccino' (items[0]) field 'default_size': default_size 'venti' "
                  f"is not one of ['small', 'medium', 'large'] (line {line})"]


def _yaml_syntax() -> tuple[str, list[str]]:
    text, line = edit(MENU_TEXT, "  - id: latte\n", "    name: Latte\n",
                      "    name: Latte\n   oops: [\n")
    return text, ["YAML syntax error", f"(line {line + 1}, column"]


def _missing_restaurant() -> tuple[str, list[str]]:
    start, end = MENU_TEXT.index("restaurant:\n"), MENU_TEXT.index("items:\n")
    return MENU_TEXT[:start] + MENU_TEXT[end:], ["missing 'restaurant:' settings"]


def _bad_restaurant() -> tuple[str, list[str]]:
    text, line = edit(MENU_TEXT, "restaurant:\n", "tax_rate: 0.0625", "tax_rate: 6.25")
    return text, [f"restaurant field 'tax_rate': must be less than 0.5 (line {line})"]


def _several_at_once() -> tuple[str, list[str]]:
    text, _ = _bad_price()
    text, _ = edit(text, "  - id: cappuccino\n", "default_size: medium", "default_size: venti")
    return text, ["item 'latte' (items[1]) field 'price_cents'",
                  "item 'cappuccino' (items[0]) field 'default_size'", "2 problem(s)"]


YAML_CASES = {
    "negative price": _bad_price,
    "missing price": _missing_price,
    "duplicate id": _duplicate_id,
    "min over max": _min_over_max,
    "required group without options": _required_group_without_options,
    "duplicate option": _duplicate_option,
    "unknown size": _unknown_size,
    "yaml syntax": _yaml_syntax,
    "missing restaurant": _missing_restaurant,
    "bad restaurant setting": _bad_restaurant,
    "several problems": _several_at_once,
}


@pytest.mark.parametrize("case", YAML_CASES)
async def test_an_invalid_yaml_menu_is_reported_and_nothing_is_written(
    case: str, seed: Any, db: FirebaseManager, tmp_path: Path
) -> None:
    text, expected = YAML_CASES[case]()
    path = tmp_path / "menu.yaml"
    path.write_text(with_canary(text), encoding="utf-8")
    before = await firestore_state(db)

    run = seed(path)

    assert run.code == 1, run.out + run.err
    for fragment in expected:
        assert fragment in run.err
    assert run.err.startswith(f"{path}: ")
    assert "nothing was written" in run.err
    assert await firestore_state(db) == before


def _menu_json(mutate: Any = None) -> str:
    data = yaml.safe_load(MENU_TEXT)
    if mutate:
        mutate(data)
    return json.dumps(data, indent=2, ensure_ascii=False)


async def test_json_field_errors_carry_line_numbers(
    seed: Any, db: FirebaseManager, tmp_path: Path
) -> None:
    text = _menu_json(lambda d: d["items"][3].update(price_cents=0))  # drip-coffee
    path = tmp_path / "menu.json"
    path.write_text(text, encoding="utf-8")
    before = await firestore_state(db)

    run = seed(path)

    line = line_of(text, '"price_cents": 0')
    assert run.code == 1
    assert (f"item 'drip-coffee' (items[3]) field 'price_cents': must be greater than 0 "
            f"(line {line})") in run.err
    assert await firestore_state(db) == before


async def test_json_syntax_errors_give_line_and_column(
    seed: Any, db: FirebaseManager, tmp_path: Path
) -> None:
    text = _menu_json()
    broken, line = edit(text, '"id": "latte"', '"id": "latte",', '"id": "latte"')
    path = tmp_path / "menu.json"
    path.write_text(broken, encoding="utf-8")
    before = await firestore_state(db)

    run = seed(path)

    assert run.code == 1
    assert f"{path}: JSON syntax error: Expecting ',' delimiter (line {line + 1}, column" in (
        run.err
    )
    assert await firestore_state(db) == before


@pytest.mark.parametrize(("name", "message"), [
    ("menu.txt", "unsupported file type"),
    ("missing.yaml", "file not found"),
])
async def test_unreadable_menu_files(
    name: str, message: str, seed: Any, db: FirebaseManager, tmp_path: Path
) -> None:
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text(MENU_TEXT)
    before = await firestore_state(db)
    run = seed(path)
    assert run.code == 1 and f"{path}: {message}" in run.err
    assert await firestore_state(db) == before


async def test_sold_out_with_an_unknown_id_changes_nothing(
    seed: Any, seeded_db: FirebaseManager
) -> None:
    before = await firestore_state(seeded_db)
    run = seed("--sold-out", "latte", "--sold-out", "capuccino")
    assert run.code == 1
    assert "no menu item with id 'capuccino' in Firestore (did you mean cappuccino?)" in run.err
    assert await firestore_state(seeded_db) == before  # latte is not sold out either


async def test_without_a_firestore_target_it_says_what_to_set(
    seed: Any, db: FirebaseManager
) -> None:
    if (ROOT / ".env").exists():
        pytest.skip("a local .env may configure Firestore")
    run = seed(extra_env={"FIRESTORE_EMULATOR_HOST": ""})
    assert run.code == 2
    assert "FIRESTORE_EMULATOR_HOST" in run.err and "FIREBASE_SERVICE_ACCOUNT_PATH" in run.err


# ---------------------------------------------------------------- what staff do every day


async def test_seeding_is_idempotent(seed: Any, db: FirebaseManager) -> None:
    first = seed()
    assert first.code == 0, first.err
    items = len(yaml.safe_load(MENU_TEXT)["items"])
    assert f"{items + 1} added, 0 changed, 0 unchanged" in first.out  # + settings/restaurant
    state = await firestore_state(db)
    assert len(state) == items + 1

    second = seed()
    assert second.code == 0
    assert f"0 added, 0 changed, {items + 1} unchanged" in second.out
    assert await firestore_state(db) == state


async def test_dry_run_lists_changes_and_writes_nothing(
    seed: Any, seeded_db: FirebaseManager, tmp_path: Path
) -> None:
    text, _ = edit(MENU_TEXT, "  - id: latte\n", "price_cents: 450", "price_cents: 475")
    text += ("  - id: matcha-latte\n    name: Matcha Latte\n    category: tea\n"
             "    price_cents: 525\n")
    path = tmp_path / "menu.yaml"
    path.write_text(text)
    before = await firestore_state(seeded_db)

    run = seed(path, "--dry-run")

    assert run.code == 0
    assert "would change     menu_items/latte: price_cents" in run.out
    assert "would add        menu_items/matcha-latte" in run.out
    assert "unchanged  menu_items/americano" in run.out
    assert "1 added, 1 changed" in run.out and "nothing written" in run.out
    assert await firestore_state(seeded_db) == before

    applied = seed(path)
    assert "1 added, 1 changed" in applied.out
    menu = {i.id: i for i in await seeded_db.load_menu()}
    assert menu["latte"].price_cents == 475 and "matcha-latte" in menu


async def test_prune_marks_items_missing_from_the_file_unavailable(
    seed: Any, seeded_db: FirebaseManager, tmp_path: Path
) -> None:
    start = MENU_TEXT.index("  - id: chocolate-chip-cookie\n")
    end = MENU_TEXT.index("  - id: flourless-chocolate-cake\n")
    path = tmp_path / "menu.yaml"
    path.write_text(MENU_TEXT[:start] + MENU_TEXT[end:])

    run = seed(path, "--prune")
    assert run.code == 0
    assert "mark unavailable  menu_items/chocolate-chip-cookie (not in the file)" in run.out
    menu = {i.id: i for i in await seeded_db.load_menu()}
    assert menu["chocolate-chip-cookie"].available is False  # kept for old orders, not sold
    assert seed(path, "--prune").out.strip().endswith("0 marked unavailable")


async def test_sold_out_and_back_and_a_reseed_keeps_todays_sold_out(
    seed: Any, seeded_db: FirebaseManager
) -> None:
    run = seed("--sold-out", "almond-croissant")
    assert (run.code, run.out.splitlines()) == (0, ["almond-croissant: mark sold out",
                                                    "1 changed"])
    again = seed("--sold-out", "almond-croissant")
    assert "almond-croissant: already sold out" in again.out and "0 changed" in again.out

    reseed = seed()  # e.g. staff fixed a typo in the file later that day
    assert "0 changed" in reseed.out
    menu = {i.id: i for i in await seeded_db.load_menu()}
    assert menu["almond-croissant"].available is False

    back = seed("--available", "almond-croissant")
    assert back.code == 0 and "almond-croissant: mark available" in back.out
    menu = {i.id: i for i in await seeded_db.load_menu()}
    assert menu["almond-croissant"].available is True


async def test_if_empty_seeds_only_an_empty_database(
    seed: Any, db: FirebaseManager, tmp_path: Path
) -> None:
    first = seed("--if-empty")
    assert first.code == 0 and "added" in first.out
    assert len(await db.load_menu()) > 28

    path = tmp_path / "menu.json"
    path.write_text(_menu_json(lambda d: d["items"][0].update(price_cents=1)))
    before = await firestore_state(db)
    second = seed(path, "--if-empty")
    assert second.code == 0 and "nothing seeded" in second.out
    assert await firestore_state(db) == before
