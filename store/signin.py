"""Sign-in back-off and known browsers, kept in Firestore so they hold across requests and
across board processes (nothing about guessing lives in one process's memory).

* `signin_backoff/{key}`: one document per client address, account or known browser (the key
  is a SHA-256: no address or username is stored in clear). `failures` counts the attempts
  since the key's last success; `last_at` is when the last one was claimed.
* `staff_devices/{sha256(token)}`: a browser that signed in to an account before (the owner's
  tablet). It is proof of an earlier sign-in, not of the password: it only spares that browser
  the account's back-off a stranger may have run up.

An attempt first reads its key: inside the back-off it is refused before any password hash.
Otherwise it claims the attempt with an atomic increment (Firestore's Increment transform
returns the new count): a request whose count is beyond the free attempts and is not the one
right after the count it read lost a race to a parallel request and is refused too. So a
burst of parallel guesses counts as that many failures, never as one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

BACKOFF = "signin_backoff"
DEVICES = "staff_devices"
KEEP_BACKOFF = timedelta(days=1)  # a counter untouched this long is swept
KEEP_DEVICE = timedelta(days=90)


@dataclass(frozen=True)
class Backoff:
    """`free` failures cost nothing; then each waits twice the last, from `base_s` to `max_s`."""

    free: int
    base_s: float
    max_s: float

    def wait_after(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.max_s, self.base_s * 2.0 ** (failures - self.free))


def key_of(kind: str, value: str) -> str:
    """The document id for a client address ("client"), account or browser."""
    return f"{kind}-" + hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:40]


class SignInRecords:
    """The back-off counters and known browsers of one restaurant's board."""

    def __init__(self, db: Any, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        # A client address's refusal already read from the database holds until its wait ends:
        # a flooding client is refused from memory meanwhile, without a database round trip
        # (the count itself lives only in the database). Not for accounts: `python -m services.board
        # unlock`, from another process, must take effect at once.
        self._refused_until: dict[str, float] = {}

    async def claim(self, key: str, policy: Backoff) -> float:
        """0.0: go on and check the password; otherwise the seconds to wait first."""
        until = self._refused_until.get(key, 0.0) - self.clock()
        if until > 0:
            return until
        wait = await self._claim(key, policy)
        if wait > 0 and key.startswith("client-"):
            if len(self._refused_until) > 10_000:
                self._refused_until.clear()
            self._refused_until[key] = self.clock() + wait
        return wait

    async def _claim(self, key: str, policy: Backoff) -> float:
        ref = self.db.document(f"{BACKOFF}/{key}")
        snap = await ref.get()
        data = (snap.to_dict() or {}) if snap.exists else {}
        seen = int(data.get("failures") or 0)
        now = self.clock()
        wait = float(data.get("last_at") or 0.0) + policy.wait_after(seen) - now
        if wait > 0:
            return wait
        result = await ref.set({
            "failures": firestore.Increment(1), "last_at": now,
            "expires_at": datetime.now(UTC) + KEEP_BACKOFF}, merge=True)
        count = int(result.transform_results[0].integer_value)
        if count <= policy.free or count == seen + 1:
            return 0.0
        return max(1.0, policy.wait_after(count - 1))  # lost the race to a parallel attempt

    async def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._refused_until.pop(key, None)
            await self.db.document(f"{BACKOFF}/{key}").delete()

    async def failures(self, key: str) -> int:
        snap = await self.db.document(f"{BACKOFF}/{key}").get()
        return int((snap.to_dict() or {}).get("failures") or 0) if snap.exists else 0

    async def remember_device(self, token: str, username: str) -> None:
        await self.db.document(f"{DEVICES}/{_sha(token)}").set({
            "username": username, "expires_at": datetime.now(UTC) + KEEP_DEVICE})

    async def device_knows(self, token: str | None, username: str) -> bool:
        """True when this browser signed in to `username` before (and not too long ago)."""
        if not token or len(token) > 100:
            return False
        snap = await self.db.document(f"{DEVICES}/{_sha(token)}").get()
        data = (snap.to_dict() or {}) if snap.exists else {}
        expires = data.get("expires_at")
        return (data.get("username") == username and expires is not None
                and expires > datetime.now(UTC))

    async def sweep(self) -> int:
        """Delete counters and browsers past their expiry; how many went."""
        n = 0
        for collection in (BACKOFF, DEVICES):
            query = self.db.collection(collection).where(
                filter=FieldFilter("expires_at", "<", datetime.now(UTC)))
            async for snap in query.stream():
                await snap.reference.delete()
                n += 1
        return n


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
