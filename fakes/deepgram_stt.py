"""A fake Deepgram live transcription websocket (`/v1/listen`), as the LiveKit plugin speaks it
(Flux's `/v2/listen` is fakes/deepgram_flux.py, on the same app).

The client sends linear16 audio frames (binary) and `KeepAlive` / `Finalize` / `CloseStream`
text messages. This fake finds speech segments in the audio by energy; when a segment
starts it sends `SpeechStarted` (if `vad_events`), an interim `Results` after a while, and
when the segment ends it sends the next scripted caller line as a final `Results`
(`is_final` and `speech_final` true) followed by `UtteranceEnd`.

How long after the end of speech the final goes out is the app's `Latency` (fakes/latency.py):
`stt_end_silence_s` of quiet ends a segment, and the final waits until `stt_final_s` after the
last loud frame if that is later.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from . import accounts as acc
from .audio import EnergySegmenter
from .latency import LATENCY_KEY, Latency, attach
from .script import Script

log = logging.getLogger("fakes.stt")

SCRIPT_KEY = web.AppKey("script", Script)
STATE_KEY = web.AppKey("state", dict)


def _words(text: str, start: float, end: float) -> list[dict[str, Any]]:
    tokens = text.split()
    if not tokens:
        return []
    step = max(end - start, 0.1) / len(tokens)
    out = []
    for i, tok in enumerate(tokens):
        bare = "".join(ch for ch in tok.lower() if ch.isalnum() or ch == "'")
        out.append(
            {
                "word": bare or tok.lower(),
                "start": round(start + i * step, 3),
                "end": round(start + (i + 1) * step, 3),
                "confidence": 0.99,
                "punctuated_word": tok,
            }
        )
    return out


def _results(
    request_id: str, text: str, start: float, end: float, *, is_final: bool, speech_final: bool,
    language: str | None = None,
) -> str:
    alternative: dict[str, Any] = {"transcript": text, "confidence": 0.99 if text else 0.0,
                                   "words": _words(text, start, end)}
    if language:  # nova-3 `multi` reports the languages it heard, most used first
        alternative["languages"] = [language]
    return json.dumps(
        {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": round(end - start, 3),
            "start": round(start, 3),
            "is_final": is_final,
            "speech_final": speech_final,
            "from_finalize": False,
            "channel": {"alternatives": [alternative]},
            "metadata": {
                "request_id": request_id,
                "model_info": {"name": "fake", "version": "0", "arch": "fake"},
                "model_uuid": "00000000-0000-0000-0000-000000000000",
            },
        }
    )


class _Session:
    def __init__(self, app: web.Application, ws: web.WebSocketResponse, query: dict[str, str]):
        self.app = app
        self.ws = ws
        self.request_id = str(uuid.uuid4())
        self.sample_rate = int(query.get("sample_rate", "16000"))
        self.channels = int(query.get("channels", "1"))
        self.vad_events = query.get("vad_events", "false") == "true"
        self.interim = query.get("interim_results", "false") == "true"
        self.multi = query.get("language") == "multi"
        state = app[STATE_KEY]
        self.latency = app[LATENCY_KEY]
        self.segmenter = EnergySegmenter(
            self.sample_rate, threshold=state["threshold"],
            hangover=self.latency.stt_end_silence_s,
        )
        self.interim_sent = False
        self._late: set[asyncio.Task[None]] = set()  # finals waiting for their latency
        self.heard_end_at: float | None = None

    def _next_line(self) -> tuple[str, str | None]:
        """The next scripted line, and its language when the client asked for `multi`."""
        state = self.app[STATE_KEY]
        script = state.get("script") or self.app[SCRIPT_KEY]
        index = state["next_line"]
        state["next_line"] = index + 1
        if index < len(script.caller):
            return script.caller[index], script.language_of(index) if self.multi else None
        return "", None

    def _peek_line(self) -> str:
        state = self.app[STATE_KEY]
        lines = (state.get("script") or self.app[SCRIPT_KEY]).caller
        index = state["next_line"]
        return lines[index] if index < len(lines) else ""

    async def on_audio(self, data: bytes) -> None:
        if self.channels != 1:
            return
        # the latency can change while the stream runs (POST /_fake/latency)
        self.segmenter.end_frames = max(
            round(self.latency.stt_end_silence_s / self.segmenter.frame_s), 1)
        for edge in self.segmenter.feed(data):
            if edge.kind == "start":
                self.interim_sent = False
                log.info("fake STT: speech started at %.2fs", edge.speech_start)
                if self.vad_events:
                    await self.ws.send_str(json.dumps(
                        {"type": "SpeechStarted", "channel": [0], "timestamp": edge.speech_start}
                    ))
            else:
                end = edge.speech_end or edge.at
                wait = self.latency.stt_final_s - (edge.at - end)  # quiet heard so far
                # when the end of speech arrived, for a turn's provider chain
                self.heard_end_at = time.time() - (edge.at - end)
                if wait <= 0:
                    await self._final(edge.speech_start, end)
                else:  # the line is taken now, in order; it goes out when due
                    task = asyncio.create_task(self._final_after(wait, edge.speech_start, end))
                    self._late.add(task)
                    task.add_done_callback(self._late.discard)
        if (
            self.interim
            and self.segmenter.in_speech
            and not self.interim_sent
            and self.segmenter.speech_so_far() > 0.4
        ):
            self.interim_sent = True
            words = self._peek_line().split()
            partial = " ".join(words[: max(1, len(words) // 2)])
            if partial:
                state = self.app[STATE_KEY]
                script = state.get("script") or self.app[SCRIPT_KEY]
                lang = script.language_of(state["next_line"]) if self.multi else None
                await self.ws.send_str(_results(
                    self.request_id, partial, self.segmenter.position - 0.4,
                    self.segmenter.position, is_final=False, speech_final=False, language=lang,
                ))

    async def _final_after(self, wait: float, start: float, end: float) -> None:
        line, heard_end_at = self._next_line(), self.heard_end_at
        await asyncio.sleep(wait)
        try:
            await self._final(start, end, line, heard_end_at)
        except ConnectionResetError:
            log.info("fake STT: stream closed before a late final went out")

    async def _final(self, start: float, end: float,
                     line: tuple[str, str | None] | None = None,
                     heard_end_at: float | None = None) -> None:
        text, language = line or self._next_line()
        state = self.app[STATE_KEY]
        state["emitted"].append({"at": time.time(), "text": text, "start": start, "end": end,
                                 "language": language,
                                 "heard_end_at": heard_end_at or self.heard_end_at})
        log.info("fake STT: speech %.2f-%.2fs -> %r", start, end, text)
        if not text:
            return
        await self.ws.send_str(
            _results(self.request_id, text, start, end, is_final=True, speech_final=True,
                     language=language)
        )
        await self.ws.send_str(
            json.dumps({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": round(end, 3)})
        )

    async def on_control(self, message: dict[str, Any]) -> bool:
        kind = message.get("type")
        if kind == "CloseStream":
            for edge in self.segmenter.flush():
                await self._final(edge.speech_start, edge.speech_end or edge.at)
            await self.ws.send_str(json.dumps({
                "type": "Metadata", "request_id": self.request_id,
                "duration": round(self.segmenter.position, 3), "channels": 1,
            }))
            return False
        if kind == "Finalize" and self.segmenter.in_speech:
            for edge in self.segmenter.flush():
                await self._final(edge.speech_start, edge.speech_end or edge.at)
        return True


async def listen(request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(heartbeat=None)
    ws.headers["dg-request-id"] = str(uuid.uuid4())
    await ws.prepare(request)
    session = _Session(request.app, ws, dict(request.query))
    request.app[STATE_KEY]["connections"] += 1
    request.app[STATE_KEY]["queries"].append(dict(request.query))
    log.info("fake STT: connection, sample_rate=%d", session.sample_rate)
    await pump(ws, session)
    return ws


async def fake_log(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response(
        {"emitted": state["emitted"], "connections": state["connections"],
         "next_line": state["next_line"], "queries": state["queries"], "flux": state["flux"]}
    )


async def load_script(request: web.Request) -> web.Response:
    """A new script (JSON body): the caller's lines start again from the first."""
    state = request.app[STATE_KEY]
    state.update(script=Script.from_dict(await request.json()), next_line=0, emitted=[],
                 connections=0, flux=[])
    return web.Response(text="ok")


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


