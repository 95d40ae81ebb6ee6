"""TEMPORARY until tests/conftest.py lands: emulator + seeded db."""
from __future__ import annotations

import os

import pytest
import yaml

import firebase_manager
from config import load_firestore_settings
from models import MenuItem, RestaurantSettings
from tests import emulator

PROJECT = "demo-test"


@pytest.fixture(scope="session")
def _emu():
    emu = emulator.start()
    os.environ["FIRESTORE_EMULATOR_HOST"] = emu.host
    os.environ["GOOGLE_CLOUD_PROJECT"] = PROJECT
    yield emu
    emu.stop()


@pytest.fixture
async def seeded_db(_emu, tmp_path):
    _emu.reset(PROJECT)
    os.environ["OUTBOX_PATH"] = str(tmp_path / "outbox.jsonl")
    db = await firebase_manager.connect(load_firestore_settings(None))
    data = yaml.safe_load(open("data/menu.yaml"))
    s = RestaurantSettings.model_validate(data["restaurant"])
    await db.db.collection("settings").document("restaurant").set(s.to_doc())
    for raw in data["items"]:
        item = MenuItem.model_validate(raw)
        await db.db.collection("menu_items").document(item.id).set(item.to_doc())
    yield db
    await db.close()
