"""When the caller's turn is over: endpointing tuned for the phone, per agent and per step.

LiveKit's turn detector holds a turn it thinks unfinished until the maximum endpointing delay
(2.5 s after the end of speech for a streaming detector). On the phone most holds are short
answers the model cannot tell are complete -- "yes", "It's Sam Rivera", "four" -- and the
caller then waits in silence for 2-3 s. So:

- the session: dynamic endpointing (the minimum delay follows the caller's own pauses, so a
  caller who pauses mid-sentence is not cut off) and a 2.0 s ceiling instead of 2.5 s;
- where the answer is expected to be short (the confirmation agent; the order agent when it
  has asked for the name), a 1.0 s ceiling: a held "yes" commits 1.0 s after speech ends.

Preemptive generation stays on (LiveKit's default): the reply is drafted from the final
transcript while endpointing waits, so a commit is answered at once.
`AUDIO_LEVERS_OFF=short_answers,dynamic_endpointing` restores LiveKit's defaults (the
benchmark's before figures; call_options.py).
"""

from __future__ import annotations

import logging
from typing import Any

from livekit.agents.voice.turn import EndpointingOptions

SESSION_ENDPOINTING: EndpointingOptions = {"mode": "dynamic", "max_delay": 2.0}
SHORT_ANSWER_ENDPOINTING: EndpointingOptions = {"max_delay": 1.0}

# set from call_options (AUDIO_LEVERS_OFF) once per process, before any call
enabled = {"dynamic_endpointing": True, "short_answers": True, "phone_threshold": True}

# The turn detector's "unlikely" thresholds for phone speech (end-of-turn probability below
# which a turn waits for the maximum delay). LiveKit ships 0.36 for English, calibrated on its
# own audio; on 8 kHz phone speech bench/voice.py measured what separates complete sentences
# from a caller pausing inside one (bench/README.md §6d). Languages not named keep LiveKit's.
PHONE_UNLIKELY_THRESHOLDS: dict[str, float] = {"en": 0.36}


def session_endpointing() -> EndpointingOptions | None:
    """The session-wide endpointing options (None: LiveKit's defaults)."""
    return dict(SESSION_ENDPOINTING) if enabled["dynamic_endpointing"] else None  # type: ignore[return-value]


def session_turn_handling(turn_detection: Any) -> dict[str, Any]:
    """`turn_handling=` for the AgentSession."""
    options: dict[str, Any] = {"turn_detection": turn_detection}
    if (endpointing := session_endpointing()) is not None:
        options["endpointing"] = endpointing
    return options


class _OurThresholdWarning(logging.Filter):
    """LiveKit warns on every call's detector that a threshold is not its default; ours is
    deliberate and measured, so the worker says it once at start instead (install_logging)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("a non-default turn detection threshold")


def install_logging() -> None:
    """Once per process: one line naming our thresholds instead of a warning per call."""
    if enabled["phone_threshold"]:
        logging.getLogger("livekit.agents").addFilter(_OurThresholdWarning())
        logging.getLogger("restaurant.turn_taking").info(
            "turn detector thresholds for phone speech: %s (LiveKit's own elsewhere)",
            PHONE_UNLIKELY_THRESHOLDS)


def detector_options() -> dict[str, Any]:
    """Keyword arguments for `inference.TurnDetector` ({}: LiveKit's calibrated defaults)."""
    if not enabled["phone_threshold"]:
        return {}
    return {"unlikely_threshold": dict(PHONE_UNLIKELY_THRESHOLDS)}


def endpointing_for(short_answer: bool) -> EndpointingOptions:
    """An agent's endpointing overrides for the answer it waits for; {} inherits the session's."""
    if short_answer and enabled["short_answers"]:
        return dict(SHORT_ANSWER_ENDPOINTING)  # type: ignore[return-value]
    return {}


def agent_turn_handling(short_answer: bool) -> dict[str, Any]:
    """`turn_handling=` for an Agent's constructor."""
    endpointing = endpointing_for(short_answer)
    return {"endpointing": endpointing} if endpointing else {}