# What Deepgram's `GET /v1/models` lists for its streaming models (abridged).
_LANGUAGES = {
    "nova-3": ["en", "en-US", "en-GB", "es", "es-419", "fr", "de", "multi"],
    "nova-2": ["en", "en-US", "en-GB", "es", "es-419", "fr", "de", "multi"],
    "enhanced": ["en", "en-US"],
}


def _stt_model(name: str) -> dict[str, Any]:
    arch = name.split("-general")[0]
    return {"name": arch, "canonical_name": f"{arch}-general", "architecture": arch,
            "languages": _LANGUAGES.get(arch, ["en", "en-US"]), "version": "2025-01-01.0",
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_DNS, arch)), "batch": True,
            "streaming": True, "formatted_output": True}


async def projects(request: web.Request) -> web.Response:
    """`GET /v1/projects`: the cheapest proof that a key is good."""
    if not acc.of(request.app).key_ok(acc.bearer(request, "Token")):
        return acc.deepgram_bad_key()
    return web.json_response({"projects": [{"project_id": str(uuid.uuid5(uuid.NAMESPACE_DNS,
                                                                          "fake")),
                                            "name": "Fake project"}]})


async def models(request: web.Request) -> web.Response:
    """`GET /v1/models`: the streaming models and the languages each transcribes."""
    accounts = acc.of(request.app)
    if not accounts.key_ok(acc.bearer(request, "Token")):
        return acc.deepgram_bad_key()
    names = sorted(accounts.models) if accounts.models is not None else sorted(_LANGUAGES)
    return web.json_response({"stt": [_stt_model(n) for n in names], "tts": []})


