"""Setting up one call: caller identity, the agents (created once), the greeting, the call log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from livekit.agents import Agent, AgentSession
from livekit.agents.voice.speech_handle import SpeechHandle

from agents.base import RECENT_ITEMS, BaseAgent
from agents.confirmation import ConfirmationAgent
from agents.intent_classifier import IntentClassifier
from agents.language import start_language
from agents.order import OrderAgent
from agents.reservation import ReservationAgent
from agents.resume import resume_plan, settle_saved_confirmation
from conversation.call_log import CallRecorder
from conversation.call_snapshot import CallSnapshot, SnapshotSaver
from conversation.state import CallServices, UserData
from domain.contact import to_e164
from domain.lines import UNKNOWN_NUMBER, UNKNOWN_NUMBER_LINES, restaurant_line, say

logger = logging.getLogger("restaurant.call")
CUSTOMER_LOOKUP_TIMEOUT_S = 0.5  # the greeting must not wait on a slow database
# Session options the worker and the tests share (a turn may chain a few tool calls).
SESSION_OPTIONS: dict[str, Any] = {"max_tool_steps": 4}


async def new_call(
    call_id: str, services: CallServices, caller: str | None, dialed: str | None = None,
    *, look_up_caller: bool = True,
) -> UserData:
    """`look_up_caller=False` for a call resumed after a crash: its state knows the caller."""
    userdata = UserData(
        call_id=call_id, services=services, caller_phone=to_e164(caller), dialed=dialed
    )
    start_language(userdata)
    if userdata.caller_phone and look_up_caller:
        try:
            customer = await asyncio.wait_for(
                services.db.get_customer(userdata.caller_phone), CUSTOMER_LOOKUP_TIMEOUT_S
            )
        except Exception:
            logger.warning("customer lookup skipped", extra={"call_id": call_id})
            customer = None
        if customer and customer.name:
            userdata.returning_name = customer.name
            userdata.cart.customer_name = customer.name
            # the number they call from is the one their orders are under: not asked again
            userdata.cart.customer_phone = userdata.caller_phone
        if customer:
            userdata.usual = list(customer.last_order)
    userdata.agents = {
        "classifier": IntentClassifier(userdata),
        "order": OrderAgent(userdata),
        "reservation": ReservationAgent(userdata),
        "confirmation": ConfirmationAgent(userdata),
    }
    return userdata


def greeting(userdata: UserData) -> str:
    name, lang = userdata.settings.name, userdata.language
    if userdata.returned_from_staff:
        hello = say(lang, "returned_from_staff")
    elif userdata.returning_name:
        first = userdata.returning_name.split()[0]
        hello = say(lang, "greeting_returning", first=first, name=name)
    else:
        hello = say(lang, "greeting", name=name)
    if userdata.settings.record_calls:  # the disclosure comes first
        return f"{restaurant_line(userdata.settings, 'recording_notice', lang)} {hello}"
    return hello


def _listening(session: AgentSession, state: str) -> None:
    """The agent has finished speaking: endpointing for the answer it waits for now."""
    agent = session.current_agent if state == "listening" else None
    if isinstance(agent, BaseAgent):
        try:
            agent.sync_endpointing()
        except RuntimeError:  # the agent's activity is already closing (a handoff, hang-up)
            pass


async def start_call(
    session: AgentSession, userdata: UserData, resume: CallSnapshot | None = None,
    **start_kwargs: object,
) -> SpeechHandle | None:
    """Start the session on the classifier and speak the fixed greeting: no LLM round trip.

    With `resume` (the state a crashed agent of this call left, conversation/call_snapshot.py), the
    call is
    picked up where it was instead: the agent the caller was with, and an apology that says
    where they were (agents/resume.py)."""
    recorder = CallRecorder(userdata, userdata.services.clock())
    session.on("session_usage_updated", lambda ev: recorder.on_usage(ev.usage))
    session.on("close", lambda ev: recorder.finish(session.history, ev.reason.value))
    userdata.recorder = recorder
    recorder.open()
    session.on("agent_state_changed", lambda ev: _listening(session, ev.new_state))
    earlier = list(resume.transcript) if resume else []
    recorder.earlier = earlier
    userdata.state_saver = SnapshotSaver(
        session, userdata, earlier=earlier,
        started_at=(resume.started_at if resume else None) or recorder.started_at,
        agents=userdata.agents,
    )
    recorder.saver = userdata.state_saver
    if resume is None:
        await session.start(userdata.agents["classifier"], **start_kwargs)  # type: ignore[arg-type]
        return session.say(greeting(userdata))
    await settle_saved_confirmation(userdata)
    stage, line = resume_plan(resume, userdata)
    agent = userdata.agents[stage]
    await brief_resumed_agent(agent, userdata, resume)
    if stage == "confirmation":
        userdata.resume_note = say(userdata.language, "resume_sorry") + " "
    await session.start(agent, **start_kwargs)  # type: ignore[arg-type]
    userdata.state_saver.changed()
    logger.info("call resumed after a crash", extra={
        "call_id": userdata.call_id, "stage": stage, "resumed": userdata.resumed})
    return session.say(line) if line else None


async def brief_resumed_agent(agent: Agent, userdata: UserData, state: CallSnapshot) -> None:
    """The new agent's model sees what was said before the crash and the call's state."""
    ctx = agent.chat_ctx.copy()
    for line in state.transcript[-RECENT_ITEMS:]:
        ctx.add_message(role=line.role, content=line.text)  # type: ignore[arg-type]
    ctx.add_message(
        role="system",
        content=f"The call was cut off by a technical problem and has just been picked up "
        f"again; the caller has been told. Call state: {userdata.summary()}. Continue with "
        "the caller's request; do not ask again for what they already said.",
    )
    await agent.update_chat_ctx(ctx)

# Said on a number no restaurant here answers: fixed, so it costs no LLM request.
UNKNOWN_NUMBER_LINE = UNKNOWN_NUMBER


async def turn_away(session: AgentSession, dialed: str | None, **start_kwargs: object) -> None:
    """An unknown dialled number: the fixed line, then the session closes (the caller hangs up)."""
    logger.warning("call to a number no restaurant answers; refused", extra={"dialed": dialed})
    await session.start(Agent(instructions="Say nothing."), **start_kwargs)  # type: ignore[arg-type]
    for language, line in UNKNOWN_NUMBER_LINES.items():  # each in its own language's voice
        for tts in getattr(session.tts, "_tts_instances", None) or [session.tts]:
            with contextlib.suppress(AttributeError, TypeError):
                tts.update_options(language=language)
        await session.say(line, allow_interruptions=False, add_to_chat_ctx=True)
    await session.aclose()
