"""When the caller's turn is over: endpointing tuned for the phone, per agent and per step.

LiveKit's turn detector (v1-mini, local, audio only) holds a turn it thinks unfinished until
the maximum endpointing delay (2.5 s after the end of speech for a streaming detector). On
8 kHz phone speech it barely tells a finished sentence from a caller pausing inside one:
bench/voice.py (varied speech, 1 call) measured end-of-turn probabilities of median 0.34 for
complete questions and 0.22 for first halves (AUC 0.73), so no threshold separates them (at
0.12 a third of all turns with a pause were cut off; at LiveKit's 0.36, 58 % of complete
questions are held). What is left to tune is how long a held turn waits and what is ready
when it ends:

- the session: dynamic endpointing from a 0.8 s floor and a 1.2 s ceiling (LiveKit: 0.3 s
  and 2.5 s). With real providers the reply is barely ready sooner (final transcript ~0.25 s,
  LLM first token ~0.4 s, TTS first audio ~0.15 s after the end of speech), so the floor
  costs little (unheld turns answered after 1.10-1.17 s instead of 0.96-1.0 s at a 0.6 s
  floor) and a caller who goes on within it is not cut off (paused turns cut off: 4 of 31,
  against 6 of 31 at 0.6 s). The floor grows with the caller's own pauses. The ceiling bounds
  what a held turn costs; a caller who pauses up to 1.2 s inside a sentence is still heard;
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
"""

from __future__ import annotations

from typing import Any

from livekit.agents.voice.turn import EndpointingOptions

SESSION_ENDPOINTING: EndpointingOptions = {"mode": "dynamic", "min_delay": 0.8, "max_delay": 1.2}
SHORT_ANSWER_ENDPOINTING: EndpointingOptions = {"max_delay": 1.0}
# A phone number said in groups ("six one seven ... five five five ... oh one nine nine"):
# the pauses between groups are not the end of the turn.
NUMBER_ENDPOINTING: EndpointingOptions = {"min_delay": 1.5, "max_delay": 3.0}

# set from call_options (AUDIO_LEVERS_OFF) once per process, before any call
enabled = {"dynamic_endpointing": True, "short_answers": True, "preemptive_tts": True}


def session_endpointing() -> EndpointingOptions | None:
    """The session-wide endpointing options (None: LiveKit's defaults)."""
    return dict(SESSION_ENDPOINTING) if enabled["dynamic_endpointing"] else None  # type: ignore[return-value]


def session_turn_handling(turn_detection: Any) -> dict[str, Any]:
    """`turn_handling=` for the AgentSession."""
    options: dict[str, Any] = {"turn_detection": turn_detection}
    if (endpointing := session_endpointing()) is not None:
        options["endpointing"] = endpointing
    if enabled["preemptive_tts"]:
        # the reply's first audio is synthesised while endpointing still waits, not after
        options["preemptive_generation"] = {"preemptive_tts": True}
    return options


def endpointing_for(short_answer: bool, *, number: bool = False) -> EndpointingOptions:
    """An agent's endpointing overrides for the answer it waits for; {} inherits the session's."""
    if number and enabled["short_answers"]:
        return dict(NUMBER_ENDPOINTING)  # type: ignore[return-value]
    if short_answer and enabled["short_answers"]:
        return dict(SHORT_ANSWER_ENDPOINTING)  # type: ignore[return-value]
    return {}


def agent_turn_handling(short_answer: bool) -> dict[str, Any]:
    """`turn_handling=` for an Agent's constructor."""
    endpointing = endpointing_for(short_answer)
    return {"endpointing": endpointing} if endpointing else {}
