"""How a call's audio path is configured for the phone: the CPU and memory a call costs.

A py-spy profile of job processes (issue 13) put the cost of a call in how the framework's
audio path is set up, not in our code. Each lever below is measured by `bench/cores.py`
(before/after in bench/README.md) and is on by default; `AUDIO_LEVERS_OFF` (comma list, or
`all`) turns levers off again, for the benchmark's before figures and for bisecting a fault.

- `native_vad`: livekit-agents' native Silero (`inference.VAD`, livekit-local-inference, runs
  locally, no LiveKit Cloud): its model is loaded once in the forkserver and shared by every
  job process, and inference runs in C++ off the event loop, instead of the Python/onnxruntime
  Silero plugin loaded in each job process.
- `phone_rate`: the room input at 16 kHz, the rate STT, VAD and turn detector all take (a phone
  call carries 8 kHz): one resampler in LiveKit's native stream instead of three 24 -> 16 kHz
  resamplers in Python; no auto-gain on phone audio (the phone network levels it already).
- `no_transcript_sync`: transcripts are still published, but not paced word by word with the
  audio: nobody on a phone call sees them.
- `preload`: our heavy modules imported once in the forkserver (copy-on-write into each job
  process) instead of in every job process; see `PRELOAD_MODULES`.
- `schema_cache`: a tool's JSON schema built once per tool, not on every LLM request.
- `dynamic_endpointing`, `short_answers`, `preemptive_tts`: when a caller's turn is over and
  how soon the answer is ready (conversation/turn_taking.py).
"""

from __future__ import annotations

import copy
import logging
import weakref
from collections.abc import Callable
from typing import Any

from livekit.agents import vad
from livekit.agents.voice import room_io

logger = logging.getLogger("restaurant.call_options")

LEVERS = ("native_vad", "phone_rate", "no_transcript_sync", "preload", "schema_cache",
          "dynamic_endpointing", "short_answers", "preemptive_tts")
PHONE_SAMPLE_RATE = 16000  # STT (Deepgram), VAD and the turn detector all take 16 kHz
# Imported once in the forkserver. Only imports and fork-safe warm-ups: no thread, no socket,
# no event loop may exist before the fork (grpc's channels are created per job process).
PRELOAD_MODULES = ["worker.preload"]


def levers_off(value: str | None) -> frozenset[str]:
    """The levers `AUDIO_LEVERS_OFF` names; an unknown name is an error naming it."""
    names = {n.strip() for n in (value or "").split(",") if n.strip()}
    if "all" in names:
        return frozenset(LEVERS)
    unknown = names - set(LEVERS)
    if unknown:
        raise ValueError(
            f"AUDIO_LEVERS_OFF: unknown lever(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(LEVERS)} or all"
        )
    return frozenset(names)


class CallOptions:
    """The options one worker's calls use, from the set of levers turned off."""

    def __init__(self, off: frozenset[str] = frozenset()) -> None:
        self.off = off

    def on(self, lever: str) -> bool:
        return lever not in self.off

    def load_vad(self) -> vad.VAD:
        if self.on("native_vad"):
            from livekit.agents import inference

            return inference.VAD()
        from livekit.plugins import silero

        return silero.VAD.load()

    def room_options(self, noise_cancellation: Any | None = None) -> room_io.RoomOptions:
        audio: dict[str, Any] = {}
        if noise_cancellation is not None:
            audio["noise_cancellation"] = noise_cancellation
        if self.on("phone_rate"):
            audio["sample_rate"] = PHONE_SAMPLE_RATE
            audio["auto_gain_control"] = False
        kwargs: dict[str, Any] = {}
        if audio:
            kwargs["audio_input"] = room_io.AudioInputOptions(**audio)
        if self.on("no_transcript_sync"):
            kwargs["text_output"] = room_io.TextOutputOptions(sync_transcription=False)
        return room_io.RoomOptions(**kwargs)

    def preload_modules(self) -> list[str]:
        return list(PRELOAD_MODULES) if self.on("preload") else []

    def install(self) -> None:
        """Process-wide parts (the schema cache, turn taking); once per process, before any call."""
        from conversation import turn_taking

        for lever in turn_taking.enabled:
            turn_taking.enabled[lever] = self.on(lever)
        if self.on("schema_cache"):
            cache_tool_schemas()


_SchemaBuilder = Callable[..., dict[str, Any]]


def _cached(build: _SchemaBuilder) -> _SchemaBuilder:
    """`build(tool, **kw)` memoised per tool object (weakly: a call's tools die with it)."""
    cache: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], dict[str, Any]]]
    cache = weakref.WeakKeyDictionary()

    def cached(tool: Any, **kwargs: Any) -> dict[str, Any]:
        key = tuple(sorted(kwargs.items()))
        try:
            per_tool = cache.setdefault(tool, {})
        except TypeError:  # not weak-referenceable: build every time, as LiveKit does
            return build(tool, **kwargs)
        if key not in per_tool:
            per_tool[key] = build(tool, **kwargs)
        # a copy: some of LiveKit's formatters (anthropic) edit the schema they are given
        return copy.deepcopy(per_tool[key])

    cached.__wrapped__ = build  # type: ignore[attr-defined]
    return cached


def cache_tool_schemas() -> None:
    """LiveKit's OpenAI formatter rebuilds every tool's pydantic model and JSON schema on every
    LLM request (`llm.utils.build_*_openai_schema`, ~4 % of a call's CPU); a tool's signature
    never changes, so build each once. Each request gets its own copy of the schema."""
    from livekit.agents.llm import utils

    for name in ("build_strict_openai_schema", "build_legacy_openai_schema"):
        fn = getattr(utils, name)
        if not hasattr(fn, "__wrapped__"):
            setattr(utils, name, _cached(fn))
