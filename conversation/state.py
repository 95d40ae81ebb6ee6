"""One call's state as its agents share it: the call's own state (`actions.state.CallState`:
cart, booking draft, services, clock, outcomes) plus what only the conversation holds: which
agent is which, the agent before a hand-over, and the writers of the call log and snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from actions.state import CallServices, CallState, ReservationDraft

if TYPE_CHECKING:
    from livekit.agents import Agent

    from conversation.call_log import CallRecorder
    from conversation.call_snapshot import SnapshotSaver

__all__ = ["CallServices", "CallState", "ReservationDraft", "UserData"]


@dataclass
class UserData(CallState):
    agents: dict[str, Agent] = field(default_factory=dict)
    prev_agent: Agent | None = None
    recorder: CallRecorder | None = None  # writes this call's log
    state_saver: SnapshotSaver | None = None  # keeps this call resumable
    # who ends the caller's turns: the local detector or Deepgram Flux (conversation/turn_taking)
    turn_path: Literal["local", "flux"] = "local"
