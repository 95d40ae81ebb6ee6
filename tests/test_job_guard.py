"""The worker's job guard: a job process that dies while its caller is still in the room gets a
new agent, even when the LiveKit server is too busy to answer the first time it is asked.

The LiveKit API is stood in for by a few methods that answer from a table (the real server
paths run in tests/telephony/test_crash_recovery_e2e.py); what is tested here is the guard's
own bookkeeping: which ended jobs it decides about, and that a 503 does not make it forget one.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest
from livekit import api

from actions.outbound_job import OutboundJob
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


OUT_ROOM = "out-reminder-R1-1"


async def test_an_outbound_calls_new_agent_is_told_the_call_and_that_it_must_not_dial():
    """The dialer's job (which queue entry, leased to whom) stays on the new dispatch, with the
    resume marker merged in: the new agent picks up the guest's call instead of greeting them
    as an inbound caller, and does not dial them again."""
    job = OutboundJob("reminder-R1", "dialer-a", "cafe-2")
    server, lk = Server(), LiveKit()
    lk.participants = [api.ParticipantInfo(identity="guest", kind=api.ParticipantInfo.Kind.SIP)]
    lk.dispatches = [api.AgentDispatch(id="AD_1", agent_name="restaurant-agent", room=OUT_ROOM,
                                       metadata=job.to_metadata(),
                                       state=api.AgentDispatchState(created_at=100))]
    guard = JobGuard(server, "restaurant-agent")
    server.run("AJ_1", OUT_ROOM, AGENT)
    await _poll(guard, lk)
    server.active_jobs.clear()
    await _poll(guard, lk)
    assert [r.room for r in lk.created] == [OUT_ROOM]
    again = OutboundJob.from_metadata(lk.created[0].metadata)
    assert again == OutboundJob("reminder-R1", "dialer-a", "cafe-2", resume=1)
    assert json.loads(lk.created[0].metadata)["why"] == "job process died"

    # The new agent dies too: the third is still the same outbound call, resume 2, whatever
    # order the server lists the dispatches in (the first one's metadata is the call's).
    lk.dispatches.insert(0, api.AgentDispatch(
        id="AD_2", agent_name="restaurant-agent", room=OUT_ROOM,
        metadata=lk.created[0].metadata, state=api.AgentDispatchState(created_at=200)))
    server.run("AJ_2", OUT_ROOM, "agent-AJ_2")
    await _poll(guard, lk)
    server.active_jobs.clear()
    await _poll(guard, lk)
    assert OutboundJob.from_metadata(lk.created[1].metadata) == OutboundJob(
        "reminder-R1", "dialer-a", "cafe-2", resume=2)


@pytest.mark.parametrize("original", ["", "not json", "[1, 2]", '"text"'])
def test_an_inbound_calls_new_agent_gets_only_the_resume_marker(original):
    merged = redispatch.resume_metadata(original, 1, "job process died")
    assert json.loads(merged) == {"resume": 1, "why": "job process died"}
    assert OutboundJob.from_metadata(merged) is None  # still answered as an inbound call


def test_a_dialers_job_is_not_a_resume_and_a_bad_marker_is_ignored():
    job = OutboundJob("reminder-R1", "dialer-a")
    assert OutboundJob.from_metadata(job.to_metadata()).resume == 0  # type: ignore[union-attr]
    for bad in ("yes", -1, 0, None, 1.5, True):
        data = json.loads(job.to_metadata()) | {"resume": bad}
        assert OutboundJob.from_metadata(json.dumps(data)) == job


class _Room:
    def __init__(self) -> None:
        self.remote_participants: dict[str, Any] = {}


class _JobContext:
    """What telephony/outbound_call._guest_on_line reads of livekit-agents' JobContext."""

    def __init__(self, guest: Any | None) -> None:
        self.room = _Room()
        self.guest = guest
        if guest is not None:
            self.room.remote_participants[guest.identity] = guest

    async def wait_for_participant(self, *, identity: str) -> Any:
        if self.guest is None:
            await asyncio.Event().wait()  # nobody comes
        return self.guest


async def test_a_resumed_outbound_call_speaks_only_to_a_guest_still_on_the_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The new agent of an outbound call says nothing and stores nothing (the lease then runs
    out and the queue tries again, as before) when the guest hung up before it came."""
    from conversation.state import UserData
    from telephony import outbound_call

    monkeypatch.setattr(outbound_call, "GUEST_BACK_S", 0.3)
    userdata = UserData(call_id=OUT_ROOM, services=None)  # type: ignore[arg-type]

    def guest(status: str) -> Any:
        return SimpleNamespace(identity="guest", attributes={"sip.callStatus": status})

    assert await outbound_call._guest_on_line(_JobContext(guest("active")), userdata)
    assert not await outbound_call._guest_on_line(_JobContext(None), userdata)  # hung up
    ringing = _JobContext(guest("ringing"))
    assert not await outbound_call._guest_on_line(ringing, userdata)  # never answered in time
    ringing.room.remote_participants.clear()  # left while the new agent waited
    assert not await outbound_call._guest_on_line(ringing, userdata)
    late = _JobContext(guest("ringing"))
    asyncio.get_running_loop().call_later(0.1, late.guest.attributes.update,
                                          {"sip.callStatus": "active"})
    assert await outbound_call._guest_on_line(late, userdata)
