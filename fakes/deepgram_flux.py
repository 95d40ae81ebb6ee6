"""A fake Deepgram Flux websocket (`/v2/listen`), as LiveKit's `deepgram.STTv2` speaks it.

The client sends linear16 audio (binary frames, 50 ms each from LiveKit's plugin) and
`CloseStream` / `Configure` text messages; query parameters carry `model`, `sample_rate`,
`encoding` and the turn thresholds (`eager_eot_threshold`, `eot_threshold`, `eot_timeout_ms`).
The server answers `Connected`, then `TurnInfo` messages following Flux's state machine
(developers.deepgram.com/docs/flux/state):

    StartOfTurn -> Update ... -> [EagerEndOfTurn -> (TurnResumed -> Update ... ->)] EndOfTurn

- `StartOfTurn` when speech starts (the energy segmenter of fakes/audio.py), `Update` every
  0.25 s of audio while a turn is open, with the words heard so far (about one a 0.3 s);
- a turn's words are the scripted caller lines (fakes/script.py), one per speech segment (a
  segment ends after `stt_end_silence_s` of quiet, as in the Nova fake);
- after a segment ends, Flux's end-of-turn confidence rises with the silence. Here, for a
  line that ends what the caller means to say, it reaches `eot_threshold` exactly
  `stt_final_s` after the last loud frame (fakes/latency.py: 0.25 s in the realistic mode,
  Deepgram's "~260 ms end-of-turn detection"), linearly from 0 at the end of speech, so
  `EagerEndOfTurn` (when `eager_eot_threshold` is set) comes before it in proportion; for a
  line marked `continues` (a first half: "Do you have ... oat milk?") it rises four times more
  slowly and tops out at 0.6, below Flux's default `eot_threshold` of 0.7: such a pause can
  fire `EagerEndOfTurn` (then `TurnResumed` when the caller goes on), and ends the turn only
  after `eot_timeout_ms` of silence (Deepgram's default 5000) or with an `eot_threshold` set
  below 0.6 -- the cut-off the thresholds trade against;
- no event is decided before the segment has ended (`stt_end_silence_s`), so with the default
  0.7 s hangover every turn ends 0.7 s after speech; benchmarks set a shorter one.

Every event goes to `GET /_fake/log` (`flux`: when it was sent, the silence it followed, the
transcript), and each `EndOfTurn` to `emitted` like the Nova fake's finals.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from aiohttp import web

from .audio import EnergySegmenter
from .deepgram_stt import pump
from .latency import LATENCY_KEY
from .script import Script

log = logging.getLogger("fakes.flux")

MODELS = ("flux-general-en", "flux-general-multi")
DEFAULT_EOT = 0.7  # Deepgram's defaults
DEFAULT_EOT_TIMEOUT_MS = 5000
UPDATE_EVERY_S = 0.25
WORD_S = 0.3  # how fast Updates reveal a line's words
COMPLETE_PEAK = 0.95
FIRST_HALF_PEAK = 0.6
FIRST_HALF_SLOWER = 4.0
MIN_RISE_S = 0.02  # one frame: a turn cannot end before the fake has heard it end


class _BadQuery(ValueError):
    pass


def _thresholds(query: dict[str, str]) -> dict[str, Any]:
    """The turn thresholds a connection asks for, checked as Deepgram checks them."""
    try:
        eager = float(query["eager_eot_threshold"]) if "eager_eot_threshold" in query else None
        eot = float(query.get("eot_threshold", DEFAULT_EOT))
        timeout_ms = int(query.get("eot_timeout_ms", DEFAULT_EOT_TIMEOUT_MS))
    except ValueError as e:
        raise _BadQuery(f"bad threshold: {e}") from None
    if not 0.5 <= eot <= 1.0:
        raise _BadQuery(f"eot_threshold must be 0.5-1.0, not {eot}")
    if eager is not None and not (0.3 <= eager <= 0.9 and eager <= eot):
        raise _BadQuery(f"eager_eot_threshold must be 0.3-0.9 and <= eot_threshold, not {eager}")
    if not 500 <= timeout_ms <= 60000:
        raise _BadQuery(f"eot_timeout_ms must be 500-60000, not {timeout_ms}")
    return {"eager_eot_threshold": eager, "eot_threshold": eot, "eot_timeout_ms": timeout_ms}


class FluxSession:
    """One `/v2/listen` connection: audio in, Flux's turn events out."""

    def __init__(self, app: web.Application, send: Any, query: dict[str, str],
                 state: dict[str, Any], script: Script) -> None:
        self.app = app
        self._send = send  # async (str) -> None
        self.state = state
        self.script = script
        self.request_id = str(uuid.uuid4())
        self.sample_rate = int(query.get("sample_rate", "16000"))
        self.thresholds = _thresholds(query)
        self.latency = app[LATENCY_KEY]
        self.segmenter = EnergySegmenter(self.sample_rate, threshold=state["threshold"],
                                         hangover=self.latency.stt_end_silence_s)
        self.sequence = 0
        self.turn_index = 0
        self.lines: list[str] = []  # the open turn's lines, one per ended segment
        self.first_half = False  # the last ended segment is a first half
        self.in_turn = False
        self.eager_sent = False
        self.turn_start = 0.0
        self.next_update = 0.0

    # ------------------------------------------------------------ messages

    async def message(self, kind: str, **fields: Any) -> None:
        body = {"type": kind, "request_id": self.request_id, "sequence_id": self.sequence,
                **fields}
        self.sequence += 1
        await self._send(json.dumps(body))

    async def turn_info(self, event: str, transcript: str, confidence: float) -> None:
        words = [{"word": w, "confidence": 0.99} for w in transcript.split()]
        await self.message(
            "TurnInfo", event=event, turn_index=self.turn_index,
            audio_window_start=round(self.turn_start, 3),
            audio_window_end=round(self.segmenter.position, 3), transcript=transcript,
            words=words, end_of_turn_confidence=round(confidence, 3))
        silence = (None if self.segmenter.in_speech
                   else round(self.segmenter.position - self.segmenter.last_loud_end, 3))
        self.state["flux"].append({"at": time.time(), "event": event, "turn": self.turn_index,
                                   "transcript": transcript, "silence_s": silence,
                                   "audio_s": round(self.segmenter.position, 3)})
        log.info("fake Flux: %s %r (turn %d)", event, transcript, self.turn_index)

    # ------------------------------------------------------------ the script

    def _take_line(self) -> None:
        index = self.state["next_line"]
        self.state["next_line"] = index + 1
        script = self.state.get("script") or self.script
        if index < len(script.caller):
            self.lines.append(script.caller[index])
            self.first_half = script.continues(index)
        else:
            self.lines.append("")
            self.first_half = False

    def _peek_words(self) -> list[str]:
        script = self.state.get("script") or self.script
        index = self.state["next_line"]
        return script.caller[index].split() if index < len(script.caller) else []

    def transcript(self, partial: bool = False) -> str:
        words = " ".join(t for t in self.lines if t).split()
        if partial and self.segmenter.in_speech:
            heard = self._peek_words()
            words += heard[: min(len(heard), int(self.segmenter.speech_so_far() / WORD_S))]
        return " ".join(words)

    # ------------------------------------------------------------ the turn

    def confidence(self) -> float:
        """End-of-turn confidence after the silence heard since the last ended segment."""
        if self.segmenter.in_speech or not self.lines:
            return 0.0
        silence = self.segmenter.position - self.segmenter.last_loud_end
        eot = self.thresholds["eot_threshold"]
        rise = max(self.latency.stt_final_s, MIN_RISE_S)
        if self.first_half:
            rise = FIRST_HALF_SLOWER * max(rise, 0.25)
            return min(FIRST_HALF_PEAK, eot * silence / rise)
        return min(COMPLETE_PEAK, eot * silence / rise)

    async def on_audio(self, data: bytes) -> None:
        self.segmenter.end_frames = max(
            round(self.latency.stt_end_silence_s / self.segmenter.frame_s), 1)
        changed = False
        for edge in self.segmenter.feed(data):
            changed = True
            if edge.kind == "end":
                self._take_line()
            elif not self.in_turn:
                self.in_turn, self.eager_sent = True, False
                self.turn_start = edge.speech_start
                self.next_update = self.segmenter.position + UPDATE_EVERY_S
                first = self._peek_words()[:1]
                await self.turn_info("StartOfTurn", " ".join(first), 0.0)
            elif self.eager_sent:  # the caller goes on after an eager end of turn
                self.eager_sent = False
                resumed = " ".join([self.transcript(), *self._peek_words()[:1]])
                await self.turn_info("TurnResumed", resumed, 0.0)
        if self.in_turn:
            changed = await self._decide() or changed
        if self.in_turn and not changed and self.segmenter.position >= self.next_update:
            self.next_update = self.segmenter.position + UPDATE_EVERY_S
            await self.turn_info("Update", self.transcript(partial=True), self.confidence())

    async def _decide(self) -> bool:
        """Send EagerEndOfTurn / EndOfTurn when the silence has made them due."""
        if self.segmenter.in_speech or not self.lines:
            return False
        text = self.transcript()
        confidence = self.confidence()
        silence_ms = (self.segmenter.position - self.segmenter.last_loud_end) * 1000
        if confidence >= self.thresholds["eot_threshold"] or (
                silence_ms >= self.thresholds["eot_timeout_ms"]):
            await self.end_turn(text, confidence)
            return True
        eager = self.thresholds["eager_eot_threshold"]
        if eager is not None and not self.eager_sent and text and confidence >= eager:
            self.eager_sent = True
            await self.turn_info("EagerEndOfTurn", text, confidence)
            return True
        return False

    async def end_turn(self, text: str, confidence: float) -> None:
        await self.turn_info("EndOfTurn", text, confidence)
        self.state["emitted"].append({
            "at": time.time(), "text": text, "start": self.turn_start,
            "end": self.segmenter.last_loud_end, "language": None, "event": "EndOfTurn"})
        self.turn_index += 1
        self.in_turn, self.eager_sent, self.lines, self.first_half = False, False, [], False

    # ------------------------------------------------------------ control messages

    async def on_control(self, message: dict[str, Any]) -> bool:
        kind = message.get("type")
        if kind == "CloseStream":
            for _ in self.segmenter.flush():
                self._take_line()
            if self.in_turn and self.lines:
                await self.end_turn(self.transcript(), self.confidence())
            return False
        if kind == "Configure":
            await self.configure(message)
        return True

    async def configure(self, message: dict[str, Any]) -> None:
        changes = message.get("thresholds") or {}
        query = {k: str(v) for k, v in {**self.thresholds, **changes}.items() if v is not None}
        try:
            self.thresholds = _thresholds(query)
        except _BadQuery as e:
            await self.message("ConfigureFailure", description=str(e))
            return
        await self.message("ConfigureSuccess", thresholds=self.thresholds)


async def listen(request: web.Request) -> web.StreamResponse:
    from .deepgram_stt import SCRIPT_KEY, STATE_KEY

    query = dict(request.query)
    model = query.get("model", "")
    try:
        if model not in MODELS:
            raise _BadQuery(f"unknown Flux model {model!r}; known: {', '.join(MODELS)}")
        if query.get("encoding", "linear16") != "linear16" or "sample_rate" not in query:
            raise _BadQuery("raw audio needs encoding=linear16 and a sample_rate")
        _thresholds(query)
    except _BadQuery as e:  # Deepgram refuses the upgrade with a 400
        return web.json_response({"err_code": "Bad Request", "err_msg": str(e)}, status=400)
    ws = web.WebSocketResponse(heartbeat=None)
    ws.headers["dg-request-id"] = str(uuid.uuid4())
    await ws.prepare(request)
    state = request.app[STATE_KEY]
    state["connections"] += 1
    state["queries"].append(query)
    session = FluxSession(request.app, ws.send_str, query, state, request.app[SCRIPT_KEY])
    log.info("fake Flux: connection, model=%s sample_rate=%d", model, session.sample_rate)
    await pump(ws, session, hello=lambda: session.message("Connected"))
    return ws
