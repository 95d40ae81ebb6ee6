"""An in-process phone call with a stopwatch on it: the real AgentSession and agents, instant fakes.

- `DrivenSTT`: a streaming STT whose events the benchmark sends (start of speech, the final
  transcript, end of speech), as Deepgram's plugin does at the end of an utterance.
- `ScriptedLLM` (tests/scripted_llm.py): answers at once with scripted text or tool calls.
- `InstantTTS`: a streaming TTS that splits text into sentences with the same tokenizer the
  Cartesia plugin uses and returns a short tone for each sentence at once.
- `TimedSink`: the audio output; it timestamps the first frame of each reply (what the caller
  would hear first) and "plays" instantly, so no real-time playout is waited for.

Turn detection is the session's STT mode with a zero endpointing delay: the turn is committed
the moment the STT's end-of-speech follows the final transcript, so the clock starts at the
final transcript and stops at the first audio frame of the answer. Nothing else is mocked:
the agents, their tools and the Firestore emulator are the real ones.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import AgentSession, llm, stt, tokenize, tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions
from livekit.agents.voice import io

from agents.call import SESSION_OPTIONS, new_call, start_call
from conversation.state import CallServices, UserData
from domain.menu import Catalog
from store import FirebaseManager
from testkit.phone import CALLER, NOW, Phone
from testkit.scripted_llm import ScriptedLLM, Step

SAMPLE_RATE = 24000
TONE_MS = 40  # audio returned per sentence: enough for a frame, cheap to push
_TONE = (np.sin(2 * np.pi * 660 * np.arange(SAMPLE_RATE * TONE_MS // 1000) / SAMPLE_RATE)
         * 0.3 * 32767).astype("<i2").tobytes()
_calls = itertools.count(1)


# --------------------------------------------------------------------------- STT


class DrivenStream(stt.RecognizeStream):
    """Audio pushed in is dropped; events are sent by `DrivenSTT.utter`."""

    async def _run(self) -> None:
        async for _ in self._input_ch:
            pass


class DrivenSTT(stt.STT):
    def __init__(self) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=True))
        self.streams: list[DrivenStream] = []
        self.language = "en"  # what each final transcript reports (Deepgram's `multi` mode)

    @property
    def model(self) -> str:
        return "driven"

    @property
    def provider(self) -> str:
        return "bench"

    async def _recognize_impl(self, buffer: Any, *, language: Any = NOT_GIVEN,
                              conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
                              ) -> stt.SpeechEvent:
        raise NotImplementedError("streaming only")

    def stream(self, *, language: Any = NOT_GIVEN,
               conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> DrivenStream:
        s = DrivenStream(stt=self, conn_options=conn_options)
        self.streams.append(s)
        return s

    def _live(self) -> DrivenStream:
        for s in reversed(self.streams):
            if not s._event_ch.closed:
                return s
        raise RuntimeError("no open STT stream: is the session's audio input attached?")

    def start_of_speech(self) -> None:
        self._live()._event_ch.send_nowait(
            stt.SpeechEvent(type=stt.SpeechEventType.START_OF_SPEECH, speech_start_time=time.time())
        )

    def end_of_turn(self, text: str) -> float:
        """The final transcript and end of speech, sent back to back; returns the start time."""
        s = self._live()
        now = time.time()
        data = stt.SpeechData(language=self.language, text=text,  # type: ignore[arg-type]
                              confidence=0.99)
        t0 = time.perf_counter()
        s._event_ch.send_nowait(stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives=[data]))
        s._event_ch.send_nowait(stt.SpeechEvent(
            type=stt.SpeechEventType.END_OF_SPEECH, speech_end_time=now))
        return t0


class SilentInput(io.AudioInput):
    """A microphone that never delivers a frame: the STT events carry the caller's words."""

    def __init__(self) -> None:
        super().__init__(label="bench-silence")
        self._never: asyncio.Future[rtc.AudioFrame] | None = None

    async def __anext__(self) -> rtc.AudioFrame:
        if self._never is None:
            self._never = asyncio.get_running_loop().create_future()
        return await self._never


# --------------------------------------------------------------------------- TTS


class _InstantStream(tts.SynthesizeStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(request_id=uuid.uuid4().hex[:8], sample_rate=SAMPLE_RATE,
                                  num_channels=1, mime_type="audio/pcm", stream=True)
        output_emitter.start_segment(segment_id=uuid.uuid4().hex[:8])
        sentences = tokenize.blingfire.SentenceTokenizer().stream()

        async def feed() -> None:
            async for data in self._input_ch:
                if isinstance(data, self._FlushSentinel):
                    sentences.flush()
                else:
                    sentences.push_text(data)
            sentences.end_input()

        feeder = asyncio.create_task(feed())
        try:
            async for _ in sentences:
                self._mark_started()
                output_emitter.push(_TONE)
            output_emitter.end_input()
        finally:
            feeder.cancel()
            await sentences.aclose()


class _InstantChunked(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(request_id=uuid.uuid4().hex[:8], sample_rate=SAMPLE_RATE,
                                  num_channels=1, mime_type="audio/pcm")
        output_emitter.push(_TONE)


class InstantTTS(tts.TTS):
    def __init__(self) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=True),
                         sample_rate=SAMPLE_RATE, num_channels=1)
        self.characters = 0

    @property
    def model(self) -> str:
        return "instant"

    @property
    def provider(self) -> str:
        return "bench"

    def synthesize(self, text: str, *,
                   conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
                   ) -> tts.ChunkedStream:
        self.characters += len(text)
        return _InstantChunked(tts=self, input_text=text, conn_options=conn_options)

    def stream(self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
               ) -> tts.SynthesizeStream:
        return _InstantStream(tts=self, conn_options=conn_options)


