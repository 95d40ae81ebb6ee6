"""The demo menu in a Firestore database, seeded exactly as the staff script seeds it."""

from __future__ import annotations

from pathlib import Path

from config import FirestoreSettings
from models import DEFAULT_RESTAURANT_ID
from store import close_sync_client, make_sync_client
from store.menu_file import load_menu_file
from store.menu_seed import apply_menu

ROOT = Path(__file__).resolve().parent.parent
MENU_PATH = ROOT / "data" / "menu.yaml"


def seed_menu_file(
    settings: FirestoreSettings, path: Path = MENU_PATH, *,
    restaurant_id: str = DEFAULT_RESTAURANT_ID,
) -> None:
    """Seed exactly as `scripts/seed_menu.py` does (same validation, same writes)."""
    client = make_sync_client(settings)
    try:
        apply_menu(client, load_menu_file(path), restaurant_id=restaurant_id)
    finally:
        close_sync_client(client)
