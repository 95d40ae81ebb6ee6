"""A call with audio both ways and no room: frames of "caller speech" go into the session's
audio input at real-time pace, and the session's audio output records when sound came back.
STT, LLM and TTS are the real LiveKit plugins (worker/providers.py) talking to local endpoints, so
the whole chain caller audio -> STT -> LLM -> TTS -> audio can fail at any link."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web
from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.voice import io

from fakes.audio import silence, tone

RATE = 16000
FRAME_S = 0.02
FRAME_SAMPLES = int(RATE * FRAME_S)


class CallerAudio(io.AudioInput):
    """A phone line: 20 ms frames at real-time pace, silence unless the caller is speaking."""

    def __init__(self) -> None:
        super().__init__(label="caller")
        self._pending = bytearray()
        self._next_at = time.monotonic()
        self.speech_ended_at: list[float] = []
        self._end_marks: list[int] = []  # byte offsets in _pending where speech ends
        self._sent = 0

    def say(self, seconds: float = 1.0) -> None:
        """Caller speech (a loud tone: the fake STT segments by energy), then silence."""
        self._pending += tone(seconds, RATE, freq=300.0, amplitude=0.5)
        self._end_marks.append(self._sent + len(self._pending))

    async def __anext__(self) -> rtc.AudioFrame:
        self._next_at += FRAME_S
        delay = self._next_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            self._next_at = time.monotonic()
        size = FRAME_SAMPLES * 2
        chunk = bytes(self._pending[:size])
        del self._pending[:size]
        chunk += silence(FRAME_S, RATE)[: size - len(chunk)]
        self._sent += size
        while self._end_marks and self._sent >= self._end_marks[0]:
            self._end_marks.pop(0)
            self.speech_ended_at.append(time.monotonic())
        return rtc.AudioFrame(chunk, RATE, 1, FRAME_SAMPLES)


class Speaker(io.AudioOutput):
    """Where the caller would hear the agent: records when each segment's first audio came."""

    def __init__(self) -> None:
        super().__init__(label="speaker", capabilities=io.AudioOutputCapabilities(pause=False))
        self.segments: list[float] = []  # first-frame time of each segment
        self._in_segment = False
        self._duration = 0.0
        self.audio_s = 0.0

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._in_segment:
            self._in_segment = True
            self.segments.append(time.monotonic())
        self._duration += frame.duration
        self.audio_s += frame.duration

    def flush(self) -> None:
        super().flush()
        if self._in_segment:
            self._in_segment = False
            played, self._duration = self._duration, 0.0
            self.on_playback_finished(playback_position=played, interrupted=False)

    def clear_buffer(self) -> None:
        if self._in_segment:
            self._in_segment = False
            played, self._duration = self._duration, 0.0
            self.on_playback_finished(playback_position=played, interrupted=True)

    def first_audio_after(self, t0: float) -> float | None:
        later = [t for t in self.segments if t >= t0]
        return later[0] - t0 if later else None


@dataclass
class Broken:
    """An endpoint that is down: HTTP 500 on every request and websocket upgrade, or it
    accepts the connection and never answers ("hang")."""

    mode: str = "500"
    url: str = ""
    hits: int = 0
    _runner: web.AppRunner | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    async def _any(self, request: web.Request) -> web.StreamResponse:
        self.hits += 1
        if self.mode == "hang":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), 60)
        return web.json_response({"error": "injected failure"}, status=500)

    async def start(self) -> Broken:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def audio_attached(session: AgentSession) -> AsyncIterator[tuple[CallerAudio, Speaker]]:
    caller, speaker = CallerAudio(), Speaker()
    session.input.audio = caller
    session.output.audio = speaker
    yield caller, speaker
