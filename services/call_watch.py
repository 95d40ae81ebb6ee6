"""The call watcher: a small service of the stack so that no caller is left in silence.

`python -m services.call_watch` (the compose service `call-watch`; `make dev` starts it too) polls
LiveKit's room API for the rooms of calls (CALL_ROOM_PREFIX, default "call-", and the dialer's
outbound calls, "out-"): every 0.25 s
while calls are live, every 2 s (CALL_WATCH_IDLE_POLL_S) while none is, since a new call's
first agent has 10 s to join anyway:

* an agent whose worker died (its health endpoint, announced in the agent's participant
  attributes, refuses or stops answering) is removed and a new agent is dispatched; the new
  agent resumes the call from its saved state (conversation/call_snapshot.py); an outbound
  call's new agent gets the dialer's job with it and picks the guest up without dialling
  again (telephony/outbound_call.py). A job process that
  dies while its worker lives is handled faster by the worker itself (redispatch.JobGuard);
* a call with a caller and no agent (none ever came, or a re-dispatch got no taker within
  CALL_AGENT_JOIN_S) gets one more dispatch while under the cap (CALL_MAX_REDISPATCHES);
  after that, the caller hears an apology and the call ends with a BYE (or, with
  CALL_WATCH_TRANSFER_TO, is transferred to staff): never open-ended silence;
* with CALL_WORKER_WAIT_S set (compose sets 30 s: its one agent container restarts in
  11-13 s), a re-dispatch no worker took is not the end: the caller hears "One moment,
  please" (again every HOLD_REPEAT_S) and the untaken dispatch is replaced by a fresh one
  every CALL_AGENT_JOIN_S, since LiveKit drops a dispatch no worker is registered for and
  never offers it to a worker that registers later; the restarted worker's agent then
  resumes the call. Only when the wait is spent does the caller get the apology;
* every 30 s, the logs of calls that are no longer live but still "in progress" are marked
  "crashed" (services/call_reaper.py), so every call leaves a record.

Why a separate service and not just the workers: when the only worker dies there is nobody
left to notice, and a second worker is not told about another worker's calls.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import numpy as np
from livekit import api, rtc

from config import OUTBOUND_ROOM_PREFIX, CallWatchSettings, ConfigError, call_watch_settings
from domain.redact import protect_logs
from telephony.redispatch import (
    BRIEFING_IDENTITY,
    DEFAULT_MAX_REDISPATCHES,
    STAFF_ROOM_PREFIX,
    WATCHER_IDENTITY,
    CallRoom,
    bring_agent_back,
    http_url,
    look,
)

logger = logging.getLogger("restaurant.call_watch")

# Short: the caller is already waiting through the re-dispatch nobody took (the old one, with
# "Goodbye", took 8.6 s before the BYE could come).
APOLOGY = "Sorry, we have a technical problem. Please call us back in a few minutes."
HOLD = "One moment, please. We are reconnecting you."
HOLD_REPEAT_S = 10.0  # a caller waiting for a restarting worker hears the hold line this often
APOLOGY_RATE = 24000
HEALTH_TIMEOUT_S = 0.5
HEALTH_FAILURES_FOR_DEAD = 8  # timeouts in a row (a hung worker, ~6 s); a refusal: at once


@dataclass
class WatchOptions:
    agent_name: str = "restaurant-agent"
    room_prefix: str = "call-"
    outbound_prefix: str = OUTBOUND_ROOM_PREFIX  # reminders and call-backs the dialer placed
    poll_s: float = 0.25
    idle_poll_s: float | None = None  # with no call live; None: poll_s
    # A re-dispatch some worker takes has a job within a fraction of a second (a loaded worker
    # is given assigned_join_deadline_s to start its agent); none after this: no worker can.
    join_deadline_s: float = 2.0
    first_join_deadline_s: float = 10.0  # the first agent of a call (set by the SIP rule)
    # A worker took the job: it may be slow, not dead. Seen: 49 s from job to agent on a
    # 2-core machine at load 10. A second agent meanwhile would talk over the first.
    assigned_join_deadline_s: float = 60.0
    agentless_grace_s: float = 2.0
    reap_every_s: float = 30.0
    reap_min_age_s: float = 60.0
    snapshot_expiry_s: float = 300.0  # left-over call snapshots are deleted after this
    transfer_to: str = ""
    apology: str = APOLOGY
    # How long a call that lost its agent waits for a worker to register (one restarting);
    # 0: a re-dispatch no worker took ends the call (more workers than one: none is coming).
    worker_wait_s: float = 0.0
    hold: str = HOLD

    max_redispatches: int = DEFAULT_MAX_REDISPATCHES
    apology_audio: Path | None = None  # raw 24 kHz linear16; espeak-ng (or beeps) when None

    @classmethod
    def from_settings(cls, s: CallWatchSettings) -> WatchOptions:
        return cls(agent_name=s.agent_name, room_prefix=s.call_room_prefix,
                   join_deadline_s=s.call_agent_join_s, transfer_to=s.call_watch_transfer_to,
                   reap_every_s=s.call_reap_every_s, reap_min_age_s=s.call_reap_min_age_s,
                   snapshot_expiry_s=s.call_snapshot_expiry_s,
                   max_redispatches=s.call_max_redispatches,
                   apology_audio=s.call_watch_apology_audio,
                   idle_poll_s=s.call_watch_idle_poll_s, worker_wait_s=s.call_worker_wait_s)


def stale_staff_rooms(staff_rooms: dict[str, set[str]], calls: set[str],
                      briefless: dict[str, float], now: float, grace_s: float) -> list[str]:
    """The consultation rooms of warm transfers (`staff-<call room>`: identities in each) that
    nobody is left to bridge: their call is over, or the worker that briefs and bridges staff
    (BRIEFING_IDENTITY) is gone (its job crashed) for `grace_s`, so staff would otherwise sit in
    silence. Updates `briefless` (since when each room has had no briefing agent)."""
    stale = []
    for name, people in staff_rooms.items():
        if name.removeprefix(STAFF_ROOM_PREFIX) not in calls:
            stale.append(name)
        elif BRIEFING_IDENTITY in people:
            briefless.pop(name, None)
        elif now - briefless.setdefault(name, now) >= grace_s:
            stale.append(name)
    for name in list(briefless):
        if name not in staff_rooms:
            del briefless[name]
    return stale


@dataclass
class RoomMemory:
    dispatch_seen: dict[str, float] = field(default_factory=dict)  # id -> first seen (mono)
    agents_seen: set[str] = field(default_factory=set)  # every agent that was in the room
    agentless_since: float | None = None  # when the room was first seen with no agent at all
    ended: bool = False  # the watcher ended (or is ending) this call
    lost_at: float | None = None  # when the call was first found needing a new agent
    held_at: float | None = None  # when the caller last heard the hold line


def decide(view: CallRoom, memory: RoomMemory, dead_urls: set[str], now: float,
           options: WatchOptions) -> tuple[str, str | None]:
    """("ok"|"wait"|"redispatch"|"retry"|"give_up", the dead agent to remove) for one call.

    Never a second agent while one is on its way: a dispatch a worker took (it has a job)
    is waited for until `assigned_join_deadline_s`; one no worker took, `join_deadline_s`
    (the first agent of a call: `first_join_deadline_s`). A room with no agent at all is
    given `agentless_grace_s`: at the end of a call the agent leaves just before the room
    is deleted. A re-dispatch no worker took is retried ("retry": replaced, not added to,
    so it counts once against the cap) until `worker_wait_s` after the call lost its agent.
    Updates `memory` (the agents seen, since when the room has had none)."""
    if not view.callers or memory.ended:
        return "ok", None
    memory.agents_seen.update(view.agents)
    alive = [a for a, url in view.agents.items() if not url or url not in dead_urls]
    if alive:
        memory.agentless_since = memory.lost_at = memory.held_at = None
        return "ok", None
    dead = next(iter(view.agents), None)
    never_came = False
    for n, dispatch in enumerate(view.dispatches):
        jobs = [identity for identity in view.dispatch_jobs.get(dispatch, []) if identity]
        if any(identity in memory.agents_seen for identity in jobs):
            continue  # its agent came (and died, or left)
        age = now - memory.dispatch_seen.get(dispatch, now)
        if jobs:
            deadline = options.assigned_join_deadline_s  # a worker is starting the agent
        else:
            deadline = options.first_join_deadline_s if n == 0 else options.join_deadline_s
        if age < deadline:
            return "wait", None
        never_came = True
    if dead is None and not never_came:
        if memory.agentless_since is None:
            memory.agentless_since = now
        if now - memory.agentless_since < options.agentless_grace_s:
            return "wait", None
    if memory.lost_at is None:
        memory.lost_at = now
    last = view.dispatches[-1] if view.dispatches else None
    if last is not None and view.redispatches >= 1 and dead is None and not any(
            view.dispatch_jobs.get(last, [])):
        if now - memory.lost_at < options.worker_wait_s:
            return "retry", None  # no worker took it yet; one may be restarting
        return "give_up", None  # the last re-dispatch found no worker: another will not either
    if view.redispatches >= options.max_redispatches:
        return "give_up", dead
    return "redispatch", dead


class HealthChecks:
    """Which worker health URLs are dead (refused, or silent several polls in a row)."""

    def __init__(self) -> None:
        self.failures: dict[str, int] = {}
        self._session: aiohttp.ClientSession | None = None

    async def dead(self, urls: set[str]) -> set[str]:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=HEALTH_TIMEOUT_S))
        results = await asyncio.gather(*(self._probe(u) for u in urls))
        return {u for u, ok in zip(urls, results, strict=True) if not ok}

    async def _probe(self, url: str) -> bool:
        assert self._session is not None
        try:
            async with self._session.get(url) as resp:
                if resp.status < 500:
                    self.failures.pop(url, None)
                    return True
        except aiohttp.ClientConnectorError:
            self.failures[url] = HEALTH_FAILURES_FOR_DEAD  # refused: the worker is gone
            return False
        except (TimeoutError, aiohttp.ClientError):
            pass
        self.failures[url] = self.failures.get(url, 0) + 1
        return self.failures[url] < HEALTH_FAILURES_FOR_DEAD

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def apology_audio(text: str, rate: int = APOLOGY_RATE, path: Path | None = None) -> np.ndarray:
    """The apology as int16 samples: `path` (CALL_WATCH_APOLOGY_AUDIO, raw 24 kHz linear16),
    else espeak-ng when installed, else three soft beeps (still better than silence)."""
    if path:
        return np.fromfile(path, dtype="<i2")
    if shutil.which("espeak-ng") and shutil.which("sox"):
        try:
            wav = subprocess.run(["espeak-ng", "--stdout", "-v", "en-us", "-s", "165", text],
                                 capture_output=True, check=True, timeout=20).stdout
            raw = subprocess.run(["sox", "-q", "-t", "wav", "-", "-t", "raw", "-r", str(rate),
                                  "-e", "signed", "-b", "16", "-c", "1", "-L", "-"],
                                 input=wav, capture_output=True, check=True, timeout=20).stdout
            return np.frombuffer(raw, dtype="<i2")
        except (OSError, subprocess.SubprocessError):
            logger.exception("espeak-ng failed; the apology is beeps")
    t = np.arange(int(0.25 * rate)) / rate
    beep = (np.sin(2 * np.pi * 660 * t) * 6000).astype("<i2")
    gap = np.zeros(int(0.2 * rate), dtype="<i2")
    return np.concatenate([beep, gap, beep, gap, beep])


class CallWatch:
    def __init__(self, lk: api.LiveKitAPI, livekit_url: str, key: str, secret: str,
                 options: WatchOptions, db: object | None = None) -> None:
        self.lk = lk
        self.livekit_url = livekit_url
        self.key, self.secret = key, secret
        self.options = options
        self.db = db  # a FirebaseManager for the reaper; None: no reaping
        self.health = HealthChecks()
        self.memory: dict[str, RoomMemory] = {}
        self.events: list[tuple[float, str, str]] = []  # (time, room, what) for tests and logs
        self._apology: np.ndarray | None = None
        self._hold: np.ndarray | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_reap = 0.0
        self.live_calls = 0  # call rooms seen by the last tick
        self.briefless: dict[str, float] = {}  # staff room -> since when no briefing agent
        self.prefixes = tuple(p for p in (options.room_prefix, options.outbound_prefix) if p)

    async def run(self) -> None:
        self._apology = await asyncio.to_thread(apology_audio, self.options.apology, APOLOGY_RATE,
                                               self.options.apology_audio)
        if self.options.worker_wait_s:
            self._hold = await asyncio.to_thread(apology_audio, self.options.hold, APOLOGY_RATE)
        logger.info("call watch running for agent %r", self.options.agent_name)
        try:
            while True:
                try:
                    await self.tick()
                except Exception:
                    logger.exception("call watch tick failed")
                idle = self.options.idle_poll_s
                quiet = idle is not None and not self.live_calls and not self.memory
                await asyncio.sleep(idle if quiet and idle is not None else self.options.poll_s)
        finally:
            await self.health.aclose()

    async def tick(self) -> None:
        rooms = (await self.lk.room.list_rooms(api.ListRoomsRequest())).rooms
        calls = [r.name for r in rooms if r.name.startswith(self.prefixes)]
        self.live_calls = len(calls)
        views = [v for v in await asyncio.gather(
            *(look(self.lk, name, self.options.agent_name) for name in calls)) if v]
        now = time.monotonic()
        urls = {u for v in views for u in v.agents.values() if u}
        dead_urls = await self.health.dead(urls) if urls else set()
        for view in views:
            memory = self.memory.setdefault(view.name, RoomMemory())
            for d in view.dispatches:
                memory.dispatch_seen.setdefault(d, now)
            verdict, dead = decide(view, memory, dead_urls, now, self.options)
            if verdict == "retry":
                await self._retry(view, memory, now)
            if verdict == "redispatch":
                self._note(view.name, "redispatch")
                if not await bring_agent_back(self.lk, view, self.options.agent_name,
                                              cap=self.options.max_redispatches,
                                              dead_agent=dead, why="worker died or no agent"):
                    verdict = "give_up"
            if verdict == "give_up":
                memory.ended = True
                self._note(view.name, "give_up")
                self._spawn(self.end_call(view, dead))
        for name in list(self.memory):
            if name not in calls:
                del self.memory[name]
        await self._clear_staff_rooms(
            [r.name for r in rooms if r.name.startswith(STAFF_ROOM_PREFIX)], set(calls), now)
        if self.db is not None and now - self._last_reap >= self.options.reap_every_s:
            self._last_reap = now
            await self._reap(set(calls), {r.name for r in rooms})

    async def _retry(self, view: CallRoom, memory: RoomMemory, now: float) -> None:
        """The caller waits for a worker to register: the hold line (not too often), and the
        untaken re-dispatch replaced by a fresh one. Deleting it first keeps the count of
        re-dispatches as it was (LiveKit would terminate a job it had found meanwhile, so
        two agents never arrive)."""
        if memory.held_at is None or now - memory.held_at >= HOLD_REPEAT_S:
            memory.held_at = now
            self._spawn(self.say(view.name, self._hold, "hold"))
        untaken = view.dispatches[-1]
        try:
            await self.lk.agent_dispatch.delete_dispatch(untaken, view.name)
        except api.TwirpError as e:  # gone with the room
            logger.debug("dispatch %s: %s", untaken, e)
            return
        self._note(view.name, "waiting for a worker")
        await bring_agent_back(self.lk, dataclasses.replace(view, dispatches=view.dispatches[:-1]),
                               self.options.agent_name, cap=self.options.max_redispatches,
                               dead_agent=None, why="waiting for a worker")

    async def _reap(self, live: set[str], rooms: set[str]) -> None:
        """Crashed calls' logs, written from their snapshots; then left-over snapshots (of no
        room at all: an outbound call's `out-` room saves one too, while it is on)."""
        from services.call_reaper import reap_crashed_calls, sweep_call_snapshots

        await reap_crashed_calls(self.db, live, datetime.now(UTC),  # type: ignore[arg-type]
                                 min_age_s=self.options.reap_min_age_s)
        await sweep_call_snapshots(self.db, live | rooms, datetime.now(UTC),  # type: ignore[arg-type]
                                   expiry_s=self.options.snapshot_expiry_s)

    async def _clear_staff_rooms(self, names: list[str], calls: set[str], now: float) -> None:
        """End the warm transfers' staff side rooms left behind by a crash (staff hear a BYE)."""
        if not names and not self.briefless:
            return
        people = {}
        for name in names:
            try:
                found = await self.lk.room.list_participants(api.ListParticipantsRequest(room=name))
            except api.TwirpError:
                continue  # gone meanwhile
            people[name] = {p.identity for p in found.participants}
        for name in stale_staff_rooms(people, calls, self.briefless, now,
                                      self.options.agentless_grace_s):
            self._note(name, "staff room cleared")
            self.briefless.pop(name, None)
            try:
                await self.lk.room.delete_room(api.DeleteRoomRequest(room=name))
            except api.TwirpError:
                logger.warning("staff room %s could not be deleted", name)

    def _note(self, room: str, what: str) -> None:
        self.events.append((time.time(), room, what))
        logger.warning("call %s: %s", what, room)

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def end_call(self, view: CallRoom, dead_agent: str | None) -> None:
        """No agent can take the call: apologise, then transfer to staff or hang up (BYE)."""
        if dead_agent:
            try:
                await self.lk.room.remove_participant(
                    api.RoomParticipantIdentity(room=view.name, identity=dead_agent))
            except api.TwirpError:
                pass
        await self.say(view.name, self._apology, "apology")
        if self.options.transfer_to and view.callers:
            try:
                await self.lk.sip.transfer_sip_participant(api.TransferSIPParticipantRequest(
                    room_name=view.name, participant_identity=view.callers[0],
                    transfer_to=self.options.transfer_to, play_dialtone=False))
                self._note(view.name, "transferred")
                return
            except Exception:
                logger.exception("transfer to staff failed", extra={"call_id": view.name})
        await self.lk.room.delete_room(api.DeleteRoomRequest(room=view.name))
        self._note(view.name, "hung up")
        await self._mark_crashed(view.name)

    async def _mark_crashed(self, call_id: str) -> None:
        """No agent finished this call: its log says so now, not at the next reap."""
        if self.db is None:
            return
        try:
            from services.call_reaper import mark_crashed_anywhere

            await mark_crashed_anywhere(self.db, call_id, datetime.now(UTC))  # type: ignore[arg-type]
        except Exception:
            logger.exception("call log not marked crashed", extra={"call_id": call_id})

    async def say(self, room_name: str, samples: np.ndarray | None, what: str) -> None:
        """Join the call as the restaurant and say `samples` (24 kHz) to the caller; a
        failure is logged, and the caller's call goes on to what comes next."""
        try:
            await self._play(room_name, samples, what)
        except Exception:
            logger.exception("%s not played", what, extra={"call_id": room_name})

    async def _play(self, room_name: str, samples: np.ndarray | None, what: str) -> None:
        assert samples is not None
        token = (api.AccessToken(self.key, self.secret).with_identity(WATCHER_IDENTITY)
                 .with_name("Restaurant").with_grants(api.VideoGrants(
                     room_join=True, room=room_name, can_subscribe=False)).to_jwt())
        room = rtc.Room()
        await room.connect(self.livekit_url, token, rtc.RoomOptions(auto_subscribe=False))
        try:
            source = rtc.AudioSource(APOLOGY_RATE, 1, queue_size_ms=500)
            track = rtc.LocalAudioTrack.create_audio_track("apology", source)
            await room.local_participant.publish_track(
                track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
            await asyncio.sleep(0.3)  # the caller's side subscribes
            self._note(room_name, what)
            frame = APOLOGY_RATE // 50  # 20 ms
            for start in range(0, len(samples), frame):
                chunk = samples[start:start + frame]
                if len(chunk) < frame:
                    chunk = np.pad(chunk, (0, frame - len(chunk)))
                await source.capture_frame(rtc.AudioFrame(chunk.tobytes(), APOLOGY_RATE, 1,
                                                          frame))
            await source.wait_for_playout()
            await asyncio.sleep(0.3)
        finally:
            await room.disconnect()


async def amain(settings: CallWatchSettings) -> None:
    url = settings.livekit_url
    key, secret = settings.api_credentials("call_watch")
    options = WatchOptions.from_settings(settings)
    lk = api.LiveKitAPI(http_url(url), key, secret)
    db = None
    try:
        import store
        from config import load_firestore_settings

        db = await store.connect(load_firestore_settings())
    except Exception as e:  # no reaping without a database; the calls still get watched
        logger.error("no Firestore for the call-log reaper: %s", e)
    try:
        await CallWatch(lk, url, key, secret, options, db).run()
    finally:
        await lk.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    protect_logs()  # room names hold the caller's number
    try:
        settings = call_watch_settings()
        settings.api_credentials("call_watch")
    except ConfigError as e:
        print(f"call_watch: {e}", file=sys.stderr)
        return 2
    try:
        asyncio.run(amain(settings))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
