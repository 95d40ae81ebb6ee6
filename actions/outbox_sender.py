"""Sending one kind of the durable outbox's entries to a provider (Square, a POS webhook,
Twilio), in the background of the worker: a pass on every enqueue and every `interval_s`; an
entry leaves the outbox only once the provider answered it for good, so a provider outage or a
dead worker loses nothing, and the provider's idempotency keys make a resend harmless."""

from __future__ import annotations

import asyncio
import logging

from store.outbox import Outbox, OutboxEntry


class OutboxSender:
    kind = ""  # the outbox entries this sender owns
    what = "send"  # for the log: "<what> pass failed"

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._log = logging.getLogger(type(self).__module__)

    async def send_pending(self) -> int:
        """One pass over the outbox; returns how many entries the provider answered for good."""
        async with self._lock:
            done = [e.id for e in await self.outbox.entries()
                    if e.kind == self.kind and await self._send(e)]
            if done:
                await self.outbox.remove(done)
            return len(done)

    async def run(self, interval_s: float = 15.0) -> None:
        """Background task: send now, and on every enqueue or every `interval_s`."""
        while True:
            self._wake.clear()
            try:
                await self.send_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception("%s pass failed", self.what)
            try:
                await asyncio.wait_for(self._wake.wait(), interval_s)
            except TimeoutError:
                pass

    async def _send(self, entry: OutboxEntry) -> bool:
        """Send one entry; True once the provider answered it for good (sent or refused)."""
        raise NotImplementedError