# --------------------------------------------------------------------------- audio output


@dataclass
class Reply:
    at: float  # perf_counter of the first frame
    llm_requests: int  # LLM requests made by then


class TimedSink(io.AudioOutput):
    """Records when each reply's first frame arrives and finishes playout instantly."""

    def __init__(self, requests: Callable[[], int]) -> None:
        super().__init__(label="bench-sink", capabilities=io.AudioOutputCapabilities(pause=False),
                         sample_rate=SAMPLE_RATE)
        self._requests = requests
        self._pushed = 0.0
        self.replies: list[Reply] = []
        self._waiters: list[tuple[float, asyncio.Future[Reply]]] = []

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        first = self._pushed == 0.0
        await super().capture_frame(frame)
        if first:
            reply = Reply(at=time.perf_counter(), llm_requests=self._requests())
            self.replies.append(reply)
            self.on_playback_started(created_at=time.time())
            for since, fut in list(self._waiters):
                if reply.at >= since and not fut.done():
                    fut.set_result(reply)
                    self._waiters.remove((since, fut))
        self._pushed += frame.duration

    def flush(self) -> None:
        super().flush()
        if self._pushed:
            pushed, self._pushed = self._pushed, 0.0
            self.on_playback_finished(playback_position=pushed, interrupted=False)

    def clear_buffer(self) -> None:
        if self._pushed:
            pushed, self._pushed = self._pushed, 0.0
            self.on_playback_finished(playback_position=pushed, interrupted=True)

    def next_reply(self, since: float) -> asyncio.Future[Reply]:
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        for reply in self.replies:
            if reply.at >= since:
                fut.set_result(reply)
                return fut
        self._waiters.append((since, fut))
        return fut


# --------------------------------------------------------------------------- one call


@dataclass
class TurnTiming:
    label: str
    overhead_ms: float  # final transcript -> first audio frame of the answer
    llm_requests: int  # LLM requests of this turn before the first audio frame
    request_times: list[float] = field(default_factory=list)  # perf_counter of each request


@dataclass
class VoiceCall:
    session: AgentSession
    llm: ScriptedLLM
    stt: DrivenSTT
    sink: TimedSink
    userdata: UserData
    greeting_ms: float
    greeting_llm_requests: int
    request_times: list[float]
    closed: asyncio.Event

    async def turn(self, text: str, label: str, limit_s: float = 10.0) -> TurnTiming:
        await self.settle(limit_s)
        before = len(self.llm.requests)
        self.stt.start_of_speech()
        await asyncio.sleep(0.02)  # the caller talks for a moment
        t0 = self.stt.end_of_turn(text)
        reply = await asyncio.wait_for(self.sink.next_reply(t0), limit_s)
        return TurnTiming(
            label=label, overhead_ms=(reply.at - t0) * 1000,
            llm_requests=reply.llm_requests - before,
            request_times=[t - t0 for t in self.request_times[before:]],
        )

    async def settle(self, limit_s: float = 10.0) -> None:
        """Until the agent has finished this turn's work: listening, nothing queued, quiet."""
        deadline = time.monotonic() + limit_s
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            if self.closed.is_set():
                return
            idle = (self.session.agent_state in ("listening", "idle")
                    and self.session.current_speech is None)
            if idle:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= 0.05:
                    return
            else:
                quiet_since = None
            await asyncio.sleep(0.005)
        raise TimeoutError(f"agent still busy after {limit_s}s (state {self.session.agent_state})")

    async def close(self) -> None:
        if not self.closed.is_set():
            await self.session.aclose()
        if self.userdata.recorder is not None:
            await self.userdata.recorder.finish(self.session.history, "bench_end")


async def open_voice_call(
    db: FirebaseManager, catalog: Catalog, steps: list[Step], *,
    caller: str | None = CALLER, now: datetime = NOW, model: llm.LLM | None = None,
) -> VoiceCall:
    """A call on the classifier, greeted. `model` replaces the ScriptedLLM (e.g. the OpenAI
    plugin against the fake server); the ScriptedLLM then only counts nothing."""
    request_times: list[float] = []

    def stamp(step: Step) -> Step:
        def at_request(_: Any) -> Any:
            request_times.append(time.perf_counter())
            return step
        return at_request

    scripted = ScriptedLLM([stamp(s) for s in steps])
    services = CallServices(db=db, catalog=catalog, clock=lambda: now,
                            transfer=Phone().transfer)
    userdata = await new_call(f"call-bench-{next(_calls)}-{uuid.uuid4().hex[:6]}", services,
                              caller, "+16175550142")
    driven = DrivenSTT()
    session: AgentSession = AgentSession(
        stt=driven, llm=model or scripted, tts=InstantTTS(), vad=None, userdata=userdata,
        turn_handling={"turn_detection": "stt", "endpointing": {"min_delay": 0.0}},
        **SESSION_OPTIONS,
    )
    sink = TimedSink(lambda: len(scripted.requests))
    session.input.audio = SilentInput()
    session.output.audio = sink
    closed = asyncio.Event()
    session.on("close", lambda _: closed.set())
    t0 = time.perf_counter()
    await start_call(session, userdata)
    greeting = await asyncio.wait_for(sink.next_reply(t0), 10.0)
    return VoiceCall(
        session=session, llm=scripted, stt=driven, sink=sink, userdata=userdata,
        greeting_ms=(greeting.at - t0) * 1000, greeting_llm_requests=greeting.llm_requests,
        request_times=request_times, closed=closed,
    )
