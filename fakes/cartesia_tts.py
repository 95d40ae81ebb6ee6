"""A fake Cartesia TTS: the `/tts/websocket` stream the LiveKit plugin uses, and `/tts/bytes`.

Websocket requests carry `context_id`, `transcript`, `continue` and `output_format`; for each
non-blank transcript piece the fake answers with base64 `chunk` messages of pcm_s16le audio
(and `timestamps` when `add_timestamps`), and after the `continue: false` piece with `done`.
Audio is espeak-ng speech (`voice="espeak"`) or a short tone (`voice="tone"`, the default:
cheap, and easy to find in the RTP that comes back). The first audio chunk of each context
goes out no sooner than the `Latency`'s `tts_first_audio_s` after its first text arrived.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from typing import Any

from aiohttp import WSMsgType, web

from . import accounts as acc
from .audio import speech_or_tone, tone
from .latency import LATENCY_KEY, Latency, attach

log = logging.getLogger("fakes.tts")

STATE_KEY = web.AppKey("state", dict)
CHUNK_SECONDS = 0.1


def _render(app: web.Application, text: str, sample_rate: int) -> bytes:
    mode = app[STATE_KEY]["voice"]
    if mode == "espeak":
        return speech_or_tone(text, sample_rate)
    seconds = min(0.04 * max(len(text.strip()), 5), app[STATE_KEY]["max_tone_seconds"])
    return tone(seconds, sample_rate, freq=660.0)


def _timestamps(text: str, seconds: float, offset: float) -> dict[str, list[Any]]:
    words = text.split()
    step = seconds / max(len(words), 1)
    return {
        "words": words,
        "start": [round(offset + i * step, 3) for i in range(len(words))],
        "end": [round(offset + (i + 1) * step, 3) for i in range(len(words))],
    }


class _Context:
    def __init__(self) -> None:
        self.offset = 0.0
        self.cancelled = False
        self.opened = time.monotonic()
        self.audio_sent = False

    async def first_audio_due(self, latency: Latency) -> None:
        """Wait until the provider's time to first audio has passed since the first text."""
        if not self.audio_sent:
            self.audio_sent = True
            await asyncio.sleep(max(latency.tts_first_audio_s - (time.monotonic() - self.opened),
                                    0.0))


async def websocket(request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(heartbeat=None)
    ws.headers["X-Request-Id"] = f"fake-{time.monotonic_ns()}"
    await ws.prepare(request)
    app = request.app
    contexts: dict[str, _Context] = {}
    loop = asyncio.get_running_loop()
    async for msg in ws:
        if msg.type != WSMsgType.TEXT:
            if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
            continue
        try:
            req = json.loads(msg.data)
        except json.JSONDecodeError:
            await ws.send_str(json.dumps({"type": "error", "error": "invalid json"}))
            continue
        cid = str(req.get("context_id") or "")
        ctx = contexts.setdefault(cid, _Context())
        if req.get("cancel"):
            ctx.cancelled = True
            continue
        text = str(req.get("transcript") or "")
        fmt = req.get("output_format") or {}
        rate = int(fmt.get("sample_rate", 24000))
        if fmt.get("encoding", "pcm_s16le") != "pcm_s16le":
            await ws.send_str(json.dumps({"type": "error", "context_id": cid,
                                          "error": "fake supports pcm_s16le only"}))
            continue
        if text.strip() and not ctx.cancelled:
            audio = await loop.run_in_executor(None, _render, app, text.strip(), rate)
            seconds = len(audio) / 2 / rate
            first = not ctx.audio_sent
            entry: dict[str, Any] = {
                "at": time.time(), "context_id": cid, "text": text, "seconds": round(seconds, 3),
                # what a real Cartesia would speak it in, and with which voice
                "language": req.get("language"),
                "voice": (req.get("voice") or {}).get("id"),
            }
            app[STATE_KEY]["spoken"].append(entry)
            log.info("fake TTS: %r -> %.2fs", text, seconds)
            await ctx.first_audio_due(app[LATENCY_KEY])
            if first:  # the provider's time to first audio, for a turn's provider chain
                entry["opened_at"] = time.time() - (time.monotonic() - ctx.opened)
                entry["first_audio_at"] = time.time()
            step = int(rate * CHUNK_SECONDS) * 2
            for i in range(0, len(audio), step):
                await ws.send_str(json.dumps({
                    "type": "chunk", "context_id": cid, "status_code": 206, "done": False,
                    "step_time": CHUNK_SECONDS * 1000,
                    "data": base64.b64encode(audio[i : i + step]).decode(),
                }))
            if req.get("add_timestamps"):
                await ws.send_str(json.dumps({
                    "type": "timestamps", "context_id": cid, "status_code": 206, "done": False,
                    "word_timestamps": _timestamps(text, seconds, ctx.offset),
                }))
            ctx.offset += seconds
        if not req.get("continue", False):
            await ws.send_str(json.dumps(
                {"type": "done", "context_id": cid, "status_code": 206, "done": True}
            ))
            contexts.pop(cid, None)
    return ws


async def tts_bytes(request: web.Request) -> web.Response:
    opened = time.monotonic()
    req = await request.json()
    fmt = req.get("output_format") or {}
    rate = int(fmt.get("sample_rate", 24000))
    text = str(req.get("transcript") or "")
    audio = await asyncio.get_running_loop().run_in_executor(
        None, _render, request.app, text, rate
    )
    due = request.app[LATENCY_KEY].tts_first_audio_s - (time.monotonic() - opened)
    await asyncio.sleep(max(due, 0.0))
    request.app[STATE_KEY]["spoken"].append({"at": time.time(), "context_id": None, "text": text,
                                             "seconds": round(len(audio) / 2 / rate, 3)})
    return web.Response(body=audio, content_type="audio/pcm")


async def voice_info(request: web.Request) -> web.Response:
    """`GET /voices/{id}`: what `main.py check` asks of every configured voice."""
    accounts = acc.of(request.app)
    if not accounts.key_ok(request.headers.get("X-API-Key", "")):
        return acc.cartesia_bad_key()
    voice_id = request.match_info["voice_id"]
    if not accounts.voice_ok(voice_id):
        return acc.cartesia_no_voice()
    return web.json_response(acc.cartesia_voice(voice_id))


async def fake_log(request: web.Request) -> web.Response:
    return web.json_response({"spoken": request.app[STATE_KEY]["spoken"]})


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def create_app(*, voice: str = "tone", max_tone_seconds: float = 1.2,
               latency: Latency | None = None,
               accounts: acc.Accounts | None = None) -> web.Application:
    app = web.Application()
    attach(app, latency or Latency())
    acc.attach(app, accounts)
    app[STATE_KEY] = {"voice": voice, "max_tone_seconds": max_tone_seconds, "spoken": []}
    app.router.add_get("/tts/websocket", websocket)
    app.router.add_post("/tts/bytes", tts_bytes)
    app.router.add_get("/voices/{voice_id}", voice_info)
    app.router.add_get("/_fake/log", fake_log)
    app.router.add_get("/health", health)
    return app
