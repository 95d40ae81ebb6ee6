"""`python -m bench.signin_flood [--attempts N] [--out DIR]`: sign-in floods against a running
board, and what they do to a call (issue 22 §1).

A board (`python -m services.board`, real Firestore emulator) and, in this process, scripted
voice calls (bench/turns.py's rig: the agent, the tools, the emulator; the LLM, STT and TTS are
scripted) — on the same machine's cores. Five phases, each measuring the calls' turn overhead:

1. quiet: no sign-in traffic;
2. one client: N wrong passwords for the owner's account from one address (127.0.0.10);
3. fifty clients: N wrong passwords for the owner's account spread over 50 addresses
   (127.0.1.1-50), all at once;
4. fifty clients, many names: N attempts over 50 addresses, each for another username (no
   account back-off to hide behind: this is what reaches the hash queue);
5. quiet again: how much the machine itself drifted meanwhile.

The flood runs in a child process (its own CPU, as a remote attacker's would not be here: this
is the harsher case). During each flood the owner signs in from a browser that signed in before;
the figures say whether and how fast. Per phase: turn overhead p50/p95, the answers (303 wrong
= password checked and wrong, 429 back-off, 429 busy = shed by the hash queue), the board
process's CPU-seconds. Results: bench/signin_flood_results.json and .md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from bench.stats import timing  # noqa: E402
from bench.turns import TurnResults, run_call  # noqa: E402

IN_FLIGHT = 32  # attempts a flooding client keeps open at once
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
    if resp.status_code == 429:  # the page carries a fresh form (and sets its cookie)
        return "429 busy" if "busy" in resp.text else "429 back-off"
    if resp.status_code == 303:
        where = resp.headers["location"]
        return "303 " + (where.split("error=")[1].split("&")[0] if "error=" in where
                         else "signed in")
    return str(resp.status_code)


async def flood(url: str, attempts: int, clients: int, username: str) -> dict[str, Any]:
    """The attacker (child process): `attempts` wrong passwords from `clients` addresses."""
    addresses = (["127.0.0.10"] if clients == 1
                 else [f"127.0.1.{n}" for n in range(1, clients + 1)])
    pool = [_client(url, a) for a in addresses]
    tokens = [await _form(c) for c in pool]
    in_flight = asyncio.Semaphore(IN_FLIGHT if clients == 1 else 4 * clients)
    answers: Counter[str] = Counter()
    t0 = time.monotonic()

    async def one(n: int) -> None:
        i = n % len(pool)
        async with in_flight:
            name = username if username != "*" else f"user{n}"
            try:
                answer = await _attempt(pool[i], name, f"guess-{n}", tokens[i])
            except httpx.HTTPError as e:  # the board dropped or refused the connection
                answer = f"no answer ({type(e).__name__})"
            answers[answer] += 1
            if answer == "303 expired":  # (the refused page keeps the form's token)
                tokens[i] = await _form(pool[i])

    try:
        await asyncio.gather(*(one(n) for n in range(attempts)))
    finally:
        for c in pool:
            await c.aclose()
    return {"answers": dict(answers), "seconds": round(time.monotonic() - t0, 2),
            "attacker_cpu_s": round(time.process_time(), 2)}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, clock ticks


async def _owner_signs_in(url: str, tablet: httpx.AsyncClient, owner: tuple[str, str],
                          after_s: float) -> dict[str, Any]:
    await asyncio.sleep(after_s)
    t0 = time.monotonic()
    answer = await _attempt(tablet, *owner)
    tablet.cookies.delete("board_session")
    return {"answer": answer, "ms": round((time.monotonic() - t0) * 1000, 1)}


async def _phase(fs: Firestore, url: str, board_pid: int, flood_args: list[str] | None,
                 tablet: httpx.AsyncClient, owner: tuple[str, str], min_turns: int
                 ) -> dict[str, Any]:
    out, n = TurnResults(), 0
    cpu0 = _cpu_seconds(board_pid)
    child = None
    if flood_args is not None:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.signin_flood", "--flood", *flood_args, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE)
    owner_try = (asyncio.create_task(_owner_signs_in(url, tablet, owner, 2.0))
                 if child else None)
    t0 = time.monotonic()
    async with fs.fresh() as (db, catalog):
        while len(out.overhead) < min_turns or (child and child.returncode is None):
            for script in cycle(n):
                await run_call(fs, script, out, db, catalog)
            n += 1
    result: dict[str, Any] = {"turn_overhead_ms": timing(out.overhead),
                              "calls_seconds": round(time.monotonic() - t0, 1)}
    if child is not None:
        stdout, _ = await child.communicate()
        result["flood"] = json.loads(stdout.decode().strip().splitlines()[-1])
        result["owner_sign_in"] = await owner_try  # type: ignore[misc]
    result["board_cpu_s"] = round(_cpu_seconds(board_pid) - cpu0, 2)
    return result


async def measure(attempts: int, min_turns: int) -> dict[str, Any]:
    owner = ("owner", secrets.token_urlsafe(12))
    with Firestore() as fs, tempfile.TemporaryDirectory(prefix="bench-flood-") as tmp:
        # the board on a project of its own: the rig's fresh() empties the calls' project
        proc, url = await asyncio.to_thread(_start_board, fs, Path(tmp), owner, BOARD_PROJECT)
        try:
            tablet = _client(url, "127.0.0.2")
            assert await _attempt(tablet, *owner) == "303 signed in"  # a known browser now
            tablet.cookies.delete("board_session")
            warm = TurnResults()
            async with fs.fresh() as (db, catalog):
                for script in cycle(10_000):  # first imports and RPC channel: not counted
                    await run_call(fs, script, warm, db, catalog)
            phases = {"quiet": await _phase(fs, url, proc.pid, None, tablet, owner, min_turns)}
            for name, clients, user in (("one_client", 1, owner[0]),
                                        ("fifty_clients", 50, owner[0]),
                                        ("fifty_clients_many_names", 50, "*")):
                phases[name] = await _phase(
                    fs, url, proc.pid, [url, str(attempts), str(clients), user], tablet,
                    owner, min_turns)
            phases["quiet_again"] = await _phase(fs, url, proc.pid, None, tablet, owner,
                                                 min_turns)
            await tablet.aclose()
        finally:
            _stop(proc)
    quiet = phases["quiet"]["turn_overhead_ms"]["p95"]
    for name in ("one_client", "fifty_clients", "fifty_clients_many_names", "quiet_again"):
        p95 = phases[name]["turn_overhead_ms"]["p95"]
        phases[name]["turn_p95_change_pct"] = round((p95 - quiet) / quiet * 100, 1)
    return {"attempts_per_flood": attempts, "phases": phases}


def _markdown(results: dict[str, Any]) -> str:
    rows = ["| phase | turn p50 ms | turn p95 ms | p95 vs quiet | answers | flood s "
            "| board CPU s | attacker CPU s | owner signs in |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name, p in results["phases"].items():
        t = p["turn_overhead_ms"]
        flood_ = p.get("flood", {})
        owner = p.get("owner_sign_in")
        rows.append(
            f"| {name} | {t['p50']} | {t['p95']} | {p.get('turn_p95_change_pct', '-')} % "
            f"| {', '.join(f'{k}: {v}' for k, v in sorted(flood_.get('answers', {}).items()))}"
            f" | {flood_.get('seconds', '-')} | {p['board_cpu_s']} "
            f"| {flood_.get('attacker_cpu_s', '-')} "
            f"| {owner['answer'] + ' in ' + str(owner['ms']) + ' ms' if owner else '-'} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=48)
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    parser.add_argument("--flood", nargs=4, metavar=("URL", "N", "CLIENTS", "USER"))
    args = parser.parse_args(argv)
    if args.flood:
        url, n, clients, user = args.flood
        print(json.dumps(asyncio.run(flood(url, int(n), int(clients), user))))
        return 0
    results = asyncio.run(measure(args.attempts, args.turns))
    (args.out / "signin_flood_results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "signin_flood_results.md").write_text(_markdown(results))
    print(_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
