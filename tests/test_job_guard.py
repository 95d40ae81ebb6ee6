"""The worker's job guard: a job process that dies while its caller is still in the room gets a
new agent, even when the LiveKit server is too busy to answer the first time it is asked.

The LiveKit API is stood in for by a few methods that answer from a table (the real server
paths run in tests/telephony/test_crash_recovery_e2e.py); what is tested here is the guard's
own bookkeeping: which ended jobs it decides about, and that a 503 does not make it forget one.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from livekit import api

from telephony import redispatch
from telephony.redispatch import JobGuard

ROOM, AGENT, CALLER = "call-_+16175550199_abc", "agent-AJ_1", "sip_+16175550199"


class Server:
    """What JobGuard reads of livekit-agents' AgentServer."""

    def __init__(self) -> None:
        self.active_jobs: list[Any] = []
        self.draining = False

    def run(self, job_id: str, room: str, identity: str) -> None:
        self.active_jobs.append(SimpleNamespace(
            job=SimpleNamespace(id=job_id, room=SimpleNamespace(name=room)),
            accept_arguments=SimpleNamespace(identity=identity), fake_job=False))


class LiveKit:
    """RoomService and AgentDispatchService as the guard uses them; `busy` 503s first."""

    def __init__(self, busy: int = 0) -> None:
        self.busy = busy
        self.participants = [api.ParticipantInfo(identity=CALLER,
                                                 kind=api.ParticipantInfo.Kind.SIP)]
        self.dispatches = [api.AgentDispatch(id="AD_1", agent_name="restaurant-agent",
                                             room=ROOM)]
        self.created: list[api.CreateAgentDispatchRequest] = []
        self.removed: list[str] = []
        self.room = SimpleNamespace(list_participants=self._list_participants,
                                    remove_participant=self._remove)
        self.agent_dispatch = SimpleNamespace(list_dispatch=self._list_dispatch,
                                              create_dispatch=self._create)

    async def _list_participants(self, req: api.ListParticipantsRequest) -> Any:
        if self.busy:
            self.busy -= 1
            raise api.TwirpError("unavailable", "no response from servers", status=503)
        return api.ListParticipantsResponse(participants=self.participants)

    async def _list_dispatch(self, room: str) -> list[api.AgentDispatch]:
        return list(self.dispatches)

    async def _create(self, req: api.CreateAgentDispatchRequest) -> api.AgentDispatch:
        self.created.append(req)
        return api.AgentDispatch(id=f"AD_{len(self.dispatches) + 1}", room=req.room)

    async def _remove(self, req: api.RoomParticipantIdentity) -> None:
        self.removed.append(req.identity)


async def _job_dies(guard: JobGuard, server: Server, lk: LiveKit) -> None:
    server.run("AJ_1", ROOM, AGENT)
    await _poll(guard, lk)
    assert lk.created == []  # a running job is left alone
    server.active_jobs.clear()  # SIGKILLed: it leaves the worker's active jobs


async def _poll(guard: JobGuard, lk: LiveKit) -> None:
    await guard.check(lk)  # type: ignore[arg-type]
    await guard.settle()


async def test_a_dead_job_with_its_caller_still_there_gets_a_new_agent() -> None:
    server, lk = Server(), LiveKit()
    guard = JobGuard(server, "restaurant-agent")
    await _job_dies(guard, server, lk)
    await _poll(guard, lk)
    assert [(r.room, r.agent_name) for r in lk.created] == [(ROOM, "restaurant-agent")]
    assert lk.removed == [AGENT] and guard.redispatched == [ROOM]
    await _poll(guard, lk)
    assert len(lk.created) == 1  # decided once


async def test_a_busy_server_does_not_make_the_guard_forget_the_call() -> None:
    server, lk = Server(), LiveKit(busy=3)
    guard = JobGuard(server, "restaurant-agent")
    await _job_dies(guard, server, lk)
    await _poll(guard, lk)  # asked again each poll until LiveKit answers
    assert [r.room for r in lk.created] == [ROOM] and lk.busy == 0


async def test_one_call_the_server_cannot_answer_about_does_not_hold_up_another(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redispatch, "JOB_GUARD_DECIDE_S", 0.5)
    server, lk = Server(), LiveKit(busy=10_000)
    guard = JobGuard(server, "restaurant-agent")
    await _job_dies(guard, server, lk)
    await guard.check(lk)  # type: ignore[arg-type]  # the first call: LiveKit keeps failing
    lk.busy = 0
    lk.room.list_participants = _failing_for(ROOM, lk.room.list_participants)
    server.run("AJ_2", "call-other", "agent-AJ_2")
    await guard.check(lk)  # type: ignore[arg-type]
    server.active_jobs.clear()
    await guard.check(lk)  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert [r.room for r in lk.created] == ["call-other"]  # at once, not after the other's 0.5 s
    await guard.settle()  # the first is given up (left to the call watcher)
    assert [r.room for r in lk.created] == ["call-other"]


def _failing_for(room: str, answer: Any) -> Any:
    async def list_participants(req: api.ListParticipantsRequest) -> Any:
        if req.room == room:
            raise api.TwirpError("unavailable", "no response from servers", status=503)
        return await answer(req)

    return list_participants


async def test_a_call_that_ended_with_its_job_gets_no_agent() -> None:
    server, lk = Server(), LiveKit()
    lk.participants = []  # the caller hung up: the job ended with the call
    guard = JobGuard(server, "restaurant-agent")
    await _job_dies(guard, server, lk)
    await _poll(guard, lk)
    assert lk.created == [] and guard.redispatched == []


async def test_a_draining_worker_brings_no_agent_back() -> None:
    server, lk = Server(), LiveKit()
    guard = JobGuard(server, "restaurant-agent")
    await _job_dies(guard, server, lk)
    server.draining = True
    await _poll(guard, lk)
    server.draining = False
    await _poll(guard, lk)
    assert lk.created == []
