"""Bringing an agent back into a call whose agent died, with LiveKit's public server API only.

Self-hosted LiveKit does not restart a failed job (its restart policy is a LiveKit Cloud
feature) and no other worker hears of it, so the caller would sit in silence. Two places
notice a dead agent, because neither can see both cases:

* the worker itself (`JobGuard`, in the worker's main process, which survives its job
  processes): a job that leaves `AgentServer.active_jobs` while its room still holds the
  caller died (an OOM kill, a crash: a job that ends normally deletes the room or follows the
  caller's hang-up). Reaction within one poll (0.1 s), no extra service needed;
* the call watcher service (services/call_watch.py), for a whole worker that dies: the agent's
  participant stays in the room for ~15 s (LiveKit waits for ICE to time out), so the
  watcher asks the agent's worker health endpoint, which the agent announces in its
  participant attributes (WORKER_HEALTH_ATTRIBUTE). It also ends calls no agent can take.

Both remove the dead agent's participant (so the room shows the truth at once) and create a
new dispatch for the room (AgentDispatchService.CreateDispatch); the new agent resumes the
call from its saved state (conversation/call_snapshot.py). The new dispatch carries the first
one's metadata with a `resume` marker merged in: an outbound call's job (the dialer's queue
entry and lease) stays, so its new agent picks the guest up instead of greeting them as an
inbound caller or dialling them again (telephony/outbound_call.py). Dispatches per room are
capped: the count comes from the server's own list of the room's dispatches, so it survives
restarts of either side.

Relies on (pinned in requirements.txt / scripts/install_deps.sh): livekit-api 1.2
(RoomService ListRooms/ListParticipants/RemoveParticipant/DeleteRoom, AgentDispatchService
CreateDispatch/ListDispatch) against LiveKit server 1.13; livekit-agents 1.8.9's public
`AgentServer.active_jobs` and its "worker_started" event.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from livekit import api, rtc
from livekit.agents.job import DEFAULT_PARTICIPANT_KINDS

from config import ConfigError, LiveKitSettings

# A warm transfer's consultation room (telephony/staff_phone.py): call room X's is "staff-X",
# where the worker briefs staff as BRIEFING_IDENTITY and bridges them to the caller; the call
# watcher clears one nobody is left to bridge (services/call_watch.py).
STAFF_ROOM_PREFIX = "staff-"
BRIEFING_IDENTITY = "agent-briefing"
# The call watcher joins a call as this (a standard participant) to say its hold line or
# apology; an agent starting meanwhile must not take it for the caller (`the_caller`).
WATCHER_IDENTITY = "phoneline-call-watch"

logger = logging.getLogger("restaurant.redispatch")

WORKER_HEALTH_ATTRIBUTE = "phoneline.worker_health"
DEFAULT_MAX_REDISPATCHES = 3
JOB_GUARD_POLL_S = 0.1
JOB_GUARD_ASK_S = 2.0  # one look at a dead job's room (the SDK retries a 503 itself meanwhile)
JOB_GUARD_DECIDE_S = 5.0  # then the call watcher's path (agentless room) takes over


def announce_health(room: rtc.Room, health_url: str) -> None:
    """Tell the call watcher where to ask whether this agent's worker is alive (its participant
    attributes), in the background: the call does not wait for it."""
    if not health_url:
        return
    told = asyncio.ensure_future(
        room.local_participant.set_attributes({WORKER_HEALTH_ATTRIBUTE: health_url}))
    told.add_done_callback(lambda t: t.cancelled() or t.exception())


def http_url(livekit_url: str) -> str:
    if livekit_url.startswith("ws"):
        return "http" + livekit_url[2:]
    return livekit_url


@dataclass
class CallRoom:
    """What the server says about one call's room."""

    name: str
    callers: list[str] = field(default_factory=list)  # SIP participants' identities
    agents: dict[str, str] = field(default_factory=dict)  # agent identity -> its health URL
    dispatches: list[str] = field(default_factory=list)  # our agent's dispatch ids
    dispatch_jobs: dict[str, list[str]] = field(default_factory=dict)  # id -> job identities
    # The first dispatch's metadata: an outbound call's job (actions/outbound_job.py) is
    # carried there, and a new agent needs it to know what the call is for.
    metadata: str = ""

    @property
    def redispatches(self) -> int:
        return max(0, len(self.dispatches) - 1)


