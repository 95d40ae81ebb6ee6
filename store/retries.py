"""Which Firestore errors are worth retrying, and for how long a caller can wait on them.

We do our own retrying, so every RPC gets `retry=None` and a bounded timeout (see `rpc.py`):
the library defaults would retry for up to 60-300 s while the caller listens to silence.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from google.api_core import exceptions as gexc
from google.api_core.exceptions import RetryError
from pydantic import ValidationError

from store.errors import PersistenceUnavailable

T = TypeVar("T")

_TRANSIENT = (
    gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError,
    gexc.ResourceExhausted, gexc.Cancelled, gexc.Unknown, gexc.GatewayTimeout,
    RetryError, ConnectionError, asyncio.TimeoutError,
)


def root_error(e: BaseException) -> BaseException:
    """The error that matters behind the transaction decorator's ValueErrors.

    `async_transactional` raises ValueError from the last Aborted when it runs out of
    attempts, and when BeginTransaction itself fails (Firestore down) its rollback raises
    ValueError("no transaction ID") with the real error only as __context__.
    """
    for _ in range(5):
        inner = e.__cause__ or e.__context__
        if not isinstance(e, ValueError) or isinstance(e, ValidationError) or inner is None:
            break
        e = inner
    return e


def backoff(attempt: int) -> float:
    return min(1.0, 0.1 * 2**attempt) * random.uniform(0.5, 1.0)


async def with_retries(
    op: Callable[[], Awaitable[T]], *, budget_s: float, contention_budget_s: float
) -> T:
    """Retry transient errors for `budget_s`, contention (aborted transactions) longer."""
    start = time.monotonic()
    attempt = 0
    while True:
        try:
            return await op()
        except Exception as e:
            last = root_error(e)
            if isinstance(last, _TRANSIENT):
                limit = budget_s
            elif isinstance(last, gexc.Aborted):  # contention: the server is fine
                limit = max(budget_s, contention_budget_s)
            else:
                raise
        pause = backoff(attempt)
        if time.monotonic() - start + pause > limit:
            raise PersistenceUnavailable(f"{type(last).__name__}: {last}") from last
        attempt += 1
        await asyncio.sleep(pause)
