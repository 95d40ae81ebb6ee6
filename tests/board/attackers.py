"""Clients the attack tests use: each from its own loopback address (127.0.0.0/8 is all this
machine's), so the board sees distinct clients exactly as it would distinct hosts."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from testkit.emulator import Emulator
from testkit.firestore import seed_menu_file
from tests.board.conftest import BoardServer, run_board


def client_from(server: BoardServer, address: str = "127.0.0.1",
                **kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, timeout=30,
                             transport=httpx.AsyncHTTPTransport(local_address=address),
                             **kwargs)  # type: ignore[arg-type]


async def try_sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    """The sign-in form as a browser posts it: fetch the form (its CSRF cookie), post it."""
    form = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    return await client.post("/login", data={"username": username, "password": password,
                                             "csrf": csrf.group(1), "next": "/orders"})


def signed_in(resp: httpx.Response) -> bool:
    return resp.status_code == 303 and resp.headers.get("location") == "/orders"


@contextmanager
def lab_board(firestore_emulator: Emulator, board_server: BoardServer,
              tmp_path_factory: pytest.TempPathFactory, restaurant: str) -> Iterator[BoardServer]:
    """A board of its own restaurant (own accounts, own back-off counters): floods against it
    leave the shared board's sign-in untouched."""
    work = tmp_path_factory.mktemp(restaurant)
    seed_menu_file(board_server.settings, restaurant_id=restaurant)
    with run_board(firestore_emulator, board_server.settings, work,
                   ("boss", secrets.token_urlsafe(12)), restaurant=restaurant) as server:
        yield server
