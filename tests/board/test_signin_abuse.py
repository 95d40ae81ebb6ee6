"""Sign-in under attack, against a running board of its own restaurant: guessing is slowed per
client and per account, a burst of parallel guesses counts as many, the count holds across
board processes, a flood is shed with 429, and no stranger can lock the owner out."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from services.board.app import DEVICE_COOKIE
from services.board.guard import COOKIE
from services.board.signin import ACCOUNT, CLIENT
from store.signin import Backoff
from testkit.emulator import Emulator
from testkit.firestore import ROOT
from tests.board.attackers import client_from, lab_board, signed_in, try_sign_in
from tests.board.conftest import PROJECT, BoardServer, api_client, run_board

LAB = "signin-lab"


@pytest.fixture(scope="module")
def lab(firestore_emulator: Emulator, board_server: BoardServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoardServer]:
    with lab_board(firestore_emulator, board_server, tmp_path_factory, LAB) as server:
        yield server


def most_checked(policy: Backoff, seconds: float) -> int:
    """How many attempts a back-off lets reach the password check within `seconds`: the free
    ones, then one per wait that can have run out (each twice the last)."""
    n, spent = policy.free, 0.0
    while spent + policy.wait_after(n) <= seconds:
        spent += policy.wait_after(n)
        n += 1
    return n + 1  # the one whose wait was running out as the run ended


async def _timed_guesses(server: BoardServer, address: str, names: list[str]
                         ) -> tuple[list[httpx.Response], float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with client_from(server, address) as client:
        answers = [await try_sign_in(client, name, f"guess-{n}") for n, name in enumerate(names)]
    return answers, loop.time() - started


async def _staff(server: BoardServer) -> tuple[str, str]:
    name, password = "cook" + secrets.token_hex(3), secrets.token_urlsafe(12)
    owner = await api_client(server)
    try:
        made = await owner.post("/api/users", json={"username": name, "password": password,
                                                    "role": "staff"})
        assert made.status_code == 201, made.text
    finally:
        await owner.aclose()
    return name, password


@pytest.mark.probe(
    "24 parallel wrong passwords, then the right one",
    "at most the free guesses are checked; the right password then waits (429, Retry-After)")
async def test_parallel_guesses_are_each_counted_and_the_right_password_then_waits(lab):
    name, password = await _staff(lab)
    async with client_from(lab, "127.0.0.21") as client:
        form = await client.get("/login")
        csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
        burst = await asyncio.gather(*(client.post("/login", data={
            "username": name, "password": f"wrong-{n}", "csrf": csrf}) for n in range(24)))
        checked = [r for r in burst if r.status_code == 303]
        assert all("error=wrong" in r.headers["location"] for r in checked)
        assert len(checked) <= ACCOUNT.free, "more guesses were hashed than the free ones"
        assert all(r.status_code in (303, 429) for r in burst)
        right = await try_sign_in(client, name, password)
        assert right.status_code == 429 and COOKIE not in right.cookies
        assert 1 <= int(right.headers["retry-after"]) <= ACCOUNT.max_s


@pytest.mark.probe(
    "30 guesses from one client over many usernames",
    "after 10, exponential back-off per client address (429)")
async def test_one_client_is_slowed_whatever_names_it_tries(lab):
    answers, took = await _timed_guesses(lab, "127.0.0.22", [f"nobody{n}" for n in range(30)])
    codes = [r.status_code for r in answers]
    assert codes[:CLIENT.free] == [303] * CLIENT.free, codes
    assert set(codes) == {303, 429}, codes
    assert codes.count(303) <= most_checked(CLIENT, took), (codes, took)


@pytest.mark.probe(
    "a stranger (elsewhere and on the owner's network) guesses the owner's password",
    "the owner's known browser signs in at once; a new browser waits at most 300 s; "
    "`python -m services.board unlock` clears it")
async def test_a_stranger_cannot_lock_the_owner_out(lab):
    boss, password = lab.owner
    tablet = client_from(lab, "127.0.0.31")
    try:
        first = await try_sign_in(tablet, boss, password)
        assert signed_in(first) and DEVICE_COOKIE in tablet.cookies
        me = await tablet.get("/api/me")
        out = await tablet.post("/logout", headers={"X-CSRF-Token": me.json()["csrf"]})
        assert out.status_code == 200
        # a stranger elsewhere, and one on the owner's own network, guess the owner's password
        for address in ("127.0.0.32", "127.0.0.31"):
            answers, took = await _timed_guesses(lab, address, [boss] * 15)
            assert not any(signed_in(a) for a in answers)
            assert 429 in [a.status_code for a in answers]
            assert sum(a.status_code == 303 for a in answers) <= most_checked(ACCOUNT, took)
        # the owner's own tablet signs in at once, with the right password only
        assert (await try_sign_in(tablet, boss, "still-wrong")).status_code == 303
        assert signed_in(await try_sign_in(tablet, boss, password))
        # a browser the owner never used waits a bounded time, and the host can clear it
        async with client_from(lab, "127.0.0.34") as stranger:  # still guessing, right now:
            # until a guess is checked (and wrong), so the account's back-off runs from now,
            # however long the steps above took (a slow machine let the earlier one run out)
            for n in range(20):
                guess = await try_sign_in(stranger, boss, f"now-{n}")
                if guess.status_code == 303:
                    assert not signed_in(guess)
                    break
                assert guess.status_code == 429, guess.status_code
                await asyncio.sleep(float(guess.headers["retry-after"]))
            else:
                raise AssertionError("the stranger never got a guess checked")
        async with client_from(lab, "127.0.0.33") as fresh:
            waited = await try_sign_in(fresh, boss, password)
            assert waited.status_code == 429
            assert int(waited.headers["retry-after"]) <= ACCOUNT.max_s
            done = await asyncio.to_thread(_unlock, lab, boss)
            assert done.returncode == 0, done.stderr
            assert signed_in(await try_sign_in(fresh, boss, password))
    finally:
        await tablet.aclose()


def _unlock(server: BoardServer, username: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": server.settings.firestore_emulator_host,
           "GOOGLE_CLOUD_PROJECT": PROJECT, "BOARD_RESTAURANT": LAB,
           "ENV_FILE": str(server.log_path.parent / "none.env")}
    return subprocess.run([sys.executable, "-m", "services.board", "unlock", username], cwd=ROOT,
                          env=env, timeout=60, capture_output=True, text=True)


@pytest.mark.probe(
    "guesses spread over two board processes",
    "one count in Firestore: the second board refuses too")
async def test_the_count_holds_across_board_processes(lab, firestore_emulator, tmp_path):
    name, password = await _staff(lab)
    with run_board(firestore_emulator, lab.settings, tmp_path, lab.owner,
                   restaurant=LAB) as twin:
        for n in range(ACCOUNT.free):
            board = lab if n % 2 else twin
            async with client_from(board, f"127.0.0.{40 + n}") as client:
                assert (await try_sign_in(client, name, f"wrong-{n}")).status_code == 303
        for board in (lab, twin):
            async with client_from(board, "127.0.0.49") as client:
                assert (await try_sign_in(client, name, password)).status_code == 429


@pytest.mark.probe(
    "50 clients sign in at once",
    "beyond the hash queue shed with 429 'busy'; the owner signs in meanwhile")
async def test_a_flood_from_fifty_clients_is_shed_and_the_owner_still_signs_in(lab):
    boss, password = lab.owner
    tablet = client_from(lab, "127.0.0.60")
    try:
        assert signed_in(await try_sign_in(tablet, boss, password))
        tablet.cookies.delete(COOKIE)
        # a fresh connection per request: on a loaded machine a kept-alive one can be closed
        # by the board's keep-alive timeout just as the client reuses it
        clients = [client_from(lab, f"127.0.1.{n}",
                               limits=httpx.Limits(max_keepalive_connections=0))
                   for n in range(50)]
        forms = await asyncio.gather(*(c.get("/login") for c in clients))
        tokens = [f.text.split('name="csrf" value="')[1].split('"')[0] for f in forms]

        async def guess(n: int) -> httpx.Response:
            return await clients[n].post("/login", data={
                "username": f"nobody{n}", "password": "wrong-password", "csrf": tokens[n]})

        flood = [asyncio.ensure_future(guess(n)) for n in range(50)]
        await asyncio.sleep(0.05)
        owner = await try_sign_in(tablet, boss, password)
        answers = await asyncio.gather(*flood)
        for c in clients:
            await c.aclose()
        codes = sorted(r.status_code for r in answers)
        assert set(codes) <= {303, 429}, codes
        assert codes.count(429) > 0, "a flood beyond the hash queue must be shed"
        assert all("busy" in r.text for r in answers if r.status_code == 429)
        assert signed_in(owner), owner.status_code
    finally:
        await tablet.aclose()
