"""What the call watcher decides for a call room, from what the LiveKit API shows of it."""

from __future__ import annotations

import dataclasses

from services.call_watch import RoomMemory, WatchOptions, decide
from telephony.redispatch import CallRoom

OPTS = WatchOptions()
LIVE, DEAD = "http://127.0.0.1:8081/", "http://127.0.0.1:8082/"


def room(*, callers: tuple[str, ...] = ("sip-caller",), agents: dict[str, str] | None = None,
         dispatches: dict[str, list[str]] | None = None) -> CallRoom:
    dispatches = {"AD_1": ["agent-1"]} if dispatches is None else dispatches
    return CallRoom("call-x", callers=list(callers),
                    agents={"agent-1": LIVE} if agents is None else agents,
                    dispatches=list(dispatches), dispatch_jobs=dispatches)


def seen(*ids: str, at: float = 0.0, agents: tuple[str, ...] = ("agent-1",)) -> RoomMemory:
    return RoomMemory(dispatch_seen=dict.fromkeys(ids, at), agents_seen=set(agents))


def test_a_call_with_a_live_agent_is_left_alone() -> None:
    assert decide(room(), seen("AD_1"), {DEAD}, 100.0, OPTS) == ("ok", None)


def test_an_agent_whose_worker_is_dead_is_replaced() -> None:
    view = room(agents={"agent-1": DEAD})
    assert decide(view, seen("AD_1"), {DEAD}, 100.0, OPTS) == ("redispatch", "agent-1")


def test_a_re_dispatched_agent_on_its_way_is_waited_for() -> None:
    view = room(agents={}, dispatches={"AD_1": ["agent-1"], "AD_2": []})
    memory = seen("AD_1", at=0.0)
    memory.dispatch_seen["AD_2"] = 99.0
    assert decide(view, memory, set(), 100.0, OPTS) == ("wait", None)


def test_a_re_dispatch_no_worker_took_ends_the_call() -> None:
    view = room(agents={}, dispatches={"AD_1": ["agent-1"], "AD_2": []})
    memory = seen("AD_1", at=0.0)
    memory.dispatch_seen["AD_2"] = 100.0 - OPTS.join_deadline_s - 0.1
    assert decide(view, memory, set(), 100.0, OPTS) == ("give_up", None)


def test_the_first_agent_gets_longer_to_join_then_one_more_try() -> None:
    view = room(agents={}, dispatches={"AD_1": []})
    assert decide(view, seen("AD_1", at=95.0, agents=()), set(), 100.0, OPTS) == ("wait", None)
    late = seen("AD_1", at=100.0 - OPTS.first_join_deadline_s - 0.1, agents=())
    assert decide(view, late, set(), 100.0, OPTS) == ("redispatch", None)


def test_an_agent_a_worker_is_still_starting_is_never_doubled() -> None:
    """Under load a worker can take many seconds to start an agent: no second one meanwhile."""
    view = room(agents={}, dispatches={"AD_1": ["agent-1"]})
    slow = seen("AD_1", at=100.0 - OPTS.first_join_deadline_s - 5, agents=())
    assert decide(view, slow, set(), 100.0, OPTS) == ("wait", None)
    gone = seen("AD_1", at=100.0 - OPTS.assigned_join_deadline_s - 1, agents=())
    assert decide(view, gone, set(), 100.0, OPTS)[0] == "redispatch"


def test_an_agent_that_left_at_the_end_of_the_call_is_not_replaced() -> None:
    """The agent leaves a moment before it deletes the room: that moment is not a crash."""
    view = room(agents={}, dispatches={"AD_1": ["agent-1"]})
    memory = seen("AD_1", at=0.0)
    assert decide(view, memory, set(), 100.0, OPTS) == ("wait", None)
    assert decide(view, memory, set(), 101.0, OPTS) == ("wait", None)
    # still no agent and the caller still there after the grace: that is a strand
    assert decide(view, memory, set(), 100.0 + OPTS.agentless_grace_s, OPTS)[0] == "redispatch"


def test_re_dispatches_are_capped() -> None:
    capped = dataclasses.replace(OPTS, max_redispatches=2)  # CALL_MAX_REDISPATCHES=2
    jobs = {"AD_1": ["agent-1"], "AD_2": ["agent-2"], "AD_3": ["agent-3"]}
    view = room(agents={"agent-3": DEAD}, dispatches=jobs)
    assert decide(view, seen(*jobs), {DEAD}, 100.0, capped) == ("give_up", "agent-3")


def test_nothing_is_done_once_the_caller_is_gone_or_the_call_is_being_ended() -> None:
    assert decide(room(callers=(), agents={}), seen("AD_1"), set(), 100.0, OPTS)[0] == "ok"
    ending = seen("AD_1")
    ending.ended = True
    assert decide(room(agents={}), ending, set(), 100.0, OPTS)[0] == "ok"


async def test_polling_is_sized_to_what_it_watches(monkeypatch) -> None:
    """LiveKit's room list is asked 4 times a second only while calls are live; with none, once
    every 2 s (each ListRooms is a log line in LiveKit's log)."""
    import asyncio
    import types

    from config import CallWatchSettings
    from services import call_watch

    monkeypatch.setattr(call_watch, "apology_audio", lambda *args: None)
    monkeypatch.delenv("CALL_WATCH_IDLE_POLL_S", raising=False)
    asked: list[float] = []
    rooms: list[object] = []

    async def list_rooms(request: object) -> object:
        asked.append(asyncio.get_running_loop().time())
        return types.SimpleNamespace(rooms=rooms)

    async def no_view(lk: object, name: str, agent: str) -> None:
        return None

    monkeypatch.setattr(call_watch, "look", no_view)
    lk = types.SimpleNamespace(room=types.SimpleNamespace(list_rooms=list_rooms))
    options = WatchOptions.from_settings(CallWatchSettings())
    watch = call_watch.CallWatch(lk, "ws://x", "k", "s", options)
    task = asyncio.create_task(watch.run())
    await asyncio.sleep(2.5)
    idle = len(asked)
    rooms.append(types.SimpleNamespace(name="call-1"))
    await asyncio.sleep(3.0)  # the first tick after the idle sleep sees the call
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert 1 <= idle <= 2, f"{idle} ListRooms in 2.5 s with no call"
    assert len(asked) - idle >= 4, "a live call is watched 4 times a second"


