"""Counting Firestore round trips, and one bounded try per RPC instead of the library's retries."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from google.api_core import gapic_v1

RPC_NAMES = (
    "commit", "batch_get_documents", "begin_transaction", "rollback", "run_query",
    "run_aggregation_query", "get_document", "list_documents", "batch_write",
)


class RpcCounter:
    """Counts Firestore RPCs by method name (the round trips a caller waits for)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def commits(self) -> int:
        return self.counts["commit"]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()


def instrument(client: Any, counter: RpcCounter, rpc_timeout_s: float) -> None:
    """Count each RPC and replace the library's long default retries with one bounded try."""
    api = client._firestore_api  # the GAPIC client; created lazily, no network yet

    def wrap(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            counter.add(name)
            if kwargs.get("retry", gapic_v1.method.DEFAULT) is gapic_v1.method.DEFAULT:
                kwargs["retry"] = None
            if kwargs.get("timeout") in (None, gapic_v1.method.DEFAULT):
                kwargs["timeout"] = rpc_timeout_s
            return method(*args, **kwargs)

        return counted

    for name in RPC_NAMES:
        method = getattr(api, name, None)
        if method is not None:
            setattr(api, name, wrap(name, method))
