"""Caller audio -> STT -> LLM -> TTS -> audio, with the primary of every provider down.

The STT primary refuses the websocket (or never answers it), the LLM primary returns 500s,
the TTS primary refuses its websocket: each fallback (the repo's fake Deepgram and Cartesia,
a local OpenAI-compatible endpoint) takes over, and the caller hears the agent less than 3 s
after they stop speaking. With every STT or every TTS down, CallGuard gets the caller to staff.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from livekit.agents import AgentSession
from livekit.agents.utils import http_context

from agents import OrderAgent
from agents.call import SESSION_OPTIONS, new_call, start_call
from agents.recovery import CANNOT_HEAR, TRANSFERRING, guard_call
from conversation.state import CallServices
from fakes import cartesia_tts, deepgram_stt
from fakes.script import Script
from tests.conversation.harness import CALLER, NOW, TZ, Phone, catalog_from
from tests.reliability.audio_call import Broken, CallerAudio, Speaker, serve
from tests.reliability.calls import settings_for
from tests.reliability.llm_server import LLMServer, Tool
from worker import providers

pytestmark = pytest.mark.usefixtures("settle_tasks")
SILENCE_BOUND_S = 3.0
CALLER_LINES = ("I'd like to order for pickup", "A croissant please")


@dataclass
class Line:
    stt_broken: Broken
    tts_broken: Broken
    llm_primary: LLMServer
    llm_fallback: LLMServer
    stt_url: str
    tts_url: str


@pytest.fixture
async def line() -> AsyncIterator[Line]:
    runners = []
    stt_broken, tts_broken = await Broken().start(), await Broken().start()
    llm_primary = await LLMServer("primary", mode="500").start()
    llm_fallback = await LLMServer("fallback").start()
    try:
        stt_runner, stt_url = await serve(deepgram_stt.create_app(Script(caller=CALLER_LINES),
                                                                  hangover=0.3))
        runners.append(stt_runner)
        tts_runner, tts_url = await serve(cartesia_tts.create_app(max_tone_seconds=0.5))
        runners.append(tts_runner)
        yield Line(stt_broken, tts_broken, llm_primary, llm_fallback, stt_url, tts_url)
    finally:
        for r in runners:
            await r.cleanup()
        for b in (stt_broken, tts_broken):
            await b.stop()
        await llm_primary.stop()
        await llm_fallback.stop()


@dataclass
class AudioCall:
    session: AgentSession
    caller: CallerAudio
    speaker: Speaker
    phone: Phone
    userdata: object
    started: float  # when the session was started (the call answered)

    async def caller_speaks(self, seconds: float = 0.8) -> float:
        """Returns when the caller's speech ended."""
        n = len(self.caller.speech_ended_at)
        self.caller.say(seconds)
        deadline = time.monotonic() + seconds + 5
        while len(self.caller.speech_ended_at) <= n:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        return self.caller.speech_ended_at[n]

    async def heard_within(self, t0: float, bound: float) -> float:
        deadline = t0 + bound + 2
        while (first := self.speaker.first_audio_after(t0)) is None:
            assert time.monotonic() < deadline, "the caller heard nothing"
            await asyncio.sleep(0.02)
        return first


ALL = frozenset({"stt", "llm", "tts"})


async def open_audio_call(db, line: Line, *, fallbacks: frozenset[str] = ALL,
                          phone: Phone | None = None, stt_mode: str = "500",
                          now: datetime = NOW) -> AudioCall:
    line.stt_broken.mode = stt_mode
    settings = settings_for(
        line.llm_primary.url,
        deepgram_base_url=f"{line.stt_broken.url}/v1/listen",
        cartesia_base_url=line.tts_broken.url,
    )
    fb = providers.ProviderSettings(
        llm_attempt_timeout_s=1.5, hold_line_after_s=1.2, stt_attempt_timeout_s=1.5,
        tts_attempt_timeout_s=1.5,
        **({"openai_fallback_base_url": line.llm_fallback.url} if "llm" in fallbacks else {}),
        **({"deepgram_fallback_base_url": f"{line.stt_url}/v1/listen"}
           if "stt" in fallbacks else {}),
        **({"cartesia_fallback_base_url": line.tts_url} if "tts" in fallbacks else {}),
    )
    p = providers.build(settings, fb)
    phone = phone or Phone()
    catalog = await catalog_from(db)
    services = CallServices(db=db, catalog=catalog, clock=lambda: now, transfer=phone.transfer)
    userdata = await new_call("call-audio-1", services, CALLER, "+16175550142")
    session = AgentSession(stt=p.stt, llm=p.llm, tts=p.tts, userdata=userdata,
                           conn_options=p.conn_options,
                           turn_handling={"turn_detection": "stt"}, **SESSION_OPTIONS)
    caller, speaker = CallerAudio(), Speaker()
    session.input.audio = caller
    session.output.audio = speaker
    guard_call(session, userdata)
    started = time.monotonic()
    await start_call(session, userdata)
    return AudioCall(session, caller, speaker, phone, userdata, started)


