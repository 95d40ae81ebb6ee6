"""Another writer let in between a read and the commit that depends on it: the one moment a
commit's precondition (the document's update time as it was read) is for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from store import FirebaseManager


class ReadThenLetIn:
    """A document reference whose reads are each followed by another writer's write: the
    first read only, or every read (`every`: a writer that always gets in first)."""

    def __init__(self, ref: Any, then: Callable[[], Awaitable[None]], every: bool) -> None:
        self._ref, self._then, self._every = ref, then, every

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ref, name)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        snap = await self._ref.get(*args, **kwargs)
        if self._then is not None:
            then = self._then
            if not self._every:
                self._then = None
            await then()
        return snap


def after_read(monkeypatch: pytest.MonkeyPatch, store: FirebaseManager, path: str,
               then: Callable[[], Awaitable[None]], *, every: bool = False) -> None:
    """The next reference to `path` that `store` makes lets `then` write right after its
    first read (with `every`: every reference to it, after each read)."""
    real = store.db.document
    pending = {path: then}

    def document(p: str) -> Any:
        ref = real(p)
        hook = pending.get(p) if every else pending.pop(p, None)
        return ReadThenLetIn(ref, hook, every) if hook else ref

    monkeypatch.setattr(store.db, "document", document)
