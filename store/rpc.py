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
    """Counts Firestore RPCs by method name (the round trips a caller waits for), and commits
    by the top-level collections they write: contention on one hot document (the day's
    seating) and a call's own writes (its resumable snapshot) are different costs."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.commits_by_collection: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, name: str, collections: frozenset[str] = frozenset()) -> None:
        with self._lock:
            self.counts[name] += 1
            self.commits_by_collection.update(collections)

    def commits_to(self, collection: str) -> int:
        """Commit attempts (won or lost) that wrote at least one document of `collection`."""
        with self._lock:
            return self.commits_by_collection[collection]

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
            self.commits_by_collection.clear()


def written_collections(request: Any) -> frozenset[str]:
    """The collections (a restaurant's, under restaurants/{rid}/) a CommitRequest (or its dict
    form) writes to; none when the request is not one (counting must never fail the commit it
    counts)."""
    try:
        writes = request.get("writes", ()) if isinstance(request, dict) else getattr(
            request, "writes", ())
        names = [w.update.name or w.delete or w.transform.document for w in writes]
    except (AttributeError, TypeError):
        return frozenset()
    return frozenset(_collection_of(n.split("/documents/", 1)[-1]) for n in names if n)


def _collection_of(path: str) -> str:
    """A restaurant's collection (`restaurants/{rid}/orders/x` is "orders"), else the
    top-level one."""
    parts = path.split("/")
    if parts[0] == "restaurants" and len(parts) > 3:
        return parts[2]
    return parts[0]


def instrument(client: Any, counter: RpcCounter, rpc_timeout_s: float) -> None:
    """Count each RPC and replace the library's long default retries with one bounded try."""
    api = client._firestore_api  # the GAPIC client; created lazily, no network yet

    def wrap(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            request = kwargs.get("request", args[0] if args else None)
            counter.add(name, written_collections(request) if name == "commit" else frozenset())
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
