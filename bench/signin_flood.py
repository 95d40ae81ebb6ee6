"""`python -m bench.signin_flood [--attempts N] [--rounds R] [--out DIR]`: sign-in floods
against a running board, and what they do to a call's turns (issue 22 §1: a concurrent call's
turn latency p95 moves by no more than 10 %).

A board (`python -m services.board`, its own process, real Firestore emulator) and, in this
process, scripted voice calls one after another (bench/turns.py's rig: the agents, the tools,
the emulator; the LLM, STT and TTS are scripted), on the same machine's cores. Three kinds of
flood of N attempts each:

* one_client: wrong passwords for the owner's account from one address (127.0.0.10);
* fifty_clients: wrong passwords for the owner's account over 50 addresses (127.0.1.1-50);
* fifty_clients_many_names: over 50 addresses, each attempt another username (no account
  back-off to hide behind: this is what reaches the hash queue).

Each round runs, per kind, a flood window and, right beside it, a quiet window as long as the
flood lasted (quiet first in every other round, so the machine's own drift, here other
people's tests, falls on both sides). A call's turns count for a flood window only if the flood
ran all through the call (a call that outlives its flood is dropped). The turn overhead's p95
of each kind's flood windows is compared with that of its quiet windows.

The attacker runs in a child process at nice 19 (for want of another host: a remote attacker's
CPU would not be here at all). During each flood the owner signs in from a browser that signed
in before; the figures say whether and how fast. Per flood: the answers (303 wrong = password
checked and wrong, 429 back-off, 429 busy = shed by the hash queue), the board process's
CPU-seconds. Results: bench/signin_flood_results.json and .md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.board import _start_board, _stop  # noqa: E402
from bench.calls import cycle  # noqa: E402
from bench.emulator import Firestore  # noqa: E402
from bench.raw_http import Connection, Jar  # noqa: E402
from bench.stats import timing  # noqa: E402
from bench.turns import TurnResults, run_call  # noqa: E402

IN_FLIGHT = 32  # attempts a flooding client keeps open at once
# The attacker runs here only for want of another host: at the lowest priority, so what it
# costs the calls is as little as this machine allows (what the board costs is the measure).
ATTACKER_NICE = 19
FLOOD_GUESS_S = 8.0  # a quiet window before the first flood of its kind has no length yet
OWNER_AFTER_S = 1.0  # the owner's tablet signs in this long after the attacker starts
CALLS_A_CYCLE = len(cycle(0))  # an order, a booking, a question, a handoff (bench/calls.py)
CALL_NUMBERS = itertools.count()
BOARD_PROJECT = "bench-signin-flood"  # the calls' rig empties its own project every phase


def _client(url: str, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, timeout=60,
                             transport=httpx.AsyncHTTPTransport(local_address=address))


async def _form(client: httpx.AsyncClient) -> str:
    form = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    return csrf.group(1) if csrf else ""


async def _attempt(client: httpx.AsyncClient, username: str, password: str,
                   csrf: str | None = None) -> str:
    """One sign-in; a flooding client reuses one form's token (the board does not rotate it
    on a failure), as a scripted attacker would."""
    resp = await client.post("/login", data={"username": username, "password": password,
                                             "csrf": csrf or await _form(client)})
    return _answer(resp.status_code, resp.headers.get("location", ""), resp.content)


def _answer(status: int, location: str, body: bytes) -> str:
    if status == 429:  # the page carries a fresh form (and sets its cookie)
        return "429 busy" if b"busy" in body else "429 back-off"
    if status == 303:
        return "303 " + (location.split("error=")[1].split("&")[0] if "error=" in location
                         else "signed in")
    return str(status)


async def _raw_form(conn: Connection) -> str:
    page = await conn.request("GET", "/login")
    csrf = re.search(rb'name="csrf" value="([^"]+)"', page.body)
    return csrf.group(1).decode() if csrf else ""


async def flood(url: str, attempts: int, clients: int, username: str) -> dict[str, Any]:
    """The attacker (child process): `attempts` wrong passwords from `clients` addresses, each
    address's attempts over its own kept-alive connections (bench/raw_http.py: what the
    requests cost to make is not the board's doing), one form's token an address, as a
    scripted attacker would (the board does not rotate it on a failure)."""
    addresses = (["127.0.0.10"] if clients == 1
                 else [f"127.0.1.{n}" for n in range(1, clients + 1)])
    per_address = IN_FLIGHT if clients == 1 else 4
    jars = {a: Jar() for a in addresses}
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for a in addresses:
        for _ in range(per_address):
            idle.put_nowait(Connection(url, a, jars[a]))
    tokens = {a: await _raw_form(Connection(url, a, jars[a])) for a in addresses}
    answers: Counter[str] = Counter()
    t0, began_at = time.monotonic(), time.time()

    async def one(n: int) -> None:
        conn = await idle.get()
        name = username if username != "*" else f"user{n}"
        try:
            got = await conn.request("POST", "/login", {
                "username": name, "password": f"guess-{n}", "csrf": tokens[conn.address]})
            answer = _answer(got.status, got.headers.get("location", ""), got.body)
        except ConnectionError:  # the board dropped or refused the connection
            answer = "no answer (connection)"
        finally:
            idle.put_nowait(conn)
        answers[answer] += 1
        if answer == "303 expired":  # (the refused page keeps the form's token)
            tokens[conn.address] = await _raw_form(conn)

    try:
        await asyncio.gather(*(one(n) for n in range(attempts)))
    finally:
        while not idle.empty():
            await idle.get_nowait().close()
    return {"answers": dict(answers), "seconds": round(time.monotonic() - t0, 2),
            "attacker_cpu_s": round(time.process_time(), 2), "began_at": began_at,
            "ended_at": time.time()}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, clock ticks


async def _owner_signs_in(tablet: httpx.AsyncClient, owner: tuple[str, str],
                          after_s: float) -> dict[str, Any]:
    await asyncio.sleep(after_s)
    t0 = time.monotonic()
    answer = await _attempt(tablet, *owner)
    tablet.cookies.delete("board_session")
    return {"answer": answer, "ms": round((time.monotonic() - t0) * 1000, 1)}


class Windows:
    """The calls' turns by window: (overhead ms, began, ended) for each turn."""

    def __init__(self) -> None:
        self.turns: dict[str, list[float]] = {}

    def add(self, window: str, turns: list[float]) -> None:
        self.turns.setdefault(window, []).extend(turns)


