"""The worker's load (worker/admission.py): full at its call capacity or when its own processes use
the CPU threshold, never full without a call, and blind to other processes on the machine."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

import main
from config import WorkerSettings
from worker import admission
from worker.admission import WorkerLoad, tree_cpu_seconds


def _worker(calls: int) -> SimpleNamespace:
    return SimpleNamespace(active_jobs=[object()] * calls)


class _Clock:
    def __init__(self) -> None:
        self.now, self.cpu = 0.0, 0.0

    def advance(self, seconds: float, cores_used: float) -> None:
        self.now += seconds
        self.cpu += seconds * cores_used


def test_full_at_exactly_max_calls_as_livekit_compares_it() -> None:
    clock = _Clock()
    load = WorkerLoad(8, 0.9, cores=2, cpu_seconds=lambda: clock.cpu, clock=lambda: clock.now)
    # LiveKit takes a call while load + (calls accepted, not yet started) x load / running
    # < threshold (worker.py _get_effective_load)
    assert load(_worker(7)) < 0.9  # the 8th call gets in
    assert load(_worker(7)) + 1 * load(_worker(7)) / 7 >= 0.9  # not a 9th beside it
    assert load(_worker(8)) >= 0.9  # nor after it
    assert load(_worker(4)) == pytest.approx(0.45)


def test_the_workers_own_cpu_fills_it_before_its_call_count_does() -> None:
    clock = _Clock()
    load = WorkerLoad(8, 0.9, cores=2, cpu_seconds=lambda: clock.cpu, clock=lambda: clock.now)
    assert load(_worker(2)) == pytest.approx(0.225)  # first sample: no CPU window yet
    clock.advance(3.0, cores_used=1.9)  # its processes use 95 % of the machine
    assert load(_worker(2)) == pytest.approx(0.95)
    clock.advance(1.0, cores_used=0.2)  # within the window: one quiet second changes nothing
    assert load(_worker(2)) == pytest.approx(0.95)
    clock.advance(3.0, cores_used=0.2)
    assert load(_worker(2)) == pytest.approx(0.225)  # calls again: 0.9 x 2 / 8


def test_a_worker_without_calls_takes_one_whatever_its_cpu() -> None:
    clock = _Clock()
    load = WorkerLoad(8, 0.9, cores=2, cpu_seconds=lambda: clock.cpu, clock=lambda: clock.now)
    load(_worker(0))
    clock.advance(3.0, cores_used=2.0)  # job processes warming up at start
    assert load(_worker(0)) == 0.0


def test_cpu_counts_the_worker_tree_with_ended_children() -> None:
    before = tree_cpu_seconds()
    subprocess.run([sys.executable, "-c",
                    "import time\nt=time.process_time()\nwhile time.process_time()-t<0.3: pass"],
                   check=True)
    assert tree_cpu_seconds() - before >= 0.25  # the child has ended: its parent counts it


def test_main_admits_by_calls_and_cpu_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENT_MAX_CALLS", raising=False)
    limits = main.worker_limits(WorkerSettings())
    fnc = limits["load_fnc"]
    assert isinstance(fnc, WorkerLoad) and fnc.threshold == 0.9
    assert fnc.max_calls == admission.CALLS_PER_CORE["local"] * fnc.cores
    # a worker whose restaurants are all on Flux takes the Flux path's default (here made to
    # differ from the local one's, so the test tells them apart)
    monkeypatch.setitem(admission.CALLS_PER_CORE, "flux", admission.CALLS_PER_CORE["local"] + 1)
    monkeypatch.setenv("RESTAURANT_TURN_TAKING", "flux")
    fnc = main.worker_limits(WorkerSettings())["load_fnc"]
    assert isinstance(fnc, WorkerLoad)
    assert fnc.max_calls == admission.CALLS_PER_CORE["flux"] * fnc.cores
    assert admission.default_max_calls(2, "flux") == admission.CALLS_PER_CORE["flux"] * 2
    monkeypatch.delenv("RESTAURANT_TURN_TAKING")
    monkeypatch.setenv("AGENT_MAX_CALLS", "3")
    monkeypatch.setenv("AGENT_LOAD_THRESHOLD", "0.8")
    fnc = main.worker_limits(WorkerSettings())["load_fnc"]
    assert isinstance(fnc, WorkerLoad) and (fnc.max_calls, fnc.threshold) == (3, 0.8)
    # and LiveKit's worker takes it as its load function
    server = main.AgentServer(**main.worker_limits(WorkerSettings()))  # type: ignore[arg-type]
    assert server.load_fnc is not None and isinstance(server.load_fnc, WorkerLoad)
