"""Cores and memory per call: CPU-seconds and PSS a call costs the worker, LiveKit and the rest.

    .venv/bin/python -m bench.cores --calls 4 --reps 2 --config base= \
        --config silero=PHONE_VAD=silero --out /tmp/cores.json

One stack (redis, LiveKit server, Firestore emulator) for the whole run; for every config and
repetition a fresh `main.py start` with that config's environment, then N standard pickup calls
of bench/concurrency.py (SDK callers publishing espeak-ng speech, four turns, order saved,
agent hangs up). Wall-clock latencies are noisy on a shared 2-core machine; CPU-seconds and
PSS are much less so, which is why this benchmark counts those:

- `worker_cpu_s_per_call`: CPU-seconds (user + system) of the worker's whole process tree --
  main process, forkserver, inference process, job processes, and the job processes that
  ended (their time is added to the process that reaped them) -- from just before the first
  call rings until every call has hung up and the worker is quiet again (its replacement idle
  process warmed), divided by the calls. `worker_cores_per_call` divides that by the mean
  call length (join to hang-up).
- `livekit_server_cpu_s_per_call`, `fakes_cpu_s_per_call`, `callers_cpu_s_per_call`: the same
  window for the LiveKit server, the fake providers and this (caller) process.
- `pss_fixed_mb`: the worker tree's PSS when idle before the calls; `pss_per_call_mb`: (PSS
  in the middle of the calls - fixed) / calls.
- `load_avg`: the 1-minute load average before and after: other engineers' work on the
  machine shows here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.concurrency import Bench, Caller, TreeSampler

QUIET_CORES = 0.06  # the worker tree counts as idle below this CPU use


def tree_cpu_s(pid: int) -> float:
    """CPU-seconds of a process tree, including descendants that exited and were reaped."""
    total = 0.0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


def proc_cpu_s(pid: int) -> float:
    try:
        t = psutil.Process(pid).cpu_times()
        return t.user + t.system
    except psutil.Error:
        return 0.0


async def wait_quiet(pid: int, limit_s: float, window_s: float = 1.5) -> float:
    """Wait until the tree uses less than QUIET_CORES over a window; returns seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        a = tree_cpu_s(pid)
        await asyncio.sleep(window_s)
        if (tree_cpu_s(pid) - a) / window_s < QUIET_CORES:
            break
    return time.monotonic() - t0


class CoresBench(Bench):
    async def cores_level(self, n: int, env: dict[str, str]) -> dict[str, Any]:
        os.environ["BENCH_WORKER_ENV"] = json.dumps(env)
        self._restart_providers(n)
        try:
            os.nice(-10)
        except OSError:
            pass
        procs = self.stack.procs
        worker = procs["worker"].popen.pid
        await wait_quiet(worker, 30)
        sampler = TreeSampler(worker)
        pss_fixed = await asyncio.to_thread(sampler.pss)
        load_before = os.getloadavg()[0]
        lk, fakes, me = procs["livekit"].popen.pid, procs["fakes"].popen.pid, os.getpid()
        before = (tree_cpu_s(worker), proc_cpu_s(lk), proc_cpu_s(fakes), proc_cpu_s(me))
        callers = [Caller(i, f"cores-{n}-{i}-{os.urandom(3).hex()}", f"+1617555{i:04d}")
                   for i in range(n)]
        result: dict[str, Any] = {"calls": n, "expected_turns": 4 * n}
        gone_at: dict[int, float] = {}
        for c in callers:
            c.room.on("disconnected", lambda *_, c=c: gone_at.setdefault(c.index, time.time()))
        with sampler:
            try:
                await asyncio.wait_for(self._run_calls(callers, result, sampler), 60 + 6 * n)
            except TimeoutError:
                result["error"] = "level did not finish in time"
            finally:
                await asyncio.gather(*(c.leave() for c in callers), return_exceptions=True)
        settle = await wait_quiet(worker, 30)
        after = (tree_cpu_s(worker), proc_cpu_s(lk), proc_cpu_s(fakes), proc_cpu_s(me))
        load_after = os.getloadavg()[0]
        await self._score(callers, result)
        lengths = [gone_at.get(c.index, time.time()) - c.joined_at for c in callers]
        call_s = statistics.mean(lengths)
        worker_s = (after[0] - before[0]) / n
        keep = ("completed_turns", "orders_saved", "turn_overhead_p50_ms",
                "turn_overhead_p95_ms", "final_transcript_to_commit_p95_ms",
                "turns_held_by_turn_detector", "errors", "error")
        return {
            "calls": n,
            "worker_cpu_s_per_call": round(worker_s, 2),
            "worker_cores_per_call": round(worker_s / call_s, 3),
            "mean_call_s": round(call_s, 1),
            "livekit_server_cpu_s_per_call": round((after[1] - before[1]) / n, 2),
            "fakes_cpu_s_per_call": round((after[2] - before[2]) / n, 2),
            "callers_cpu_s_per_call": round((after[3] - before[3]) / n, 2),
            "pss_fixed_mb": round(pss_fixed / 2**20, 1),
            "pss_mid_mb": result.get("pss_mb"),
            "pss_per_call_mb": (round((result["pss_mb"] - pss_fixed / 2**20) / n, 1)
                                if result.get("pss_mb") else None),
            "settle_s": round(settle, 1),
            "load_avg_before": round(load_before, 2),
            "load_avg_after": round(load_after, 2),
            **{k: result[k] for k in keep if k in result},
        }


def parse_config(text: str) -> tuple[str, dict[str, str]]:
    """`name=K=V,K2=V2` (or `name=` for the defaults)."""
    name, _, rest = text.partition("=")
    env = dict(kv.split("=", 1) for kv in rest.split(",") if kv)
    return name, env


async def run(configs: list[tuple[str, dict[str, str]]], n: int, reps: int,
              out: Path) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-cores-"))
    bench = CoresBench(workdir)
    rows: list[dict[str, Any]] = []
    try:
        await asyncio.to_thread(bench.start)
        for rep in range(reps):
            for name, env in configs:  # interleaved, so drifting machine load hits all alike
                print(f"cores: {name} rep {rep + 1}/{reps} ...", file=sys.stderr, flush=True)
                row = {"config": name, "env": env, "rep": rep + 1,
                       **await CoresBench.cores_level(bench, n, env)}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
                await asyncio.to_thread(out.write_text, json.dumps(rows, indent=1))
    finally:
        await asyncio.to_thread(bench.stop)
        if not os.environ.get("BENCH_KEEP_LOGS"):
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"cores: logs in {workdir}", file=sys.stderr)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=4)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--config", action="append", default=[], type=parse_config,
                    help="name=K=V,K2=V2: worker environment of one configuration")
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-cores.json"))
    args = ap.parse_args()
    asyncio.run(run(args.config or [("default", {})], args.calls, args.reps, args.out))


if __name__ == "__main__":
    main()
