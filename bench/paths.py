"""Cores, memory and calls per path: the local turn detector against Deepgram Flux (issue 25 §4).

    .venv/bin/python -m bench.paths --levels 1 1 1 4 8 --out /tmp/paths.json   # measure
    .venv/bin/python -m bench.paths --record /tmp/paths.json   # results.json/md + the plot

One stack (redis, LiveKit server, Firestore emulator); for each level and each path a fresh
`main.py start` (RESTAURANT_TURN_TAKING=local or flux) and the fakes, then N concurrent
standard pickup calls of bench/cores.py (SDK callers, four turns, order saved, the agent hangs
up), the paths interleaved level by level so the machine's drifting load hits both alike.
Per path:

- `worker_cores_per_call`, `worker_cpu_s_per_call`, `pss_per_call_mb`: bench/cores.py's figures
  (the worker's whole process tree; PSS in the middle of the calls less PSS idle), medians over
  the runs at `cost_level` calls where every call completed;
- `answer_ms` by level: end of the caller's speech -> the agent's first audio (its
  `lk.agent.state` turning "speaking"), pooled over the runs of a level; the fakes answer in
  0 ms and both fakes end a segment after 0.7 s of quiet, so the two paths get the transcript
  at the same moment and differ in what the job does after it;
- `calls_within_15pct`: the highest level whose pooled p95 is within 15 % of one call's p95
  (`one_call_p95_ms`: the median of the 1-call runs' p95s; a run has 4 turns, so a pooled 1-call
  p95 is a single turn, decided by whatever a neighbour ran at that second).

The SDK callers run in this process and the machine is shared: `load_avg` says how busy it was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cores
from bench.stats import timing

ROOT = Path(__file__).resolve().parent.parent
PATHS = {"local": {"RESTAURANT_TURN_TAKING": "local"},
         "flux": {"RESTAURANT_TURN_TAKING": "flux"}}
GROWTH = 0.15  # a level is within target when its p95 <= 1-call p95 x 1.15
TARGETS = {"cores_per_call": 0.10, "pss_per_call_mb": 60, "calls_on_2_cores": 8}
PLOT = ROOT / "bench" / "calls_vs_p95_paths.png"

_answers: list[float] = []  # the answers of the run in progress (TimedCaller.turn_timings)
_turn_timings = cores.TimedCaller.turn_timings


def _kept_turn_timings(self: cores.TimedCaller) -> tuple[int, list[float]]:
    cut_offs, answers = _turn_timings(self)
    _answers.extend(answers)
    return cut_offs, answers


cores.TimedCaller.turn_timings = _kept_turn_timings  # type: ignore[method-assign]


async def run(levels: list[int], out: Path) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-paths-"))
    bench = cores.CoresBench(workdir)
    rows: list[dict[str, Any]] = []
    try:
        await asyncio.to_thread(bench.start)
        for n in levels:
            for path, env in PATHS.items():
                print(f"paths: {path}, {n} calls ...", file=sys.stderr, flush=True)
                _answers.clear()
                row = {"path": path, "env": env, **await bench.cores_level(n, env),
                       "answers_ms": [round(a, 1) for a in _answers]}
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "answers_ms"}),
                      file=sys.stderr, flush=True)
                await asyncio.to_thread(out.write_text, json.dumps(rows, indent=1))
    finally:
        await asyncio.to_thread(bench.stop)
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def _complete(row: dict[str, Any]) -> bool:
    return row.get("completed_turns") == 4 * row["calls"] and not row.get("errors")


def summarize(rows: list[dict[str, Any]], cost_level: int = 4) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in PATHS:
        mine = [r for r in rows if r["path"] == path]
        costs = [r for r in mine if r["calls"] == cost_level and _complete(r)]
        entry: dict[str, Any] = {"cost_level": cost_level, "cost_runs": len(costs)}
        for fig in ("worker_cores_per_call", "worker_cpu_s_per_call", "pss_per_call_mb",
                    "pss_fixed_mb", "mean_call_s"):
            vals = [r[fig] for r in costs if r.get(fig) is not None]
            entry[fig] = round(statistics.median(vals), 3) if vals else None
        by_level: dict[str, Any] = {}
        for n in sorted({r["calls"] for r in mine}):
            runs = [r for r in mine if r["calls"] == n]
            answers = [a for r in runs for a in r.get("answers_ms", [])]
            by_level[str(n)] = {
                "answer_ms": timing(answers, 1) if answers else None,
                "runs": len(runs), "complete_runs": sum(_complete(r) for r in runs),
                "turns": sum(r.get("completed_turns") or 0 for r in runs),
                "expected_turns": sum(4 * r["calls"] for r in runs),
                "cut_offs": sum(round(r.get("cut_offs_per_100", 0) * (r.get("completed_turns")
                                                                      or 0) / 100)
                                for r in runs),
                "load_avg": [min(r["load_avg_before"] for r in runs),
                             max(r["load_avg_after"] for r in runs)],
            }
        entry["by_level"] = by_level
        # one call's p95: the median of the 1-call runs' own p95s (a run has only 4 turns: a
        # pooled p95 is one turn, which a neighbour's burst decides)
        ones = [r["speech_end_to_answer_p95_ms"] for r in mine
                if r["calls"] == 1 and r.get("speech_end_to_answer_p95_ms") is not None]
        entry["one_call_p95_ms"] = round(statistics.median(ones), 1) if ones else None
        entry["calls_within_15pct"] = _within(by_level, entry["one_call_p95_ms"])
        out[path] = entry
    loads = [x for r in rows for x in (r["load_avg_before"], r["load_avg_after"])]
    out["load_avg"] = [min(loads), max(loads)] if loads else None
    return out


def _within(by_level: dict[str, Any], one_call_p95: float | None) -> int | None:
    """The highest level whose p95 is within GROWTH of one call's (every level below it too),
    whose runs all completed."""
    if one_call_p95 is None:
        return None
    limit = one_call_p95 * (1 + GROWTH)
    best = 1
    for n in sorted(int(k) for k in by_level if int(k) > 1):
        level = by_level[str(n)]
        ok = (level["answer_ms"] is not None and level["answer_ms"]["p95"] <= limit
              and level["turns"] == level["expected_turns"])
        if not ok:
            break
        best = n
    return best


def plot(summary: dict[str, Any], path: Path = PLOT) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for name, style in (("local", "o-"), ("flux", "s-")):
        levels = summary[name]["by_level"]
        xs = [int(n) for n in levels if levels[n]["answer_ms"]]
        ys = [levels[str(n)]["answer_ms"]["p95"] for n in xs]
        ax.plot(xs, ys, style, label=f"{name} p95 (within 15 %: "
                f"{summary[name]['calls_within_15pct']} calls)")
        color = ax.lines[-1].get_color()
        ax.plot(xs, [levels[str(n)]["answer_ms"]["p50"] for n in xs], style[0] + "--",
                color=color, alpha=0.5, label=f"{name} p50")
        if summary[name].get("one_call_p95_ms"):
            ax.axhline(summary[name]["one_call_p95_ms"] * (1 + GROWTH), ls=":", lw=0.8,
                       color=color)
    ax.set_xlabel("concurrent calls (2 cores, shared machine)")
    ax.set_ylabel("end of speech -> answer (ms)")
    ax.set_title("Answer time against concurrent calls, by turn-taking path\n"
                 "(dotted: 1.15 x one call's p95; load average 6-30 from other work)", fontsize=10)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


def record(rows: list[dict[str, Any]], results_path: Path) -> dict[str, Any]:
    from bench.report import markdown

    summary = summarize(rows)
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results["turn_paths"] = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "how": "bench/paths.py: N concurrent SDK pickup calls per level, a fresh worker per "
               "path and level (RESTAURANT_TURN_TAKING), paths interleaved; fakes at 0 ms",
        "targets": TARGETS, **summary,
    }
    results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    results_path.with_name("results.md").write_text(markdown(results))
    plot(summary)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 1, 1, 4, 8])
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-paths.json"))
    ap.add_argument("--record", type=Path, nargs="+", help="runs to merge into results.json")
    args = ap.parse_args()
    if args.record:
        rows = [r for f in args.record for r in json.loads(f.read_text())]
        record(rows, ROOT / "bench" / "results.json")
        return
    asyncio.run(run(args.levels, args.out))


if __name__ == "__main__":
    main()
