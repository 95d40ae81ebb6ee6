"""The worker's side of a call the restaurant makes (a reminder or a call-back).

The dialer (services/dialer.py) dispatches the agent into an empty room with an `OutboundJob` as the
job's metadata. This module, LiveKit's recommended pattern for outbound agents, then:

1. loads the queue entry (only while it is leased to that dialer: a late dispatch dials nobody);
2. starts the session and LiveKit's answering-machine detector (AMD) *before* dialling, so
   no audio of the answer is missed;
3. dials the guest through the outbound SIP trunk (`create_sip_participant`,
   wait_until_answered): busy or no answer ends the job at once, and the queue tries again;
4. a machine gets a short voicemail and the call hangs up; a person hears the introduction
   (fixed text, no LLM round trip) and answers by voice (agents/outbound.py) or keypad
   (RFC 2833 DTMF, `sip_dtmf_received`: 1 keep, 2 + time + # change, 3 cancel, 9 opt out);
5. on hang-up: the call log (direction "outbound") and the queue entry's outcome.

If this job's process dies with the guest on the line, the worker's job guard dispatches a new
agent into the same room with the dialer's job marked `resume` (telephony/redispatch.py). That
agent does not dial: it waits for the guest's leg, keeps the dialer's lease for the rest of
the call (no dialer rings the guest meanwhile), picks up the state the dead agent saved
(conversation/call_snapshot.py: what was said, what the guest decided) and says it was cut off
and why it calls. A guest who hung up meanwhile is left to the queue as before: the lease runs
out and the call is tried again, the attempt counted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from livekit import api, rtc
from livekit.agents import AgentSession, JobContext
from livekit.agents.voice import room_io
from livekit.agents.voice.amd import AMD, AMDCategory

import store
from actions import outbound
from actions.outbound import Keypad
from actions.outbound_job import OutboundJob
from agents.call import brief_resumed_agent, new_call
from agents.language import default_voices, follow_caller, start_language
from agents.outbound import CallbackAgent, ReminderAgent
from agents.silence import Silence
from config import OutboundSettings, Settings, outbound_settings
from conversation import call_snapshot
from conversation.call_log import CallRecorder
from conversation.call_snapshot import CallSnapshot, SnapshotSaver
from conversation.state import CallServices, UserData
from domain.menu import Catalog
from domain.refusal import Refusal
from store.outbound import OutboundQueue, Policy
from telephony.redispatch import announce_health
from telephony.sip_outbound import outbound_trunk_id

logger = logging.getLogger("restaurant.outbound")
GUEST = "guest"  # the SIP participant's identity: never the number (LiveKit logs identities)
RINGING_TIMEOUT_S = 30
MAX_CALL_S = 600
GUEST_BACK_S = RINGING_TIMEOUT_S  # a resumed call: how long to wait for the guest's leg


async def outbound_trunk(lk: api.LiveKitAPI, cfg: OutboundSettings) -> str:
    """SIP_OUTBOUND_TRUNK_ID, else the trunk scripts/setup_sip.py made, by its name."""
    if cfg.sip_outbound_trunk_id:
        return cfg.sip_outbound_trunk_id
    return await outbound_trunk_id(lk, cfg.sip_outbound_trunk_name)


def mark(userdata: UserData, event: str) -> None:
    """One line of the call's timeline (logged, and kept for the tests' timeline)."""
    state = userdata.outbound
    if state is not None:
        state.events.append((datetime.now(UTC), event))
    logger.info("outbound %s", event, extra={"call_id": userdata.call_id})


async def run(
    ctx: JobContext,
    job: OutboundJob,
    *,
    settings: Settings,
    catalog: Catalog,
    db: store.FirebaseManager,
    build_session: Callable[[Settings, Any, UserData], AgentSession],
    room_options: room_io.RoomOptions,
    record: dict[str, bool] | bool = False,
    health_url: str = "",
) -> None:
    cfg = outbound_settings()
    queue = OutboundQueue(db.db, Policy.of(catalog.settings))
    try:
        state = await outbound.prepare(queue, job)
    except Refusal as e:
        logger.warning("outbound job dropped: %s", e, extra={"call_id": ctx.room.name})
        if job.resume:  # a guest left on the line of a call no longer ours: a BYE, no silence
            await ctx.delete_room(ctx.job.room.name)
        ctx.shutdown("not leased")
        return
    await ctx.connect()
    announce_health(ctx.room, health_url)  # a whole worker's death: the call watcher's cue
    # The state the dead agent of this call left (conversation/call_snapshot.py)
    saved = await call_snapshot.load_for(db, ctx.room.name) if job.resume else None

    async def transfer(destination: str) -> None:
        guest = ctx.room.remote_participants.get(GUEST)
        if guest is None:
            raise RuntimeError("the guest has left")
        await ctx.transfer_sip_participant(guest, destination)

    services = CallServices(db=db, catalog=catalog, clock=lambda: datetime.now(UTC),
                            transfer=transfer)
    userdata, agent = await guest_call(ctx.room.name, state, services)
    if saved is not None:
        call_snapshot.restore(saved, userdata)
    if job.resume:
        userdata.resumed = max(userdata.resumed, job.resume)  # also with no state saved
        outbound.resumed(state, userdata.outcomes)
    mark(userdata, f"job started for {state.call.id} (attempt {state.call.attempts})")
    logger.info("outbound call started", extra={
        "call_id": userdata.call_id, "job_id": ctx.job.id, "job_pid": os.getpid(),
        "resumed": job.resume})
    line = await _pick_up(ctx, userdata, queue) if job.resume else "dialling"
    if line is None:
        # Hung up meanwhile: nothing is stored, so the lease runs out and the queue tries
        # again with this attempt counted, as for any call whose agent died.
        ctx.shutdown("the guest left")
        return

    session = build_session(settings, ctx.proc.userdata["vad"], userdata)
    session.userdata = userdata
    recorder = _record(session, userdata, services, saved)
    ctx.add_shutdown_callback(_end_of_call(ctx, session, userdata, queue, recorder))
    session.on("close", lambda _: ctx.shutdown("session closed"))

    _follow_guest(session, userdata, state)
    keypad, turn = Keypad(), asyncio.Lock()
    ctx.room.on("sip_dtmf_received", lambda ev: asyncio.ensure_future(
        on_key(ev, keypad, turn, session, userdata, queue)))

    options = dataclasses.replace(room_options, participant_identity=GUEST)
    if line == "on the line":
        await brief_resumed_agent(agent, userdata, saved or CallSnapshot(call_id=ctx.room.name))
    await session.start(agent, room=ctx.room, room_options=options, record=record)
    if line == "on the line":
        _speak_first(session, userdata, settings, outbound.resumption(userdata.desk, state))
        return
    if line == "answered now":
        await _greet(session, userdata, settings, await _listen(session))
        return
    await _answered(ctx, session, userdata, settings, await outbound_trunk(ctx.api, cfg))


def _record(session: AgentSession, userdata: UserData, services: CallServices,
            saved: CallSnapshot | None) -> CallRecorder:
    """The call's log (written at its end) and its saved state, kept as the call goes so a
    new agent can pick the call up if this one dies; after a crash, with what was said
    before it."""
    recorder = CallRecorder(userdata, services.clock())
    userdata.recorder = recorder
    session.on("session_usage_updated", lambda ev: recorder.on_usage(ev.usage))
    recorder.earlier = list(saved.transcript) if saved else []
    saver = SnapshotSaver(session, userdata, earlier=recorder.earlier,
                          started_at=(saved.started_at if saved else None) or recorder.started_at,
                          agents=userdata.agents)
    userdata.state_saver = recorder.saver = saver
    return recorder


async def _pick_up(ctx: JobContext, userdata: UserData, queue: OutboundQueue) -> str | None:
    """A resumed call: whether the guest the dead agent dialled is on the line ("on the line":
    they were when this agent came; "answered now": their phone was still ringing) or not
    (None). On the line, the dialer's lease is held for the rest of the call, so no dialer
    rings them again."""
    state = userdata.outbound
    assert state is not None
    line = await _guest_on_line(ctx, userdata)
    if line is None:
        return None
    if line == "answered now":  # it rang while the agent died: they heard nothing of it
        state.answered = state.introduced = False
    now = datetime.now(UTC)
    if not await queue.renew(state.call, state.job.lease_owner, now,
                             now + timedelta(seconds=MAX_CALL_S)):
        logger.warning("resumed call: the lease is no longer its dialer's",
                       extra={"call_id": userdata.call_id})
    return line


async def _guest_on_line(ctx: JobContext, userdata: UserData) -> str | None:
    """Whether the guest's SIP leg is in the room and answered (LiveKit's sip.callStatus), and
    whether it was already when this agent came."""
    rang = False
    try:
        async with asyncio.timeout(GUEST_BACK_S):
            guest = await ctx.wait_for_participant(identity=GUEST)
            while guest.attributes.get("sip.callStatus") != "active":
                if guest.identity not in ctx.room.remote_participants:
                    return None
                rang = True
                await asyncio.sleep(0.1)
    except TimeoutError:
        mark(userdata, "resumed: the guest is not on the line")
        return None
    mark(userdata, "resumed: the guest answered now" if rang else
         "resumed: the guest is on the line")
    return "answered now" if rang else "on the line"


async def _answered(ctx: JobContext, session: AgentSession, userdata: UserData,
                    settings: Settings, trunk: str) -> None:
    """Dial the guest; a machine gets the voicemail, a person the introduction."""
    state = userdata.outbound
    assert state is not None
    verdict = await _dial(ctx, session, userdata, state, trunk)
    if verdict is not None:
        await _greet(session, userdata, settings, verdict)


async def _listen(session: AgentSession) -> Any:
    """Answering-machine detection on a call the guest has just answered (a resumed call
    whose phone rang while its first agent died): what _dial does once the call is up."""
    async with _detector(session) as detector:
        return await detector.execute()


def _detector(session: AgentSession) -> AMD:
    """Answering-machine detection on the guest's leg, with the session's own models."""
    return AMD(session, llm=None, stt=None, participant_identity=GUEST, ivr_detection=False,
               suppress_compatibility_warning=True)


async def _greet(session: AgentSession, userdata: UserData, settings: Settings,
                 verdict: Any) -> None:
    """A machine gets the short voicemail, a person the introduction."""
    state = userdata.outbound
    assert state is not None
    mark(userdata, f"answering-machine detection: {verdict.category.value} ({verdict.reason})")
    if verdict.is_machine:
        await leave_voicemail(session, userdata, verdict.category)
        return
    state.answered = True
    _speak_first(session, userdata, settings, outbound.introduction(userdata.desk, state))


def _speak_first(session: AgentSession, userdata: UserData, settings: Settings,
                 words: str) -> None:
    state = userdata.outbound
    assert state is not None
    # A person: from now on what they say may switch the call's language (someone else in
    # the house answers in English). Not before: a carrier's voicemail greeting must not.
    follow_caller(session, userdata, default_voices(settings))
    state.introduced = True
    state.introduced_at = time.time()
    mark(userdata, "introduction" if not userdata.resumed else "introduction after a crash")
    # Not interruptible: the words of the guest's "Hello?" can arrive after it began and
    # would cut it off. What the guest says meanwhile is answered once it ends; keys cut it.
    session.say(words, allow_interruptions=False)


def _follow_guest(session: AgentSession, userdata: UserData,
                  state: outbound.OutboundState) -> Silence:
    """When the guest last spoke (agents/outbound.py reads it), and their silence after the
    introduction (agents/silence.py): asked whether they are still there, with the keypad
    menu again, then let go, instead of holding the line for MAX_CALL_S."""

    def on_user_state(ev: Any) -> None:
        if ev.new_state == "speaking":
            state.guest_spoke_at = time.time()

    session.on("user_state_changed", on_user_state)
    return Silence(session, userdata,
                   question=lambda: outbound.still_there(userdata.language, state),
                   ready=lambda: state.introduced, last_key=lambda: state.pressed_at,
                   mark=lambda what: mark(userdata, what))


def _end_of_call(ctx: JobContext, session: AgentSession, userdata: UserData,
                 queue: OutboundQueue, recorder: CallRecorder) -> Callable[[], Awaitable[None]]:
    async def end_of_call() -> None:
        await recorder.finish(session.history, "job_shutdown")
        try:
            done = await outbound.finish(queue, userdata, datetime.now(UTC))
            mark(userdata, f"queue entry {done.id}: {done.status}, outcome {done.outcome}")
        except Refusal as e:  # the lease ran out and another dialer has it now
            logger.warning("outbound result not stored: %s", e)
        await ctx.delete_room()  # hangs up the guest's leg if it is still up

    return end_of_call


async def _dial(ctx: JobContext, session: AgentSession, userdata: UserData,
                state: outbound.OutboundState, trunk: str) -> Any:
    """Dial the guest with answering-machine detection running; its verdict once answered,
    None when the dial failed (the result is set and the session shut down)."""
    async with _detector(session) as detector:
        mark(userdata, "dialling")
        try:
            await ctx.api.sip.create_sip_participant(api.CreateSIPParticipantRequest(
                room_name=ctx.room.name, sip_trunk_id=trunk, sip_call_to=state.call.phone,
                participant_identity=GUEST, participant_name="Guest",
                wait_until_answered=True, krisp_enabled=False,
                ringing_timeout=_seconds(RINGING_TIMEOUT_S),
                max_call_duration=_seconds(MAX_CALL_S),
            ))
        except api.TwirpError as e:
            code = e.metadata.get("sip_status_code")
            state.result = outbound.dial_failure(int(code) if code and code.isdigit() else None)
            userdata.outcomes.append("no_answer")
            mark(userdata, f"dial failed: SIP {code} {e.metadata.get('sip_status', '')}"
                           f" -> {state.result}")
            session.shutdown()
            return None
        mark(userdata, "answered")
        return await detector.execute()


async def guest_call(call_id: str, state: outbound.OutboundState, services: CallServices
                     ) -> tuple[UserData, ReminderAgent | CallbackAgent]:
    """The call's state and its agent, in the guest's language: the booking's or message's
    if the restaurant still offers it (actions/outbound.call_language). The fixed lines, the
    agent's language note and the session's voice (build_session) all follow it."""
    userdata = await new_call(call_id=call_id, services=services, caller=state.call.phone)
    userdata.outbound = state
    start_language(userdata, outbound.call_language(userdata.settings, state))
    agent = ReminderAgent(userdata) if state.booking is not None else CallbackAgent(userdata)
    userdata.agents["outbound"] = agent
    return userdata, agent


async def leave_voicemail(session: AgentSession, userdata: UserData, kind: AMDCategory) -> None:
    state = userdata.outbound
    assert state is not None
    state.introduced = True  # nothing a machine says gets an answer (introduced_at: None)
    if kind == AMDCategory.MACHINE_VM:
        mark(userdata, "voicemail message")
        await session.say(outbound.voicemail_message(userdata.desk, state),
                          allow_interruptions=False)
        state.result = "voicemail_left"
        userdata.outcomes.append("voicemail")
    else:  # a full mailbox or a phone menu: nobody heard it, try again later
        state.result = "no_answer"
        userdata.outcomes.append("no_answer")
    userdata.ended_by_agent = True
    mark(userdata, "hanging up")
    session.shutdown()


async def on_key(ev: rtc.SipDTMF, keypad: Keypad, turn: asyncio.Lock, session: AgentSession,
                 userdata: UserData, queue: OutboundQueue) -> None:
    """The guest's keypad: the same actions their voice runs, answered with fixed text.

    Answers are given one at a time in the order the keys came (`turn`: a change, which
    writes the booking, would otherwise be overtaken by a quicker answer to a later key),
    and once a goodbye is being said no key cuts it off."""
    state = userdata.outbound
    if state is None or ev.participant is None or ev.participant.identity != GUEST:
        return
    mark(userdata, f"keypad {ev.digit}")
    state.pressed_at = time.time()
    request = keypad.press(ev.digit)
    if request is None:
        return
    what, digits = request
    async with turn:
        if userdata.ended_by_agent:
            mark(userdata, f"keypad {what}: ignored, the call is ending")
            return
        said, hang_up = await outbound.keypad_answer(userdata, queue, what, digits)
        mark(userdata, f"keypad {what}: {said}")
        try:
            session.interrupt(force=True)  # the keypad answer replaces whatever was being said
        except RuntimeError:
            return  # the session is closing
        speech = session.say(said, allow_interruptions=not hang_up)
        userdata.ended_by_agent = userdata.ended_by_agent or hang_up
    if hang_up:
        await speech
        session.shutdown()


def _seconds(s: int) -> Any:
    from google.protobuf.duration_pb2 import Duration

    return Duration(seconds=s)