async def look(lk: api.LiveKitAPI, room: str, agent_name: str) -> CallRoom | None:
    """The room's callers, agents and dispatches; None when the room is gone."""
    try:
        people = (await lk.room.list_participants(api.ListParticipantsRequest(room=room)))
    except api.TwirpError as e:
        if e.code == "not_found":
            return None
        raise
    view = CallRoom(room)
    for p in people.participants:
        if p.kind == api.ParticipantInfo.Kind.SIP:
            view.callers.append(p.identity)
        elif p.kind == api.ParticipantInfo.Kind.AGENT:
            view.agents[p.identity] = p.attributes.get(WORKER_HEALTH_ATTRIBUTE, "")
    if not view.callers:
        # The call is over and nothing will be dispatched into it; its room is being deleted,
        # and LiveKit answers a dispatch listing for such a room with 503s for seconds.
        return view
    first: int | None = None
    for d in await lk.agent_dispatch.list_dispatch(room):
        if d.agent_name != agent_name:
            continue
        view.dispatches.append(d.id)
        view.dispatch_jobs[d.id] = [j.state.participant_identity for j in d.state.jobs]
        if first is None or d.state.created_at < first:
            first, view.metadata = d.state.created_at, d.metadata
    return view


def resume_metadata(original: str, attempt: int, why: str) -> str:
    """The new agent's dispatch metadata: the call's own (an outbound call's job: which queue
    entry, leased to whom) with the resume marker merged in; only the marker for a call whose
    dispatch carried none (an inbound call) or something that is not a JSON object."""
    try:
        data = json.loads(original) if original else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    return json.dumps({**data, "resume": attempt, "why": why})


async def bring_agent_back(
    lk: api.LiveKitAPI, view: CallRoom, agent_name: str, *, dead_agent: str | None, why: str,
    cap: int = DEFAULT_MAX_REDISPATCHES,
) -> bool:
    """Dispatch a new agent, then remove the dead agent's participant; False at the cap.
    In that order, so the other watcher always sees either the old agent or a pending one."""
    brought = view.redispatches < cap
    if brought:
        attempt = view.redispatches + 1
        await lk.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(
            agent_name=agent_name, room=view.name,
            metadata=resume_metadata(view.metadata, attempt, why)))
        logger.warning("agent re-dispatched into the call (%s)", why,
                       extra={"call_id": view.name, "attempt": attempt})
    else:
        logger.error("call lost its agent again; no more re-dispatches",
                     extra={"call_id": view.name, "redispatches": view.redispatches})
    if dead_agent:
        try:
            await lk.room.remove_participant(
                api.RoomParticipantIdentity(room=view.name, identity=dead_agent))
        except api.TwirpError as e:  # already gone
            logger.debug("removing %s: %s", dead_agent, e)
    return brought


