"""`python -m bench [--quick] [--only NAME ...] [--out DIR]`: run the benchmarks, write the results.

A full run writes bench/results.json and bench/results.md (committed); `--quick` runs every
benchmark with fewer samples (1 and 2 concurrent calls) and writes to a temporary directory
unless --out is given. See bench/README.md for what each figure measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCHMARKS = ("turns", "loop_lag", "persistence", "tokens", "concurrency")


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "livekit_agents": version("livekit-agents"),
        "platform": platform.platform(terse=True),
    }


async def _in_process(names: set[str], quick: bool, results: dict[str, Any]) -> None:
    from bench import loop_lag, persistence, tokens, turns
    from bench.emulator import Firestore

    with Firestore() as fs:
        if "turns" in names:
            results.update(await _timed("turns", turns.measure(
                fs, min_turns=16 if quick else 120, warm_up=not quick)))
        if "loop_lag" in names:
            results.update(await _timed("loop_lag", loop_lag.measure(
                fs, concurrent_calls=2 if quick else 5, cycles=1 if quick else 3)))
        if "persistence" in names:
            results.update(await _timed("persistence", persistence.measure(
                fs, n=20 if quick else 200)))
        if "tokens" in names:
            results.update(await _timed("tokens", tokens.measure(fs, reps=1 if quick else 4)))


async def _timed(name: str, work: Any) -> dict[str, Any]:
    t0 = time.monotonic()
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    out = await work
    print(f"bench: {name} done in {time.monotonic() - t0:.1f}s", file=sys.stderr, flush=True)
    return out


def wait_for_quiet(max_wait_s: float, busy_pct: float = 30.0) -> tuple[float, float]:
    """Other work on this machine skews every timing: wait (bounded) until the CPUs are mostly
    idle; returns the last CPU reading and the 1-minute load average."""
    import psutil

    deadline = time.monotonic() + max_wait_s
    while True:
        busy = psutil.cpu_percent(interval=3)
        if busy <= busy_pct or time.monotonic() > deadline:
            return busy, round(os.getloadavg()[0], 2)
        print(f"bench: machine busy ({busy:.0f}% CPU), waiting", file=sys.stderr, flush=True)


def run(names: set[str], quick: bool) -> dict[str, Any]:
    results: dict[str, Any] = {"mode": "quick" if quick else "full"}
    busy, load = wait_for_quiet(0 if quick else 120)
    started = time.monotonic()
    if names - {"concurrency"}:
        asyncio.run(_in_process(names, quick, results))
    if "concurrency" in names:
        from bench import concurrency

        print("bench: concurrency ...", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        if not quick:
            wait_for_quiet(60)
        results.update(concurrency.measure(levels=(2,) if quick else (1, 5, 10, 25, 50)))
        print(f"bench: concurrency done in {time.monotonic() - t0:.1f}s", file=sys.stderr)
    results["machine"] = {**machine(), "busy_cpu_pct_at_start": busy, "load_avg_at_start": load}
    results["seconds"] = round(time.monotonic() - started, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer samples: seconds, not minutes")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    parser.add_argument("--out", type=Path, help="directory for results.json and results.md")
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.ERROR, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("livekit").setLevel(logging.CRITICAL)
    out = args.out or (Path(tempfile.gettempdir()) / "bench-quick" if args.quick
                       else ROOT / "bench")
    out.mkdir(parents=True, exist_ok=True)
    from bench.report import markdown

    results = run(set(args.only or BENCHMARKS), args.quick)
    previous = out / "results.json"
    if previous.exists():
        # bench/cores.py's figures (`--record`) are not re-run here: keep them, with their date
        old = json.loads(previous.read_text())
        for key in ("cores_per_call", "pss_per_call_mb", "turn_taking"):
            if key in old and key not in results:
                results[key] = old[key]
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    table = markdown(results)
    (out / "results.md").write_text(table)
    print(table)
    print(f"written: {out / 'results.json'}, {out / 'results.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
