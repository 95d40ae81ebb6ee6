"""How full the worker is: the load it reports to LiveKit, from its calls and its own CPU.

LiveKit offers a call to a worker only while the load it reports is below its load threshold
(AGENT_LOAD_THRESHOLD), and a SIP call no worker takes rings out. LiveKit's own load is the
machine's CPU use averaged over 2.5 s: busy neighbours (another service, a CI job) or one
burst made the worker refuse calls it had room for, and it says nothing about how many calls
the worker can answer quickly. So the load here is the larger of

- calls: running calls / AGENT_MAX_CALLS, scaled so the worker is full at exactly that many
  calls (default `CALLS_PER_CORE` a core for the turn-taking path its calls take: bench/voice.py
  and bench/paths.py measured how many calls keep the answer's p95 within 15 % of one call's on
  this 2-core machine, bench/README.md §6c and §6d);
- CPU: what the worker's own processes (main, forkserver, inference, job processes) use, as a
  share of the machine's cores, averaged over a few seconds: a call costing more than measured
  (a slower machine, heavier calls) stops admission before the answers slow down.

A worker with no call is never full: whatever its CPU (job processes warming up at start),
it takes the first call.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import psutil

# Calls a core by turn-taking path (conversation/turn_taking.py), the most calls measured to keep
# the answer's p95 within 15 % of one call's on 2 cores:
# - local (VAD and turn detector in the job): bench/voice.py, 2026-11-28: 4 calls (1680 against
#   1620 ms); at 8 the two cores saturated (p95 2037 ms) (bench/README.md §6c);
# - flux (Deepgram Flux ends the turns): bench/paths.py, 2026-12-06, both paths side by side on
#   the same loaded machine (other work at load average 6-30): 3 calls within 15 % for each
#   path, 4 over for each (flux p95 2475 against 1024 ms at one call), though a Flux call costs
#   less (0.136 against 0.161 cores, 72 against 90 MB PSS at 4 calls). Measured no more calls
#   than the local path, so it gets the same default (§6d).
CALLS_PER_CORE: dict[str, int] = {"local": 2, "flux": 2}
CPU_WINDOW_S = 2.5  # like LiveKit's own average: one process start is not a full worker


class _Worker(Protocol):
    @property
    def active_jobs(self) -> list[Any]: ...


def _cores(cores: int | None = None) -> int:
    """`cores`, else this machine's (at least 1)."""
    return max(cores or os.cpu_count() or 1, 1)


def default_max_calls(cores: int | None = None, path: str | None = None) -> int:
    """`path`: the turn-taking path of every call this worker takes (RESTAURANT_TURN_TAKING);
    unset, the local path's: its calls cost the most, and a worker may serve both."""
    return CALLS_PER_CORE[path or "local"] * _cores(cores)


def tree_cpu_seconds(pid: int | None = None) -> float:
    """CPU-seconds used by a process and its descendants, ended ones included (their time is
    added to the process that reaped them)."""
    try:
        root = psutil.Process(pid or os.getpid())
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass  # ended between the listing and now: its parent counts it from now on
    return total


class WorkerLoad:
    """`load_fnc` for the AgentServer: max(threshold x calls / max_calls, CPU share)."""

    def __init__(self, max_calls: int, threshold: float, *, cores: int | None = None,
                 cpu_seconds: Callable[[], float] = tree_cpu_seconds,
                 clock: Callable[[], float] = time.monotonic,
                 window_s: float = CPU_WINDOW_S) -> None:
        if max_calls < 1:
            raise ValueError(f"AGENT_MAX_CALLS must be at least 1, not {max_calls}")
        self.max_calls = max_calls
        self.threshold = threshold
        self.cores = _cores(cores)
        self._cpu_seconds = cpu_seconds
        self._clock = clock
        self._window_s = window_s
        self._lock = threading.Lock()  # LiveKit calls load_fnc from executor threads
        self._last: tuple[float, float] | None = None
        self._share = 0.0

    def cpu_share(self) -> float:
        """The worker's CPU use as a share of the machine (0-1), over the last window."""
        with self._lock:
            now, used = self._clock(), self._cpu_seconds()
            if self._last is None:
                self._last = (now, used)
            elif now - self._last[0] >= self._window_s:
                elapsed = now - self._last[0]
                self._share = min(max(used - self._last[1], 0.0) / elapsed / self.cores, 1.0)
                self._last = (now, used)
            return self._share

    def __call__(self, worker: _Worker) -> float:
        calls = len(worker.active_jobs)
        cpu = self.cpu_share()  # sampled every time, so the window stays current
        if calls == 0:
            return 0.0
        threshold = min(self.threshold, 1.0)  # "inf": LiveKit admits whatever we say
        return min(max(threshold * calls / self.max_calls, cpu), 1.0)