def create_app(
    script: Script, *, threshold: float = 400.0, hangover: float = 0.7,
    latency: Latency | None = None, accounts: acc.Accounts | None = None,
) -> web.Application:
    """`latency` (shared with the other fakes) overrides `hangover` when given."""
    app = web.Application()
    attach(app, latency or Latency(stt_end_silence_s=hangover))
    acc.attach(app, accounts)
    app[SCRIPT_KEY] = script
    from . import deepgram_flux  # Flux's /v2/listen shares this app's script and state

    app[STATE_KEY] = {"next_line": 0, "emitted": [], "connections": 0, "queries": [],
                      "threshold": threshold, "flux": []}
    app.router.add_get("/v1/listen", listen)
    app.router.add_get("/v2/listen", deepgram_flux.listen)
    app.router.add_get("/v1/projects", projects)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/_fake/log", fake_log)
    app.router.add_post("/_fake/script", load_script)
    app.router.add_get("/health", health)
    return app


class Listening(Protocol):
    async def on_audio(self, data: bytes) -> None: ...
    async def on_control(self, message: dict[str, Any]) -> bool: ...


async def pump(ws: web.WebSocketResponse, session: Listening,
               hello: Callable[[], Awaitable[None]] | None = None) -> None:
    """A listen websocket's frames to its session (Nova's here, Flux's in deepgram_flux.py):
    `hello` first (Flux's Connected), then audio as it comes and JSON controls until one ends
    the stream; the socket closed after."""
    try:
        if hello is not None:
            await hello()
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                await session.on_audio(msg.data)
            elif msg.type == WSMsgType.TEXT:
                try:
                    control = json.loads(msg.data)
                except json.JSONDecodeError:
                    continue
                if not await session.on_control(control):
                    break
            else:
                break
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        if not ws.closed:
            await ws.close()
