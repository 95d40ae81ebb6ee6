"""Every scripted call must use its script exactly: no extra LLM request, no step left over."""

from __future__ import annotations

import pytest

from tests.conversation.harness import OPENED


@pytest.fixture(autouse=True)
def script_used_exactly():
    OPENED.clear()
    yield
    for n, llm in enumerate(OPENED):
        assert not llm.overrun, f"call {n}: the agents made more LLM requests than scripted"
        assert not llm.steps, f"call {n}: scripted steps never requested: {llm.steps}"