async def _calls(fs: Firestore, rig: tuple[Any, Any], until: Any) -> TurnResults:
    """Scripted calls one after another (one call, then the next) until `until()`."""
    out = TurnResults()
    while not until():
        n = next(CALL_NUMBERS)  # over every window: each cycle books its own slots
        scripts = cycle(n // CALLS_A_CYCLE)
        await run_call(fs, scripts[n % CALLS_A_CYCLE], out, *rig)
    return out


async def _flood_window(fs: Firestore, rig: tuple[Any, Any], windows: Windows, kind: str,
                        flood_args: list[str], tablet: httpx.AsyncClient,
                        owner: tuple[str, str]) -> dict[str, Any]:
    """Calls while one flood runs: a turn counts only if it began after the flood's first
    attempt and ended before its last answer (the attacker's own clock, this machine's)."""
    child = await asyncio.create_subprocess_exec(
        "nice", "-n", str(ATTACKER_NICE), sys.executable, "-m", "bench.signin_flood", "--flood",
        *flood_args, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    owner_try = asyncio.create_task(_owner_signs_in(tablet, owner, OWNER_AFTER_S))
    attacker = asyncio.create_task(child.communicate())
    out = await _calls(fs, rig, attacker.done)
    stdout, _ = await attacker
    flood_ = json.loads(stdout.decode().strip().splitlines()[-1])
    inside = [ms for ms, (a, b) in zip(out.overhead, out.spans, strict=True)
              if flood_["began_at"] <= a and b <= flood_["ended_at"]]
    windows.add(kind, inside)
    return {"flood": flood_, "owner_sign_in": await owner_try,
            "seconds": flood_["seconds"], "turns_outside": len(out.overhead) - len(inside)}


async def _quiet_window(fs: Firestore, rig: tuple[Any, Any], windows: Windows, kind: str,
                        seconds: float) -> None:
    """Calls for as long as the flood beside it lasted, with no sign-in traffic."""
    t0 = time.monotonic()
    out = await _calls(fs, rig, lambda: time.monotonic() - t0 >= seconds)
    windows.add(kind, out.overhead)


KINDS = (("one_client", 1, "owner"), ("fifty_clients", 50, "owner"),
         ("fifty_clients_many_names", 50, "*"))


async def _rounds(fs: Firestore, url: str, board_pid: int, tablet: httpx.AsyncClient,
                  owner: tuple[str, str], attempts: int, rounds: int) -> dict[str, Any]:
    """Each round, per kind: a flood window and a quiet window of the same length right beside
    it, quiet first in every other round (the machine's own drift falls on both)."""
    windows, floods = Windows(), []
    lasted = {kind: FLOOD_GUESS_S for kind, *_ in KINDS}  # each kind's last flood, seconds
    async with fs.fresh() as rig:
        for script in cycle(10_000):  # first imports and RPC channel: not counted
            await run_call(fs, script, TurnResults(), *rig)
        for r in range(rounds):
            for kind, clients, user in KINDS:
                args = [url, str(attempts), str(clients), owner[0] if user == "owner" else user]
                if r % 2:
                    await _quiet_window(fs, rig, windows, f"quiet_{kind}", lasted[kind])
                cpu0 = _cpu_seconds(board_pid)
                got = await _flood_window(fs, rig, windows, kind, args, tablet, owner)
                got["board_cpu_s"] = round(_cpu_seconds(board_pid) - cpu0, 2)
                lasted[kind] = got["seconds"]
                if not r % 2:
                    await _quiet_window(fs, rig, windows, f"quiet_{kind}", lasted[kind])
                floods.append({"round": r, "kind": kind, **got})
    turns = windows.turns
    turns["all_floods"] = [t for kind, *_ in KINDS for t in turns.get(kind, [])]
    turns["all_quiet"] = [t for kind, *_ in KINDS for t in turns.get(f"quiet_{kind}", [])]
    return {"windows": {k: timing(v) for k, v in turns.items()}, "floods": floods}


async def measure(attempts: int, rounds: int) -> dict[str, Any]:
    owner = ("owner", secrets.token_urlsafe(12))
    with Firestore() as fs, tempfile.TemporaryDirectory(prefix="bench-flood-") as tmp:
        # the board on a project of its own: the rig's fresh() empties the calls' project
        proc, url = await asyncio.to_thread(_start_board, fs, Path(tmp), owner, BOARD_PROJECT)
        try:
            tablet = _client(url, "127.0.0.2")
            assert await _attempt(tablet, *owner) == "303 signed in"  # a known browser now
            tablet.cookies.delete("board_session")
            results = await _rounds(fs, url, proc.pid, tablet, owner, attempts, rounds)
            await tablet.aclose()
        finally:
            _stop(proc)
    for kind in [k for k, *_ in KINDS] + ["all_floods"]:
        quiet_name = "all_quiet" if kind == "all_floods" else f"quiet_{kind}"
        quiet, flooded = results["windows"][quiet_name], results["windows"][kind]
        results["windows"][kind]["p95_change_pct"] = round(
            (flooded["p95"] - quiet["p95"]) / quiet["p95"] * 100, 1)
    return {"attempts_per_flood": attempts, "rounds": rounds, "attacker_nice": ATTACKER_NICE,
            "load_average": list(os.getloadavg()), **results}


def _markdown(results: dict[str, Any]) -> str:
    rows = ["| window | turns | turn p50 ms | turn p95 ms | p95 vs its quiet windows |",
            "|---|---|---|---|---|"]
    for name, t in results["windows"].items():
        change = f"{t['p95_change_pct']} %" if "p95_change_pct" in t else "-"
        rows.append(f"| {name} | {t['n']} | {t['p50']} | {t['p95']} | {change} |")
    rows += ["", "| round | flood | answers | flood s | board CPU s | attacker CPU s "
             "| turns outside the flood | owner signs in |", "|---|---|---|---|---|---|---|---|"]
    for f in results["floods"]:
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(f["flood"]["answers"].items()))
        owner = f["owner_sign_in"]
        rows.append(f"| {f['round']} | {f['kind']} | {answers} | {f['flood']['seconds']} "
                    f"| {f['board_cpu_s']} | {f['flood']['attacker_cpu_s']} "
                    f"| {f['turns_outside']} | {owner['answer']} in {owner['ms']} ms |")
    load = ", ".join(f"{v:.1f}" for v in results["load_average"])
    rows.append(f"\n{results['attempts_per_flood']} attempts a flood, {results['rounds']} "
                f"rounds; attacker at nice {results['attacker_nice']}; load average at the "
                f"end {load}.")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    parser.add_argument("--flood", nargs=4, metavar=("URL", "N", "CLIENTS", "USER"))
    args = parser.parse_args(argv)
    if args.flood:
        url, n, clients, user = args.flood
        print(json.dumps(asyncio.run(flood(url, int(n), int(clients), user))))
        return 0
    results = asyncio.run(measure(args.attempts, args.rounds))
    (args.out / "signin_flood_results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "signin_flood_results.md").write_text(_markdown(results))
    print(_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
