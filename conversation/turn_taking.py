"""When the caller's turn is over: endpointing tuned for the phone, per agent and per step.

LiveKit's turn detector (v1-mini, local, audio only) holds a turn it thinks unfinished until
the maximum endpointing delay (2.5 s after the end of speech for a streaming detector). On
8 kHz phone speech it barely tells a finished sentence from a caller pausing inside one:
bench/voice.py (varied speech, 1 call) measured end-of-turn probabilities of median 0.34 for
complete questions and 0.22 for first halves (AUC 0.73), so no threshold separates them (at
0.12 a third of all turns with a pause were cut off; at LiveKit's 0.36, 58 % of complete
questions are held). What is left to tune is how long a held turn waits and what is ready
when it ends:

- the session: dynamic endpointing from a floor to a ceiling, and the detector's "unlikely"
  threshold, all three from config.py (ENDPOINTING_FLOOR_S 0.3 s, ENDPOINTING_CEILING_S
  2.0 s, TURN_DETECTOR_THRESHOLD 0.9; LiveKit: 0.3 s, 2.5 s, 0.36). Issue 25 measured the
  trade-off on realistic caller audio (bench/endpointing.py: Piper and espeak-ng voices on a
  line with a noise floor, a café, mu-law and lost packets): there the detector scores real
  ends at a median 0.57 and pauses inside a turn at 0.54 (AUC 0.55; Spanish 0.50 and 0.51),
  so no threshold separates them, and callers' pauses (lists, numbers, hesitations,
  corrections) run to ~1.9 s. At the former 0.8/1.2/0.36, 82 % of paused turns were cut off;
  only a ceiling that outlasts the pauses keeps that under 3 %. At 0.9 the detector holds
  every turn to the ceiling unless it is all but sure (none of 216 real ends scored that high):
  a fixed 2.0 s wait, the fastest setting that cut off none of 144 paused turns. The price is
  the wait (bench/README.md §6d);
- where the answer is expected to be short (the confirmation agent; the order agent when it
  has asked for the name), a 1.0 s ceiling: a held "yes" commits 1.0 s after speech ends;
- while the caller is saying a phone number (one was refused as incomplete), a 1.5 s floor
  and a 3.0 s ceiling: numbers are said in groups with pauses between them;
- preemptive generation with TTS (`preemptive_tts`): the reply is drafted from the final
  transcript *and synthesised* while endpointing waits, so a commit plays at once instead of
  waiting for the TTS's first audio. A reply drafted for a turn that goes on is discarded:
  some TTS characters paid for nothing.

`AUDIO_LEVERS_OFF=short_answers,dynamic_endpointing,preemptive_tts` restores LiveKit's
defaults (the benchmark's before figures; worker/call_options.py).

**The streaming path** (a restaurant's `turn_taking: flux`, English only): Deepgram Flux decides
the end of the turn itself, from the audio and the words together, and says so on its
websocket (`EndOfTurn`), so the job runs no VAD and no turn detector (`turn_detection="stt"`,
no endpointing floor: Flux's end of turn is the commit). Flux also sends an *eager* end of turn
(`EagerEndOfTurn`, at `FLUX_EAGER_EOT_THRESHOLD`) before it is sure: LiveKit starts the reply
(LLM and, with `preemptive_tts`, TTS) there; `TurnResumed` (the caller went on) drops that
draft, and `EndOfTurn` with the same words keeps it, so the answer is ready when the turn ends.
A phone number still gets its 1.5 s floor after Flux's end of turn (the groups are said with
pauses); short answers need no ceiling (nothing holds a turn on this path). Interruptions come
from Flux's transcripts (LiveKit interrupts on the caller's words when there is no VAD).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from livekit.agents.voice.turn import EndpointingOptions

from models import RestaurantSettings

logger = logging.getLogger("restaurant.turn_taking")

Path = Literal["local", "flux"]

# the floor and ceiling, and the detector's threshold: config.py's ENDPOINTING_FLOOR_S,
# ENDPOINTING_CEILING_S and TURN_DETECTOR_THRESHOLD, set by configure() once per process
SESSION_ENDPOINTING: EndpointingOptions = {"mode": "dynamic", "min_delay": 0.3, "max_delay": 2.0}
DETECTOR_THRESHOLD = {"unlikely": 0.9}
SHORT_ANSWER_ENDPOINTING: EndpointingOptions = {"max_delay": 1.0}
# A phone number said in groups ("six one seven ... five five five ... oh one nine nine"):
# the pauses between groups are not the end of the turn.
NUMBER_ENDPOINTING: EndpointingOptions = {"min_delay": 1.5, "max_delay": 3.0}

# Flux: Flux's end of turn is the commit (no floor); the eager end of turn starts the reply.
FLUX_ENDPOINTING: EndpointingOptions = {"mode": "fixed", "min_delay": 0.0, "max_delay": 0.0}
FLUX_EAGER_EOT_THRESHOLD = 0.4  # Deepgram: 0.3-0.9; lower starts drafts sooner, discards more
FLUX_EOT_THRESHOLD = 0.7  # Deepgram's default: a lower one cuts paused callers off

# set from call_options (AUDIO_LEVERS_OFF) once per process, before any call
enabled = {"dynamic_endpointing": True, "short_answers": True, "preemptive_tts": True}


def path_for(settings: RestaurantSettings) -> Path:
    """The turn-taking path of a restaurant's calls: Flux only where every language offered
    is English (flux-general-en); otherwise the local detector, and the log says why."""
    if settings.turn_taking != "flux":
        return "local"
    if set(settings.languages) | {settings.default_language} != {"en"}:
        logger.warning("turn_taking flux is English only; this restaurant offers %s: its calls "
                       "use the local turn detector", ", ".join(sorted(settings.languages)))
        return "local"
    return "flux"


def configure(floor_s: float, ceiling_s: float, threshold: float) -> None:
    """The session's endpointing floor and ceiling and the detector's threshold (once per
    process, before any call)."""
    SESSION_ENDPOINTING.update(min_delay=floor_s, max_delay=ceiling_s)
    DETECTOR_THRESHOLD["unlikely"] = threshold


def detector_threshold() -> float | None:
    """The turn detector's "unlikely" threshold (None: LiveKit's own, with the levers off)."""
    return DETECTOR_THRESHOLD["unlikely"] if enabled["dynamic_endpointing"] else None


def session_endpointing(path: Path = "local") -> EndpointingOptions | None:
    """The session-wide endpointing options (None: LiveKit's defaults)."""
    if path == "flux":
        return dict(FLUX_ENDPOINTING)  # type: ignore[return-value]
    return dict(SESSION_ENDPOINTING) if enabled["dynamic_endpointing"] else None  # type: ignore[return-value]


def session_turn_handling(turn_detection: Any, path: Path = "local") -> dict[str, Any]:
    """`turn_handling=` for the AgentSession (`turn_detection` is ignored on the Flux path:
    the STT's end of turn decides)."""
    options: dict[str, Any] = {"turn_detection": "stt" if path == "flux" else turn_detection}
    if (endpointing := session_endpointing(path)) is not None:
        options["endpointing"] = endpointing
    if enabled["preemptive_tts"]:
        # the reply's first audio is synthesised while endpointing still waits, not after
        options["preemptive_generation"] = {"preemptive_tts": True}
    elif path == "flux":  # the eager end of turn starts the reply (LLM only)
        options["preemptive_generation"] = {"enabled": True}
    return options


def endpointing_for(short_answer: bool, *, number: bool = False,
                    path: Path = "local") -> EndpointingOptions:
    """An agent's endpointing overrides for the answer it waits for; {} inherits the session's."""
    if number and enabled["short_answers"]:
        return dict(NUMBER_ENDPOINTING)  # type: ignore[return-value]
    if short_answer and enabled["short_answers"] and path == "local":
        return dict(SHORT_ANSWER_ENDPOINTING)  # type: ignore[return-value]
    return {}


def agent_turn_handling(short_answer: bool) -> dict[str, Any]:
    """`turn_handling=` for an Agent's constructor."""
    endpointing = endpointing_for(short_answer)
    return {"endpointing": endpointing} if endpointing else {}
