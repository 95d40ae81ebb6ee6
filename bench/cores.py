"""Cores and memory per call: CPU-seconds and PSS a call costs the worker, LiveKit and the rest.

    .venv/bin/python -m bench.cores --calls 4 --reps 2 --config base= \
        --config before=AUDIO_LEVERS_OFF=all --out /tmp/cores.json

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
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench.concurrency import LINES, RATE, ROOT, Bench, Caller, TreeSampler
from bench.stats import percentile
from fakes.audio import have_espeak, rms, silence, speak
from worker.admission import tree_cpu_seconds as tree_cpu_s  # the worker's own CPU measure

QUIET_CORES = 0.06  # the worker tree counts as idle below this CPU use
RATES_WPM = (140, 165, 190, 220)  # slow to fast talkers (espeak-ng's default is 175)
PAUSES_S = (0.0, 0.3, 0.55)  # a pause after the first phrase of a line (below the fake
# STT's 0.7 s end-of-utterance hangover, so a line stays one transcript; above the VAD's
# 0.25-0.55 s minimum silence, so the VAD does see the caller stop mid-sentence)


def trim_tail(pcm: bytes, threshold: float = 300.0, rate: int = RATE) -> bytes:
    """espeak-ng ends each phrase with ~0.3 s of silence: cut it so a pause is the pause."""
    frame = rate // 100 * 2  # 10 ms
    end = len(pcm) - len(pcm) % frame
    while end > frame and rms(pcm[end - frame:end]) < threshold:
        end -= frame
    return pcm[:end]


def varied_speech(rng: random.Random) -> dict[str, list[bytes]]:
    """Each line at every rate, with and without a pause inside it: natural variety instead
    of one flat synthetic rate."""
    out: dict[str, list[bytes]] = {}
    for line in LINES:
        first, _, rest = line.partition(", ")
        variants = []
        for wpm in RATES_WPM:
            if not rest:
                variants.append(speak(line, RATE, words_per_minute=wpm))
                continue
            a = trim_tail(speak(first, RATE, words_per_minute=wpm))
            b = speak(rest, RATE, words_per_minute=wpm)
            for pause in PAUSES_S:
                variants.append(a + silence(pause, RATE) + b)
        out[line] = variants
    return out


class VariedSpeech(dict):  # type: ignore[type-arg]
    """`speech[line]`: a different variant of the line at each lookup."""

    def __init__(self, variants: dict[str, list[bytes]], rng: random.Random) -> None:
        super().__init__(variants)
        self.rng = rng

    def __getitem__(self, line: str) -> bytes:
        return self.rng.choice(dict.__getitem__(self, line))


@dataclass
class TimedCaller(Caller):
    """A caller that keeps when each of its lines started and ended."""

    utterances: list[tuple[float, float]] = field(default_factory=list)

    async def say(self, pcm: bytes, limit_s: float = 30.0) -> float:
        start = time.time()
        end = await super().say(pcm, limit_s)
        self.utterances.append((start, end))
        return end

    def turn_timings(self) -> tuple[int, list[float]]:
        """Cut-offs (the agent starts a reply while this caller is still speaking) and, per
        line, end of speech -> the agent's first audio frame."""
        cut_offs, answers = 0, []
        for start, end in self.utterances:
            if any(start + 0.05 < t < end and st == "speaking" for t, st in self.states):
                cut_offs += 1
            t1 = self.speaking_since(end)
            if t1 is not None and t1 - end < 30:
                answers.append((t1 - end) * 1000)
        return cut_offs, answers


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
    def __init__(self, workdir: Path, varied: bool = False) -> None:
        super().__init__(workdir)
        if varied and have_espeak():
            rng = random.Random(13)
            self.speech = VariedSpeech(varied_speech(rng), rng)

    async def cores_level(self, n: int, env: dict[str, str]) -> dict[str, Any]:
        # a starved machine can take over LiveKit's 10 s to start a job process without the
        # preload lever: give every configuration the same 60 s, so none loses calls to it
        os.environ["BENCH_WORKER_ENV"] = json.dumps({"AGENT_INIT_TIMEOUT_S": "60", **env})
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
        callers = [TimedCaller(i, f"cores-{n}-{i}-{os.urandom(3).hex()}", f"+1617555{i:04d}")
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
        cut_offs, answers = 0, []
        for c in callers:
            cut, ans = c.turn_timings()
            cut_offs += cut
            answers += ans
        turns = max(result.get("completed_turns") or 0, 1)
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
            "turns_held_per_100": round(100 * (result.get("turns_held_by_turn_detector") or 0)
                                        / turns, 1),
            "cut_offs_per_100": round(100 * cut_offs / turns, 1),
            "final_transcript_to_commit_p50_ms": result.get("final_transcript_to_commit_p50_ms"),
            "speech_end_to_answer_p50_ms": round(percentile(answers, 50), 1) if answers else None,
            "speech_end_to_answer_p95_ms": round(percentile(answers, 95), 1) if answers else None,
            **{k: result[k] for k in keep if k in result},
        }


FIGURES = ("worker_cpu_s_per_call", "worker_cores_per_call", "pss_per_call_mb", "pss_fixed_mb",
           "livekit_server_cpu_s_per_call", "fakes_cpu_s_per_call", "callers_cpu_s_per_call",
           "turns_held_per_100", "final_transcript_to_commit_p50_ms",
           "final_transcript_to_commit_p95_ms", "cut_offs_per_100",
           "speech_end_to_answer_p50_ms", "speech_end_to_answer_p95_ms")


