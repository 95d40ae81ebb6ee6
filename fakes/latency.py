"""How slow the fake providers are: the latencies a real OpenAI, Deepgram and Cartesia add.

One `Latency` is shared by the three fakes of a process and can be changed while they run
(`POST /_fake/latency` on any of them, JSON with any of the fields), so one stack can measure
a call with realistic provider latencies and with none, turn after turn.

- `stt_final_s`: the final transcript goes out this long after the end of speech (in the audio
  the fake received). The fake only knows speech has ended after `stt_end_silence_s` of quiet,
  so a final can never come sooner than that: `effective_stt_final_s()` says when it does.
- `llm_first_token_s`: the first chunk of every streamed chat completion (text or tool call).
- `tts_first_audio_s`: the first audio chunk of every synthesis context (or `/tts/bytes` reply).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from aiohttp import web

# what the issue calls realistic: a streaming STT's final, an LLM's first token, a TTS's first
# audio, each after the previous step's input is complete
REALISTIC = {"stt_final_s": 0.25, "llm_first_token_s": 0.40, "tts_first_audio_s": 0.15}
DEFAULT_END_SILENCE_S = 0.7  # the fake STT's end-of-speech hangover (pauses inside a line)


@dataclass
class Latency:
    stt_final_s: float = 0.0
    llm_first_token_s: float = 0.0
    tts_first_audio_s: float = 0.0
    stt_end_silence_s: float = DEFAULT_END_SILENCE_S

    def __post_init__(self) -> None:
        self._check()

    def _check(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"latency {f.name} must be a number of seconds >= 0, "
                                 f"not {value!r}")
        if self.stt_end_silence_s < 0.02:
            raise ValueError("latency stt_end_silence_s must be at least one 20 ms frame, "
                             f"not {self.stt_end_silence_s!r}")

    def update(self, changes: dict[str, Any]) -> None:
        """Set the fields named in `changes` (all or nothing: a bad value changes none)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown latency field(s) {unknown}; known: {sorted(known)}")
        trial = Latency(**{**asdict(self), **changes})
        for name in changes:
            setattr(self, name, getattr(trial, name))

    def effective_stt_final_s(self) -> float:
        return max(self.stt_final_s, self.stt_end_silence_s)

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "effective_stt_final_s": self.effective_stt_final_s()}


# where each fake's app keeps the latency it shares with the others
LATENCY_KEY = web.AppKey("latency", Latency)


def attach(app: web.Application, latency: Latency) -> None:
    """Give one fake's app `latency` (`app[LATENCY_KEY]`) and its routes: `GET /_fake/latency`
    (the latency in force) and `POST /_fake/latency` (JSON fields of `Latency` to change; 400
    naming the field when a value is bad)."""
    app[LATENCY_KEY] = latency

    async def show(request: web.Request) -> web.Response:
        return web.json_response(latency.to_dict())

    async def change(request: web.Request) -> web.Response:
        try:
            changes = await request.json()
            if not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object of latency fields")
            latency.update(changes)
        except ValueError as e:  # json.JSONDecodeError is a ValueError too
            return web.json_response({"error": str(e)}, status=400)
        return web.json_response(latency.to_dict())

    app.router.add_get("/_fake/latency", show)
    app.router.add_post("/_fake/latency", change)
