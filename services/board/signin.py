"""Sign-in that guessing cannot flood or lock: back-off per client and per account, a bounded
queue in front of the password hash, and the owner's own browser never locked out.

* Each attempt is claimed against its client address's back-off, then its account's
  (store/signin.py: atomic, in Firestore). Inside a back-off it is refused before any hash.
* A browser that signed in to the account before (the `board_device` cookie, set at every
  sign-in) skips the client's and the account's back-off and has its own instead: a stranger
  guessing the owner's password from anywhere, even the restaurant's own Wi-Fi, runs up a
  back-off the owner's tablet does not share. A new browser waits at most `ACCOUNT.max_s`;
  `python -m services.board unlock NAME` clears an account's back-off from the host.
* The argon2id hash (64 MiB, the costly part) runs on one low-priority thread with a short
  queue; beyond it an attempt is shed with 429 before it takes any CPU from the calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from services.board.auth import USERNAME_RE, User, _user, _verify, dummy_hash
from store.accounts import AccountRecords
from store.signin import Backoff, SignInRecords, key_of

CLIENT = Backoff(free=10, base_s=1.0, max_s=300.0)
ACCOUNT = Backoff(free=5, base_s=2.0, max_s=300.0)
DEVICE = Backoff(free=5, base_s=2.0, max_s=300.0)
MAX_PASSWORD = 256  # characters: longer is refused before hashing
HASH_THREADS = 1
HASH_WAITING = 4  # attempts queued behind the running hashes; more are shed with 429
HASH_NICE = 19  # below the rest of the board (priority.py), which is below the calls
KNOWN_EXTRA = 2  # queue places only a browser that signed in before may take


@dataclass(frozen=True)
class Attempt:
    user: User | None = None
    wait_s: float = 0.0  # > 0: refused by a back-off, try again after this long
    busy: bool = False  # the hash queue was full: shed

    @property
    def refused(self) -> bool:
        return self.busy or self.wait_s > 0


class HashQueue:
    """At most `threads` hashes at once and `waiting` queued; the rest are refused."""

    def __init__(self, threads: int = HASH_THREADS, waiting: int = HASH_WAITING) -> None:
        self.limit = threads + waiting
        self.inside = 0
        self.shed = 0
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="argon2",
                                        initializer=_lower_priority)

    async def verify(self, digest: str, password: str, known: bool = False) -> bool | None:
        """The check's result, or None when shed. A `known` browser has places of its own:
        a flood of strangers does not keep the owner's tablet out."""
        if self.inside >= self.limit + (KNOWN_EXTRA if known else 0):
            self.shed += 1
            return None
        self.inside += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, _verify, digest, password)
        finally:
            self.inside -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _lower_priority() -> None:
    """The hashing thread yields the cores to everything else (Linux: per-thread nice)."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICE)


class SignIn:
    def __init__(self, db: Any, queue: HashQueue | None = None) -> None:
        self.db = db
        self.records = SignInRecords(db)
        self.queue = queue or HashQueue()

    async def attempt(self, username: str, password: str, client: str,
                      device: str | None) -> Attempt:
        name = username.strip().lower()
        if not USERNAME_RE.match(name) or not password or len(password) > MAX_PASSWORD:
            name = ""  # no such account can exist: checked like an unknown one
        known = bool(name) and await self.records.device_knows(device, name)
        if known:
            keys = [(key_of("device", device or ""), DEVICE)]
        else:
            keys = [(key_of("client", client), CLIENT),
                    (key_of("account", name or "-"), ACCOUNT)]
        for key, policy in keys:
            wait = await self.records.claim(key, policy)
            if wait > 0:
                return Attempt(wait_s=wait)
        data: dict[str, Any] = {}
        if name:
            data = await AccountRecords(self.db).user(name) or {}
        ok = await self.queue.verify(data.get("password_hash") or dummy_hash(),
                                     password[:MAX_PASSWORD], known)
        if ok is None:
            return Attempt(busy=True)
        if not ok or not data or data.get("disabled"):
            return Attempt()
        await self.records.succeeded(*(k for k, _ in keys))
        return Attempt(user=_user(name, data))

    async def unlock(self, username: str) -> None:
        """Forget an account's back-off (the host's `python -m services.board unlock NAME`)."""
        await self.records.succeeded(key_of("account", username.strip().lower()))