def test_a_warm_transfers_staff_room_left_by_a_crash_is_cleared() -> None:
    """Issue 26 §5: the worker that briefs and bridges staff died (its job crashed, or the
    whole call is over): staff must not sit in a silent side room."""
    from services.call_watch import stale_staff_rooms

    briefless: dict[str, float] = {}
    rooms = {
        "staff-call-live": {"agent-briefing", "staff"},  # a transfer under way: kept
        "staff-call-crashed": {"staff"},  # its worker is gone
        "staff-call-over": {"agent-briefing", "staff"},  # its call room is gone
    }
    calls = {"call-live", "call-crashed"}
    assert stale_staff_rooms(rooms, calls, briefless, 10.0, 2.0) == ["staff-call-over"]
    assert briefless == {"staff-call-crashed": 10.0}  # given the grace first
    assert stale_staff_rooms(rooms, calls, briefless, 11.9, 2.0) == ["staff-call-over"]
    assert stale_staff_rooms(rooms, calls, briefless, 12.0, 2.0) == [
        "staff-call-crashed", "staff-call-over"]
    # the briefing agent back (a slow reconnect) resets the grace; a room gone is forgotten
    rooms["staff-call-crashed"].add("agent-briefing")
    assert stale_staff_rooms(rooms, calls, briefless, 13.0, 2.0) == ["staff-call-over"]
    assert briefless == {}
    assert stale_staff_rooms({}, calls, {"staff-call-gone": 1.0}, 20.0, 2.0) == []


class _LiveKit:
    """RoomService and AgentDispatchService as the watcher's tick uses them, answered from a
    table: each room's participants and dispatches (the real server: the e2e tests)."""

    def __init__(self, rooms: dict[str, tuple[list[object], list[object]]]) -> None:
        import types

        self.rooms = rooms
        self.created: list[object] = []
        self.removed: list[tuple[str, str]] = []
        self.room = types.SimpleNamespace(list_rooms=self._rooms, remove_participant=self._remove,
                                          list_participants=self._participants)
        self.agent_dispatch = types.SimpleNamespace(list_dispatch=self._dispatches,
                                                    create_dispatch=self._create)

    async def _rooms(self, request: object) -> object:
        from livekit import api

        return api.ListRoomsResponse(rooms=[api.Room(name=n) for n in self.rooms])

    async def _participants(self, request: object) -> object:
        from livekit import api

        return api.ListParticipantsResponse(participants=self.rooms[request.room][0])  # type: ignore[attr-defined]

    async def _dispatches(self, room: str) -> list[object]:
        return list(self.rooms[room][1])

    async def _create(self, request: object) -> object:
        self.created.append(request)
        return request

    async def _remove(self, request: object) -> None:
        self.removed.append((request.room, request.identity))  # type: ignore[attr-defined]


async def test_an_outbound_call_whose_worker_died_gets_a_new_agent_that_does_not_dial() -> None:
    """A reminder's room (`out-`) is watched like an inbound call's: its agent's whole worker
    died, so a new agent is dispatched with the dialer's job and the resume marker (it picks
    the guest up, it does not dial again), and the dead agent is removed. A room that is no
    call of ours is left alone."""
    import json

    from livekit import api

    from actions.outbound_job import OutboundJob
    from services import call_watch

    job = OutboundJob("reminder-R1", "dialer-a", "cafe-2")
    guest = api.ParticipantInfo(identity="guest", kind=api.ParticipantInfo.Kind.SIP)
    dead_agent = api.ParticipantInfo(identity="agent-AJ_1", kind=api.ParticipantInfo.Kind.AGENT,
                                     attributes={"phoneline.worker_health": DEAD})
    dialed = api.AgentDispatch(id="AD_1", agent_name="restaurant-agent",
                               room="out-reminder-R1-1", metadata=job.to_metadata(),
                               state=api.AgentDispatchState(
                                   created_at=100, jobs=[api.Job(state=api.JobState(
                                       participant_identity="agent-AJ_1"))]))
    lk = _LiveKit({"out-reminder-R1-1": ([guest, dead_agent], [dialed]),
                   "team-standup": ([guest, dead_agent], [])})
    watch = call_watch.CallWatch(lk, "ws://x", "k", "s", WatchOptions())  # type: ignore[arg-type]

    async def dead(urls: set[str]) -> set[str]:
        return {DEAD} & urls

    watch.health.dead = dead  # type: ignore[method-assign]
    await watch.tick()
    assert watch.live_calls == 1
    assert [r.room for r in lk.created] == ["out-reminder-R1-1"]  # type: ignore[attr-defined]
    metadata = lk.created[0].metadata  # type: ignore[attr-defined]
    assert OutboundJob.from_metadata(metadata) == OutboundJob(
        "reminder-R1", "dialer-a", "cafe-2", resume=1)
    assert json.loads(metadata)["why"] == "worker died or no agent"
    assert lk.removed == [("out-reminder-R1-1", "agent-AJ_1")]
