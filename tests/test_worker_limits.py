"""The worker's limits: a runaway job process is restarted (and its call resumed elsewhere)."""

from __future__ import annotations

import pytest

import main


def test_a_job_process_has_a_memory_limit_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENT_JOB_MEMORY_LIMIT_MB", raising=False)
    assert main.worker_limits()["job_memory_limit_mb"] == 1500
    monkeypatch.setenv("AGENT_JOB_MEMORY_LIMIT_MB", "900")
    assert main.worker_limits()["job_memory_limit_mb"] == 900
    # the limit reaches LiveKit's worker, which kills a job process above it
    assert main.AgentServer(**main.worker_limits())._job_memory_limit_mb == 900  # type: ignore[arg-type]
