"""The worker's limits: a runaway job process is restarted (and its call resumed elsewhere)."""

from __future__ import annotations

import pytest

import main
from config import WorkerSettings


def test_a_job_process_has_a_memory_limit_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENT_JOB_MEMORY_LIMIT_MB", raising=False)
    assert main.worker_limits(WorkerSettings())["job_memory_limit_mb"] == 1500
    monkeypatch.setenv("AGENT_JOB_MEMORY_LIMIT_MB", "900")
    limits = main.worker_limits(WorkerSettings())
    assert limits["job_memory_limit_mb"] == 900
    # the limit reaches LiveKit's worker, which kills a job process above it
    assert main.AgentServer(**limits)._job_memory_limit_mb == 900  # type: ignore[arg-type]


def test_the_watcher_is_told_where_this_worker_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_HTTP_PORT", "8099")
    assert main.worker_health_url(WorkerSettings()) == "http://127.0.0.1:8099/"
    monkeypatch.setenv("WORKER_HEALTH_HOST", "hostname")
    assert main.worker_health_url(WorkerSettings()).endswith(":8099/")
