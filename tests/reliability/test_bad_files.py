"""Malformed menu files and configuration, beyond tests/test_seed_menu.py and
tests/test_config.py: each gives a message naming the item and field (or the variable), the
seed script exits non-zero and writes nothing, the worker refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, load_provider_settings, load_settings
from store.menu_file import MenuFileError, load_menu_file
from testkit.emulator import Emulator
from tests.conftest import MENU_PATH, PROJECT, ROOT

MENU = MENU_PATH.read_text(encoding="utf-8")


def edit(anchor: str, old: str, new: str) -> str:
    at = MENU.index(old, MENU.index(anchor))
    return MENU[:at] + new + MENU[at + len(old):]


CASES = {  # name: (file text, what the message must say)
    "price true": (edit("  - id: latte\n", "price_cents: 450", "price_cents: true"),
                   "item 'latte' (items[1]) field 'price_cents': must be a whole number"),
    "price text": (edit("  - id: latte\n", "price_cents: 450", 'price_cents: "free"'),
                   "item 'latte' (items[1]) field 'price_cents': must be a valid integer"),
    "price with cents": (edit("  - id: latte\n", "price_cents: 450", "price_cents: 4.5"),
                         "item 'latte' (items[1]) field 'price_cents'"),
    "price zero": (edit("  - id: latte\n", "price_cents: 450", "price_cents: 0"),
                   "item 'latte' (items[1]) field 'price_cents': must be greater than 0"),
    "misspelt field": (edit("  - id: latte\n", "price_cents: 450", "prize_cents: 450"),
                       "item 'latte' (items[1]) field 'price_cents': is required"),
    "negative option": (edit("  - id: cappuccino\n", "price_delta_cents: 75",
                             "price_delta_cents: -75"),
                        "item 'cappuccino' (items[0]) field 'option_groups[0].options"),
    "option price true": (edit("  - id: cappuccino\n", "price_delta_cents: 75",
                               "price_delta_cents: true"), "must be a whole number"),
    "size makes it free": (edit("  - id: cappuccino\n", "price_delta_cents: 100}",
                                "price_delta_cents: -500}"),
                           "item 'cappuccino' (items[0]) field 'sizes'"),
    "missing name": (edit("  - id: latte\n", "    name: Latte\n", ""),
                     "item 'latte' (items[1]) field 'name': is required"),
    "group without id": (edit("  - id: cappuccino\n", "      - id: milk\n", "      - ids: milk\n"),
                         "item 'cappuccino' (items[0]) field 'option_groups[0].id'"),
    "empty file": ("", "must be a mapping with 'restaurant:' and 'items:'"),
    "a list": ("- a\n- b\n", "must be a mapping"),
    "items not a list": (MENU[:MENU.index("items:")] + "items: 5\n", "items: must be a"),
    "item not a mapping": (MENU[:MENU.index("items:")] + "items:\n  - soup\n",
                           "item items[0]: must be a mapping"),
    "hour 25": (edit("restaurant:\n", 'open: "07:00"', 'open: "25:00"'),
                "restaurant field 'hours.mon[0].open'"),
    "closes before it opens": (edit("restaurant:\n", 'open: "07:00", close: "21:00"',
                                    'open: "21:00", close: "07:00"'),
                               "restaurant field 'hours.mon[0]': close"),
    "not a slug": (edit("  - id: latte\n", "id: latte", "id: Latte Grande!"),
                   "field 'id': 'Latte Grande!' is not a slug"),
    "tab": (MENU.replace("  - id: latte", "\t- id: latte", 1), "YAML syntax error"),
    "binary": ("\x00\x01\xff", "YAML syntax error"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_menu_file_names_item_and_field(case, tmp_path: Path):
    text, says = CASES[case]
    path = tmp_path / "menu.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MenuFileError) as err:
        load_menu_file(path)
    assert says in str(err.value)


@pytest.mark.parametrize("case", ["price true", "binary", "misspelt field"])
def test_seed_script_exits_non_zero_and_writes_nothing(
    case, tmp_path: Path, firestore_emulator: Emulator
):
    firestore_emulator.reset(PROJECT)
    path = tmp_path / "menu.yaml"
    path.write_text(CASES[case][0], encoding="utf-8")
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": firestore_emulator.host,
           "GOOGLE_CLOUD_PROJECT": PROJECT, "OUTBOX_PATH": str(tmp_path / "outbox.jsonl")}
    env.pop("FIREBASE_SERVICE_ACCOUNT_PATH", None)
    done = subprocess.run([sys.executable, "scripts/seed_menu.py", str(path)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert CASES[case][1] in done.stderr + done.stdout
    from config import FirestoreSettings
    from store import close_sync_client, make_sync_client
    from store.scope import scoped

    client = make_sync_client(FirestoreSettings(firestore_emulator_host=firestore_emulator.host,
                                                google_cloud_project=PROJECT))
    try:
        assert list(scoped(client).collection("menu_items").limit(1).stream()) == []
        assert not scoped(client).document("settings/restaurant").get().exists
    finally:
        close_sync_client(client)


# ---------------------------------------------------------------- configuration

KEYS = {"OPENAI_API_KEY": "sk-test", "DEEPGRAM_API_KEY": "dg-test", "CARTESIA_API_KEY": "ct"}


@pytest.fixture
def env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "DEEPGRAM_", "CARTESIA_", "RESTAURANT_", "LIVEKIT_",
                            "LLM_", "STT_", "TTS_", "HOLD_")):
            monkeypatch.delenv(name, raising=False)
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.parametrize(("var", "value", "says"), [
    ("RESTAURANT_TIMEZONE", "Mars/Olympus", "RESTAURANT_TIMEZONE is invalid"),
    ("LIVEKIT_URL", "livekit:7880", "LIVEKIT_URL is invalid"),
    ("RESTAURANT_MAX_PARTY_SIZE", "0", "RESTAURANT_MAX_PARTY_SIZE is invalid"),
    ("NOISE_CANCELLATION", "maybe", "NOISE_CANCELLATION is invalid"),
])
def test_bad_setting_names_the_variable(env, var, value, says):
    env.setenv(var, value)
    with pytest.raises(ConfigError, match=says):
        load_settings(env_file=None)


@pytest.mark.parametrize(("var", "value"), [
    ("LLM_ATTEMPT_TIMEOUT_S", "soon"), ("LLM_ATTEMPT_TIMEOUT_S", "0"),
    ("TTS_ATTEMPT_TIMEOUT_S", "-1"), ("HOLD_LINE_AFTER_S", "60"),
])
def test_bad_provider_setting_names_the_variable(env, var, value, tmp_path):
    env.setenv(var, value)
    with pytest.raises(ConfigError, match=f"{var} is invalid"):
        load_provider_settings(tmp_path / "none.env")


def test_a_fallback_identical_to_its_primary_is_refused(env, tmp_path):
    env.setenv("OPENAI_FALLBACK_MODEL", "gpt-4o-mini")  # the primary's model, same endpoint
    fb = load_provider_settings(tmp_path / "none.env")
    with pytest.raises(ConfigError, match="OPENAI_FALLBACK_MODEL/OPENAI_FALLBACK_BASE_URL is "
                                          "the same as its primary"):
        fb.check_against(load_settings(env_file=None))
    env.setenv("OPENAI_FALLBACK_MODEL", "gpt-4.1-mini")
    load_provider_settings(tmp_path / "none.env").check_against(
        load_settings(env_file=None))


def test_worker_refuses_to_start_with_a_bad_fallback_setting():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "OPENAI_"))}
    env.update(KEYS, ENV_FILE="/nonexistent/.env", LLM_ATTEMPT_TIMEOUT_S="soon")
    done = subprocess.run([sys.executable, "main.py", "start"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "LLM_ATTEMPT_TIMEOUT_S is invalid" in done.stderr
    assert "sk-test" not in done.stderr + done.stdout
