"""bench/paths.py's figures from its runs: costs at the cost level, p95 by level, and the highest
level within 15 % of one call's p95 (a level that lost turns does not count)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import paths


def _row(path: str, calls: int, answers: list[float], *, turns: int | None = None,
         cores: float = 0.1, pss: float = 50.0) -> dict[str, Any]:
    return {"path": path, "calls": calls, "answers_ms": answers,
            "completed_turns": 4 * calls if turns is None else turns,
            "worker_cores_per_call": cores, "worker_cpu_s_per_call": cores * 30,
            "pss_per_call_mb": pss, "pss_fixed_mb": 500.0, "mean_call_s": 30.0,
            "cut_offs_per_100": 0.0, "load_avg_before": 3.0, "load_avg_after": 4.0,
            "speech_end_to_answer_p95_ms": max(answers)}


def test_the_highest_level_within_15_percent_of_one_calls_p95(tmp_path: Path) -> None:
    rows = [
        _row("local", 1, [1000.0] * 4), _row("flux", 1, [800.0] * 4),
        # one 1-call run hit by a neighbour's burst: the median of the runs' p95s ignores it
        _row("flux", 1, [800.0, 800.0, 800.0, 2500.0]), _row("flux", 1, [790.0] * 4),
        _row("local", 4, [1100.0] * 16, cores=0.14, pss=80.0),
        _row("flux", 4, [900.0] * 16, cores=0.09, pss=55.0),
        _row("local", 8, [1300.0] * 32),  # 1300 > 1150: over
        _row("flux", 8, [910.0] * 32),
        _row("flux", 12, [915.0] * 40, turns=40),  # lost 8 turns: not within, however fast
    ]
    s = paths.summarize(rows)
    assert s["local"]["calls_within_15pct"] == 4
    assert s["flux"]["one_call_p95_ms"] == 800.0
    assert s["flux"]["calls_within_15pct"] == 8
    assert (s["flux"]["worker_cores_per_call"], s["flux"]["pss_per_call_mb"]) == (0.09, 55.0)
    assert s["local"]["by_level"]["8"]["answer_ms"]["p95"] == 1300.0
    paths.plot(s, tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 1000