class JobGuard:
    """In the worker's main process: re-dispatch the calls whose job process died."""

    def __init__(self, server: Any, agent_name: str) -> None:
        self.server = server
        self.agent_name = agent_name
        # The worker's LiveKit server (main.py sets it for `start`/`dev`; None in console mode)
        self.livekit: LiveKitSettings | None = None
        self.redispatched: list[str] = []
        self._known: dict[str, tuple[str, str]] = {}  # job id -> (room, agent identity)
        self._deciding: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Called on the worker's "worker_started" event, on the worker's own loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="job_guard")

    async def _run(self) -> None:
        if self.livekit is None:  # `console` mode: no LiveKit server, no calls to bring back
            return
        try:
            key, secret = self.livekit.api_credentials("the worker's job guard")
        except ConfigError as e:
            logger.error("no re-dispatch of crashed jobs: %s", e)
            return
        lk = api.LiveKitAPI(http_url(self.livekit.livekit_url), key, secret)
        try:
            while True:
                try:
                    await self.check(lk)
                except Exception:
                    logger.exception("job guard check failed")
                await asyncio.sleep(JOB_GUARD_POLL_S)
        finally:
            await self.settle()
            await lk.aclose()

    async def check(self, lk: api.LiveKitAPI) -> None:
        """Notice the jobs that left since the last poll; each one's call is decided in its own
        task, so a slow or failing answer about one call never delays another."""
        running = {info.job.id: (info.job.room.name, info.accept_arguments.identity)
                   for info in self.server.active_jobs if not info.fake_job}
        gone = [info for job, info in self._known.items() if job not in running]
        self._known = running
        if self.server.draining:
            return  # a deploy: jobs finish on their own, and this worker takes no new ones
        for room, identity in gone:
            task = asyncio.create_task(self._decide(lk, room, identity),
                                       name=f"job_guard:{room}")
            self._deciding.add(task)
            task.add_done_callback(self._deciding.discard)

    async def settle(self) -> None:
        """Wait for the calls being decided (tests; shutdown)."""
        await asyncio.gather(*self._deciding, return_exceptions=True)

    async def _decide(self, lk: api.LiveKitAPI, room: str, identity: str) -> None:
        """Decided again each poll while LiveKit fails to answer (a busy server's 503), for
        JOB_GUARD_DECIDE_S; after that the call watcher's slower path is the call's chance."""
        started = asyncio.get_running_loop().time()
        while True:
            try:
                async with asyncio.timeout(JOB_GUARD_ASK_S):
                    await self._job_ended(lk, room, identity)
                return
            except (api.TwirpError, TimeoutError, OSError) as e:
                why = f"{e.code} ({e.status})" if isinstance(e, api.TwirpError) else type(
                    e).__name__
                if asyncio.get_running_loop().time() - started >= JOB_GUARD_DECIDE_S:
                    logger.error("job guard: no answer from LiveKit about a dead job's call "
                                 "(%s); left to the call watcher", why, extra={"call_id": room})
                    return
                logger.warning("job guard: LiveKit answered %s; asking again", why,
                               extra={"call_id": room})
            await asyncio.sleep(JOB_GUARD_POLL_S)

    async def _job_ended(self, lk: api.LiveKitAPI, room: str, identity: str) -> None:
        view = await look(lk, room, self.agent_name)
        if view is None or not view.callers:
            return  # the call ended with the job: hung up, transferred, or the agent hung up
        others = [a for a in view.agents if a != identity]
        if others:
            return  # another agent already has the call
        cap = self.livekit.call_max_redispatches if self.livekit else DEFAULT_MAX_REDISPATCHES
        if await bring_agent_back(lk, view, self.agent_name, dead_agent=identity,
                                  why="job process died", cap=cap):
            self.redispatched.append(room)


async def the_caller(room: rtc.Room) -> rtc.RemoteParticipant:
    """The caller in a connected room: the first participant `ctx.wait_for_participant()`
    would take (its DEFAULT_PARTICIPANT_KINDS) that is not the call watcher, already there or
    joining."""
    found: asyncio.Future[rtc.RemoteParticipant] = asyncio.get_running_loop().create_future()

    def check(p: rtc.RemoteParticipant) -> None:
        caller = p.identity != WATCHER_IDENTITY and p.kind in DEFAULT_PARTICIPANT_KINDS
        if caller and not found.done():
            found.set_result(p)

    room.on("participant_connected", check)
    try:
        for p in list(room.remote_participants.values()):
            check(p)
        return await found
    finally:
        room.off("participant_connected", check)
