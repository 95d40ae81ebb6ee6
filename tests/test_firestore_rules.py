"""firestore.rules: client SDKs get nothing; the worker (admin credentials) keeps working."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from config import FirestoreSettings
from store import connect
from testkit import emulator
from testkit.emulator import Emulator
from tests.conftest import ROOT, make_order

PROJECT = "demo-rules"


@pytest.fixture(scope="module")
def ruled_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    log = tmp_path_factory.mktemp("rules") / "emulator.log"
    emu = emulator.start(log_path=log, extra_args=(f"--rules={ROOT / 'firestore.rules'}",))
    try:
        yield emu
    finally:
        emu.stop()


def rest(emu: Emulator, method: str, path: str, body: dict[str, Any] | None = None,
         *, admin: bool = False) -> int:
    """A Firestore REST call as a browser (no token) or as the owner (admin)."""
    url = f"http://{emu.host}/v1/projects/{PROJECT}/databases/(default)/documents/{path}"
    headers = {"Content-Type": "application/json"}
    if admin:
        headers["Authorization"] = "Bearer owner"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


async def test_clients_can_neither_read_nor_write_but_the_worker_can(
    ruled_emulator: Emulator, tmp_path: Path
) -> None:
    settings = FirestoreSettings(firestore_emulator_host=ruled_emulator.host,
                                 google_cloud_project=PROJECT,
                                 outbox_path=tmp_path / "outbox.jsonl")
    db = await connect(settings)
    try:
        order = make_order()
        assert (await db.save_order(order, date(2026, 11, 20))).status == "saved"
    finally:
        await db.close()

    home = "restaurants/main"  # every restaurant's data lives under its own document
    assert rest(ruled_emulator, "GET", f"{home}/orders/{order.id}") == 403
    assert rest(ruled_emulator, "GET", f"{home}/customers/{order.customer_phone}") == 403
    assert rest(ruled_emulator, "GET", home) == 403
    fields = {"fields": {"price_cents": {"integerValue": "1"}}}
    assert rest(ruled_emulator, "PATCH", f"{home}/menu_items/latte", fields) == 403
    assert rest(ruled_emulator, "GET", f"{home}/orders/{order.id}", admin=True) == 200