async def test_every_primary_down_the_fallbacks_carry_the_call(seeded_db, line):
    line.llm_fallback.steps = [
        [Tool("start_order")], "Sure, what would you like?",
        [Tool("add_item", {"item": "croissant"})], "One croissant. Anything else?",
    ]
    async with http_context.open():
        call = await open_audio_call(seeded_db, line)
        await _carry_the_call(call, line)


async def _carry_the_call(call: AudioCall, line: Line) -> None:
    try:
        greeting = await call.heard_within(call.started, SILENCE_BOUND_S)
        print(f"greeting after {greeting:.2f}s")
        assert greeting < SILENCE_BOUND_S
        await asyncio.sleep(0.5)

        ended = await call.caller_speaks()
        silence = await call.heard_within(ended, SILENCE_BOUND_S)
        assert silence < SILENCE_BOUND_S, f"{silence:.2f}s of silence after the caller spoke"
        print(f"audio turn 1: {silence:.2f}s from end of speech to the agent's audio")
        assert isinstance(call.session.current_agent, OrderAgent)
        await asyncio.sleep(0.5)

        ended = await call.caller_speaks()
        silence = await call.heard_within(ended, SILENCE_BOUND_S)
        assert silence < SILENCE_BOUND_S
        print(f"audio turn 2: {silence:.2f}s from end of speech to the agent's audio")
        assert [x.item_id for x in call.userdata.cart.lines] == ["croissant"]
        assert line.stt_broken.hits >= 1 and line.tts_broken.hits >= 1
        assert line.llm_primary.requests and len(line.llm_fallback.requests) == 4
    finally:
        await call.session.aclose()


async def wait_until(check, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("stt_mode", ["500", "hang"])
async def test_every_stt_down_the_caller_hears_why_and_gets_staff(seeded_db, line, stt_mode):
    async with http_context.open():
        call = await open_audio_call(seeded_db, line, fallbacks=ALL - {"stt"}, stt_mode=stt_mode)
        try:
            await wait_until(lambda: call.phone.transfers, within_s=10)
            said = [i.text_content for i in call.session.history.items if i.type == "message"]
            assert TRANSFERRING in said
            assert call.phone.transfers == [call.userdata.settings.staff_transfer_to]
            assert call.userdata.outcomes == ["transfer"]
            assert len(call.speaker.segments) >= 2  # the greeting, then the transfer line
        finally:
            await call.session.aclose()


async def test_every_stt_down_when_closed_asks_to_call_back_and_hangs_up(seeded_db, line):
    sunday_evening = datetime(2026, 11, 22, 18, 0, tzinfo=TZ)
    async with http_context.open():
        call = await open_audio_call(seeded_db, line, fallbacks=ALL - {"stt"}, now=sunday_evening)
        closed = asyncio.Event()
        call.session.on("close", lambda _: closed.set())
        try:
            await wait_until(closed.is_set, within_s=10)
            said = [i.text_content for i in call.session.history.items if i.type == "message"]
            assert said[-1] == CANNOT_HEAR and call.phone.transfers == []
            assert call.userdata.ended_by_agent
        finally:
            await call.session.aclose()


async def test_every_tts_down_the_caller_is_transferred_without_a_word(seeded_db, line):
    async with http_context.open():
        call = await open_audio_call(seeded_db, line, fallbacks=ALL - {"tts"})
        try:
            await wait_until(lambda: call.phone.transfers, within_s=10)
            assert call.phone.transfers == [call.userdata.settings.staff_transfer_to]
            assert call.speaker.segments == []  # nothing could be said
            assert line.tts_broken.hits >= 1
        finally:
            await call.session.aclose()