TURN_FIGURES = ("turns_held_per_100", "final_transcript_to_commit_p50_ms",
                "final_transcript_to_commit_p95_ms", "cut_offs_per_100",
                "speech_end_to_answer_p50_ms", "speech_end_to_answer_p95_ms")


def summarize(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per configuration: the median of each figure over the runs (per-call costs: only runs
    where every call completed, as a run that lost calls to a starved machine measures
    nothing per call), the runs counted and dropped, and the load averages seen. p95s are
    medians of per-run p95s (4 calls give 16 turns a run)."""
    out: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(r["config"] for r in rows):
        runs = [r for r in rows if r["config"] == name]
        good = [r for r in runs if r.get("completed_turns") == 4 * r["calls"]
                and not r.get("errors")]
        entry: dict[str, Any] = {"runs": len(good), "dropped": len(runs) - len(good),
                                 "env": runs[0]["env"]}
        talked = [r for r in runs if r.get("completed_turns")]
        for fig in FIGURES:
            # the turn-taking figures count every run with turns (a caller lost in a run's last
            # phase does not skew them); the per-call costs only complete runs
            pool = talked if fig in TURN_FIGURES else good
            vals = [r[fig] for r in pool if r.get(fig) is not None]
            entry[fig] = round(statistics.median(vals), 3) if vals else None
        turns = sum(r["completed_turns"] for r in talked)
        if turns:  # pooled over the runs, not a median of small per-run rates
            held = sum(r.get("turns_held_by_turn_detector") or 0 for r in talked)
            entry["turns_held_per_100"] = round(100 * held / turns, 1)
            entry["turns"] = turns
        loads = [r[k] for r in talked for k in ("load_avg_before", "load_avg_after")]
        entry["load_avg"] = [min(loads), max(loads)] if loads else None
        out[name] = entry
    return out


LEVER_CONFIGS = ("only_native_vad", "only_phone_rate", "only_no_transcript_sync",
                  "only_preload", "only_schema_cache")


def record(cores_rows: list[dict[str, Any]], turn_rows: list[dict[str, Any]],
           results_path: Path, loo_rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Merge the summaries into results.json (`cores_per_call`, `pss_per_call_mb`,
    `turn_taking`) and rewrite results.md beside it."""
    from bench.report import markdown

    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if cores_rows:
        cores = summarize(cores_rows)
        n = cores_rows[0]["calls"]
        results["cores_per_call"] = {
            "measured_at": when, "concurrent_calls": n, "target": 0.10,
            "how": "bench/cores.py: CPU-seconds of the worker tree (main, forkserver, inference, "
                   "job processes incl. ended ones) over N standard pickup calls / calls / mean "
                   "call length; medians over runs where every call completed",
            "before": cores.get("before"), "after": cores.get("after"),
            "by_lever": {k[len("only_"):]: cores[k] for k in LEVER_CONFIGS if k in cores},
        }
        if loo_rows:  # the full set against the full set less one lever, in one session
            results["cores_per_call"]["leave_one_out"] = summarize(loo_rows)
        results["pss_per_call_mb"] = {
            "measured_at": when, "target": 60,
            "before": (cores.get("before") or {}).get("pss_per_call_mb"),
            "after": (cores.get("after") or {}).get("pss_per_call_mb"),
        }
    if turn_rows:
        turns = summarize(turn_rows)
        results["turn_taking"] = {
            "measured_at": when, "concurrent_calls": turn_rows[0]["calls"],
            "speech": f"espeak-ng at {', '.join(map(str, RATES_WPM))} wpm; lines with a comma "
                      f"said with a pause of {', '.join(map(str, PAUSES_S))} s after it",
            **turns,
        }
    results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    results_path.with_name("results.md").write_text(markdown(results))
    return results


def parse_config(text: str) -> tuple[str, dict[str, str]]:
    """`name=K=V;K2=V2` (or `name=` for the defaults)."""
    name, _, rest = text.partition("=")
    env = dict(kv.split("=", 1) for kv in rest.split(";") if kv)
    return name, env


async def run(configs: list[tuple[str, dict[str, str]]], n: int, reps: int,
              out: Path, varied: bool = False) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-cores-"))
    bench = CoresBench(workdir, varied=varied)
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
                    help="name=K=V;K2=V2: worker environment of one configuration")
    ap.add_argument("--varied", action="store_true",
                    help="callers speak at four rates, some lines with a pause inside")
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-cores.json"))
    ap.add_argument("--summarize", type=Path, nargs="+",
                    help="print the per-configuration medians of earlier runs' files")
    ap.add_argument("--record", type=Path, nargs="+",
                    help="merge these lever runs (and --turns runs) into bench/results.json")
    ap.add_argument("--turns", type=Path, nargs="+", help="turn-taking runs for --record")
    ap.add_argument("--leave-one-out", type=Path, nargs="+",
                    help="runs of the full set less one lever, for --record")
    args = ap.parse_args()
    if args.record:
        cores = [r for f in args.record for r in json.loads(f.read_text())]
        turns = [r for f in args.turns or [] for r in json.loads(f.read_text())]
        loo = [r for f in args.leave_one_out or [] for r in json.loads(f.read_text())]
        record(cores, turns, ROOT / "bench" / "results.json", loo)
        return
    if args.summarize:
        rows = [r for f in args.summarize for r in json.loads(f.read_text())]
        print(json.dumps(summarize(rows), indent=1))
        return
    asyncio.run(run(args.config or [("default", {})], args.calls, args.reps, args.out,
                    varied=args.varied))


if __name__ == "__main__":
    main()
