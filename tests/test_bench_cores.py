"""bench/cores.py's arithmetic: what counts as a run, how turns pool, how a dead child is kept."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.cores import parse_config, summarize, tree_cpu_s


def _run(config: str, cpu: float, turns: int = 16, held: int = 4, **extra: object) -> dict:
    return {"config": config, "env": {}, "calls": 4, "worker_cpu_s_per_call": cpu,
            "completed_turns": turns, "turns_held_by_turn_detector": held,
            "load_avg_before": 1.0, "load_avg_after": 2.0, **extra}


def test_incomplete_runs_do_not_count_for_costs_but_their_turns_pool() -> None:
    rows = [_run("a", 5.0), _run("a", 7.0), _run("a", 1.0, turns=8, held=8),
            _run("b", 3.0, errors=["caller 1: no greeting"])]
    s = summarize(rows)
    assert s["a"]["runs"] == 2 and s["a"]["dropped"] == 1
    assert s["a"]["worker_cpu_s_per_call"] == 6.0  # the lost-calls run's 1.0 is not a cost
    assert s["a"]["turns_held_per_100"] == 40.0  # (4 + 4 + 8) / (16 + 16 + 8)
    assert s["b"]["runs"] == 0 and s["b"]["worker_cpu_s_per_call"] is None
    assert s["a"]["load_avg"] == [1.0, 2.0]


def test_parse_config() -> None:
    assert parse_config("after=") == ("after", {})
    assert parse_config("x=AUDIO_LEVERS_OFF=a,b;AGENT_MAX_CALLS=4") == (
        "x", {"AUDIO_LEVERS_OFF": "a,b", "AGENT_MAX_CALLS": "4"})


def test_tree_cpu_keeps_children_that_ended() -> None:
    # a child that burns CPU and exits: its time must stay in the tree's total once reaped
    before = tree_cpu_s(os.getpid())
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    assert tree_cpu_s(os.getpid()) - before >= 0.05
