"""What the call watcher decides for a call room, from what the LiveKit API shows of it."""

from __future__ import annotations

import asyncio
import dataclasses
import time

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


def test_a_caller_is_held_while_a_worker_restarts_then_gets_the_apology() -> None:
    """CALL_WORKER_WAIT_S (compose: its one agent container restarts in ~12 s): a re-dispatch
    no worker took is replaced, not counted again, until the wait from the agent's loss is
    spent; then the apology. Without the wait (several workers) the apology comes at once."""
    waiting = dataclasses.replace(OPTS, worker_wait_s=30.0, max_redispatches=1)
    memory = seen("AD_1", at=0.0)
    assert decide(room(agents={"agent-1": DEAD}), memory, {DEAD}, 100.0, waiting) == (
        "redispatch", "agent-1")
    untaken = room(agents={}, dispatches={"AD_1": ["agent-1"], "AD_2": []})
    memory.dispatch_seen["AD_2"] = 100.0
    assert decide(untaken, memory, set(), 101.0, waiting) == ("wait", None)
    assert decide(untaken, memory, set(), 102.5, waiting) == ("retry", None)
    memory.dispatch_seen["AD_3"] = 102.5  # the replacement, still untaken (AD_2 deleted)
    again = room(agents={}, dispatches={"AD_1": ["agent-1"], "AD_3": []})
    assert decide(again, memory, set(), 104.0, waiting) == ("wait", None)
    assert decide(again, memory, set(), 129.9, waiting) == ("retry", None)
    assert decide(again, memory, set(), 130.1, waiting) == ("give_up", None)
    assert decide(untaken, seen("AD_1", "AD_2", at=0.0), set(), 100.0, OPTS) == (
        "give_up", None)


def test_a_resumed_call_that_loses_its_agent_again_waits_afresh() -> None:
    waiting = dataclasses.replace(OPTS, worker_wait_s=30.0)
    memory = seen("AD_1", "AD_2", at=0.0, agents=("agent-1", "agent-2"))
    memory.lost_at = 10.0  # the first loss, long ago
    back = room(agents={"agent-2": LIVE}, dispatches={"AD_1": ["agent-1"], "AD_2": ["agent-2"]})
    assert decide(back, memory, set(), 100.0, waiting) == ("ok", None)
    assert memory.lost_at is None and memory.held_at is None
    gone = room(agents={"agent-2": DEAD}, dispatches={"AD_1": ["agent-1"], "AD_2": ["agent-2"]})
    assert decide(gone, memory, {DEAD}, 200.0, waiting) == ("redispatch", "agent-2")
    assert memory.lost_at == 200.0


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
        self.deleted: list[str] = []
        self.agent_dispatch = types.SimpleNamespace(list_dispatch=self._dispatches,
                                                    create_dispatch=self._create,
                                                    delete_dispatch=self._delete)

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

    async def _delete(self, dispatch_id: str, room: str) -> object:
        self.deleted.append(dispatch_id)
        people, dispatches = self.rooms[room]
        self.rooms[room] = (people, [d for d in dispatches if d.id != dispatch_id])  # type: ignore[attr-defined]
        return None

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


async def test_a_caller_held_for_a_restarting_worker_hears_the_hold_line_and_a_fresh_dispatch(
        ) -> None:
    """What "retry" does on LiveKit's API: the untaken re-dispatch is deleted and a fresh one
    made (the count of re-dispatches stays 1, the resume marker says attempt 1), and the
    caller hears the hold line, once per HOLD_REPEAT_S, not at every retry."""
    import json

    from livekit import api

    from services import call_watch

    guest = api.ParticipantInfo(identity="sip-caller", kind=api.ParticipantInfo.Kind.SIP)
    first = api.AgentDispatch(id="AD_1", agent_name="restaurant-agent", room="call-x",
                              state=api.AgentDispatchState(jobs=[api.Job(state=api.JobState(
                                  participant_identity="agent-1"))]))
    untaken = api.AgentDispatch(id="AD_2", agent_name="restaurant-agent", room="call-x")
    lk = _LiveKit({"call-x": ([guest], [first, untaken])})
    options = WatchOptions(worker_wait_s=30.0)
    watch = call_watch.CallWatch(lk, "ws://x", "k", "s", options)  # type: ignore[arg-type]
    played: list[tuple[str, str]] = []

    async def say(room_name: str, samples: object, what: str) -> None:
        played.append((room_name, what))

    watch.say = say  # type: ignore[method-assign]
    now = time.monotonic()
    watch.memory["call-x"] = RoomMemory(dispatch_seen={"AD_1": now - 20, "AD_2": now - 3},
                                        agents_seen={"agent-1"}, lost_at=now - 5)
    await watch.tick()
    await asyncio.sleep(0)
    assert lk.deleted == ["AD_2"]
    assert len(lk.created) == 1 and json.loads(lk.created[0].metadata)["resume"] == 1  # type: ignore[attr-defined]
    assert played == [("call-x", "hold")]
    # the fresh dispatch, also untaken 2 s on: replaced again, the hold line not said again
    fresh = api.AgentDispatch(id="AD_3", agent_name="restaurant-agent", room="call-x")
    lk.rooms["call-x"] = ([guest], [first, fresh])
    watch.memory["call-x"].dispatch_seen["AD_3"] = now - 2.5
    await watch.tick()
    await asyncio.sleep(0)
    assert lk.deleted == ["AD_2", "AD_3"] and len(lk.created) == 2
    assert played == [("call-x", "hold")]


async def test_an_agent_starting_while_the_watcher_speaks_takes_the_phone_for_the_caller(
        ) -> None:
    """The watcher joins a call (a standard participant) to say its hold line; an agent
    arriving meanwhile must link to the phone, whether it is already there or joins later."""
    import types

    from livekit import rtc

    from telephony.redispatch import WATCHER_IDENTITY, the_caller

    class Room:
        def __init__(self, *people: object) -> None:
            self.remote_participants = {p.identity: p for p in people}  # type: ignore[attr-defined]
            self.handlers: list[object] = []

        def on(self, event: str, handler: object) -> None:
            self.handlers.append(handler)

        def off(self, event: str, handler: object) -> None:
            self.handlers.remove(handler)

    watcher = types.SimpleNamespace(identity=WATCHER_IDENTITY,
                                    kind=rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD)
    phone = types.SimpleNamespace(identity="sip_+16175550199",
                                  kind=rtc.ParticipantKind.PARTICIPANT_KIND_SIP)
    room = Room(watcher, phone)
    assert await the_caller(room) is phone  # type: ignore[arg-type]
    assert room.handlers == []
    alone = Room(watcher)
    waiting = asyncio.ensure_future(the_caller(alone))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert not waiting.done()
    for handler in list(alone.handlers):
        handler(phone)  # type: ignore[operator]
    assert await asyncio.wait_for(waiting, 1) is phone
