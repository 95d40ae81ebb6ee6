"""The dialer: a service of the stack that starts the restaurant's due outbound calls.

    python -m services.dialer            # runs until stopped (compose service `dialer`, `make dev`)
    python -m services.dialer --once     # one pass over what is due now, then exit

Every DIALER_POLL_S seconds it leases the next due entry of the Firestore queue
(store/outbound.py: calling hours in the guest's time zone, attempts, "don't call me again",
cancelled bookings and the one-call-per-guest lock are checked in the same transaction) and
dispatches the agent into a fresh room with the entry in the job's metadata. The agent dials
the guest itself (telephony/outbound_call.py) and stores the outcome when the call ends.

Why an explicit agent dispatch rather than the dialer calling `create_sip_participant`: the
agent must be listening before the guest answers (LiveKit's answering-machine detector hears
the first words), it is the one that knows how the call went, and a dispatch needs nothing
from the dialer after it is made. Two dialers can run side by side: the queue's lease makes
each entry one dialer's; a dialer that dies leaves a lease that runs out (DIALER_LEASE_S),
after which the entry is due again with its attempt counted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta

from google.cloud import firestore
from livekit import api

from actions.outbound_job import OutboundJob
from actions.texts import Texts, connect_texts, text_reminder
from config import (
    OUTBOUND_ROOM_PREFIX,
    ConfigError,
    OutboundSettings,
    RestaurantOverrides,
    livekit_settings,
    load_firestore_settings,
    outbound_settings,
    twilio_settings,
)
from models import DEFAULT_RESTAURANT_ID, OutboundCall, RestaurantSettings
from store import FirebaseManager, connect, make_async_client
from store.directory import restaurant_ids
from store.outbound import OutboundQueue, Policy, read_restaurant_settings

log = logging.getLogger("restaurant.dialer")


def room_for(call: OutboundCall) -> str:
    """A fresh room per attempt, named for the queue entry (never for the guest's number)."""
    return f"{OUTBOUND_ROOM_PREFIX}{call.id}-{call.attempts}"


class Dialer:
    def __init__(self, client: firestore.AsyncClient, lk: api.LiveKitAPI,
                 cfg: OutboundSettings, texts: Texts | None = None,
                 db: FirebaseManager | None = None) -> None:
        self.client = client
        self.texts, self.db = texts, db  # reminders by text (actions/texts.py), when set
        self.lk = lk
        self.cfg = cfg
        self.worker = cfg.dialer_id or f"{socket.gethostname()}-{os.getpid()}"
        self.lease = timedelta(seconds=cfg.dialer_lease_s)

    async def queue(self, restaurant_id: str = DEFAULT_RESTAURANT_ID) -> OutboundQueue:
        """A restaurant's queue under its settings today (calling hours, attempts)."""
        base = await read_restaurant_settings(self.client, restaurant_id)
        data = base.model_dump() if base else {"name": "our restaurant"}
        # the RESTAURANT_* overrides the worker applies (time zone, ...), here too
        settings = RestaurantSettings.model_validate(
            {**data, **RestaurantOverrides().restaurant_overrides()})
        return OutboundQueue(self.client, Policy.of(settings), restaurant_id)

    async def dial_due(self) -> list[OutboundCall]:
        """Dispatch every entry due now, restaurant by restaurant; the ones this dialer started."""
        started: list[OutboundCall] = []
        for restaurant_id in await restaurant_ids(self.client):
            started += await self._dial_due(restaurant_id)
        return started

    async def _dial_due(self, restaurant_id: str) -> list[OutboundCall]:
        queue = await self.queue(restaurant_id)
        started: list[OutboundCall] = []
        while True:
            now = datetime.now(UTC)
            call = await queue.claim(self.worker, now, self.lease)
            if call is None:
                return started
            if call.channel == "text":
                await self._text(queue, call, restaurant_id)
                continue
            job = OutboundJob(call.id, self.worker, restaurant_id)
            room = room_for(call)
            try:
                await self.lk.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(
                    agent_name=self.cfg.agent_name, room=room, metadata=job.to_metadata()))
            except Exception as e:  # LiveKit down: give the attempt back as failed, retry later
                log.error("dispatch for %s failed: %s", call.id, e)
                await queue.finish(call, self.worker, "failed", datetime.now(UTC))
                continue
            log.info("dispatched %s (attempt %d/%d) into %s", call.id, call.attempts,
                     call.max_attempts, room)
            started.append(call)

    async def _text(self, queue: OutboundQueue, call: OutboundCall, restaurant_id: str) -> None:
        """A text reminder: sent here, no call; no Twilio configured counts as a failed try."""
        outcome = "failed"
        if self.texts is not None and self.db is not None:
            db = self.db.for_restaurant(restaurant_id)
            settings = await db.load_restaurant_settings()
            try:
                if settings is not None:
                    outcome = await text_reminder(self.texts, db, call, settings)
            except Exception:
                log.exception("text reminder %s failed", call.id)
        else:
            log.error("text reminder %s: no Twilio configured (TWILIO_*)", call.id)
        await queue.finish(call, self.worker, outcome, datetime.now(UTC))
        log.info("text reminder %s: %s", call.id, outcome)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("dialer %s polling every %.0fs", self.worker, self.cfg.dialer_poll_s)
        while not stop.is_set():
            try:
                await self.dial_due()
            except Exception:
                log.exception("dialer pass failed; trying again")
            try:
                await asyncio.wait_for(stop.wait(), self.cfg.dialer_poll_s)
            except TimeoutError:
                pass


async def main_async(once: bool) -> int:
    cfg = outbound_settings()
    client = make_async_client(load_firestore_settings())
    livekit = livekit_settings()
    key, secret = livekit.api_credentials("the dialer")
    lk = api.LiveKitAPI(livekit.livekit_url, key, secret)
    db = await connect(load_firestore_settings())
    dialer = Dialer(client, lk, cfg, texts=connect_texts(twilio_settings(), db), db=db)
    try:
        if once:
            started = await dialer.dial_due()
            print(f"dispatched {len(started)}: {', '.join(c.id for c in started) or '-'}")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print(f"dialer {dialer.worker} ready", flush=True)
        await dialer.run(stop)
        return 0
    finally:
        await lk.aclose()
        await db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        return asyncio.run(main_async(args.once))
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
