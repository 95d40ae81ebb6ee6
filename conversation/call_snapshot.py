"""A call's resumable state: saved as it changes, read back by a re-dispatched agent.

When the job process handling a call dies (an OOM kill, a crash) or its whole worker does, the
call watcher (services/call_watch.py) dispatches a new agent into the same room. That agent finds
this state under the room's name and picks the call up where it was: the stage, the cart, the
customer, the booking draft, the per-call id counters and what was saved and told to the
caller. Ids derived from those counters make a confirmation replayed after a crash the same
record again ("already saved"), never a twin.

Saving is cheap and off the audio path: a snapshot is a few dicts, written in the background,
one write in flight at a time, later changes coalesced into the next write, unchanged
snapshots not written at all. A lost write costs only resumability, never the call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from actions.state import CallState, ReservationDraft, achieved_outcome
from domain.masking import mask_personal
from domain.redact import redact_cards
from models import Order, OrderLine, TranscriptLine

if TYPE_CHECKING:
    from livekit.agents import AgentSession, AgentStateChangedEvent, llm

    from store import FirebaseManager

logger = logging.getLogger("restaurant.call_snapshot")
# The call so far, for the resumed agent's log and, if no agent resumes, the crashed call's log
# (its model is given only the last few lines, agents/call.py). Bounded: one document each.
TRANSCRIPT_LINES = 200
STATE_READ_TIMEOUT_S = 1.0


class CallSnapshot(BaseModel):
    call_id: str
    stage: str = "classifier"  # the key in UserData.agents of the agent the caller was with
    cart: list[OrderLine] = []
    customer_name: str | None = None
    customer_phone: str | None = None
    reservation: dict[str, Any] | None = None  # a ReservationDraft's fields
    pending_order: Order | None = None
    order_seq: int = 0
    reservation_seq: int = 0
    message_seq: int = 0
    ids_created: list[str] = []
    outcomes: list[str] = []
    intents: list[str] = []
    agents_visited: list[str] = []
    last_confirmation: str | None = None
    transcript: list[TranscriptLine] = []
    resumed: int = 0
    started_at: datetime | None = None
    language: str = "en"  # the caller's language (agents/language.py): a resumed call keeps it
    languages: list[str] = []

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_doc(cls, data: dict[str, Any]) -> CallSnapshot:
        return cls.model_validate(data)


def _draft_doc(draft: ReservationDraft | None) -> dict[str, Any] | None:
    if draft is None:
        return None
    return {k: v.isoformat() if isinstance(v, date | time) else v for k, v in vars(draft).items()}


def _draft(doc: dict[str, Any] | None) -> ReservationDraft | None:
    if doc is None:
        return None
    d = dict(doc)
    d["day"] = date.fromisoformat(d["day"]) if d.get("day") else None
    d["at"] = time.fromisoformat(d["at"]) if d.get("at") else None
    return ReservationDraft(**d)


def stage_of(agents: Mapping[str, object], agent: object) -> str:
    """The key (in UserData.agents) of `agent`, the one the caller is with."""
    for key, candidate in agents.items():
        if candidate is agent:
            return key
    return "classifier"  # e.g. the message taker: a resumed call starts from the top


def capture(userdata: CallState, stage: str, transcript: list[TranscriptLine],
            started_at: datetime | None) -> CallSnapshot:
    return CallSnapshot(
        call_id=userdata.call_id, stage=stage, cart=list(userdata.cart.lines),
        customer_name=userdata.cart.customer_name,
        customer_phone=userdata.cart.customer_phone,
        reservation=_draft_doc(userdata.reservation),
        pending_order=userdata.cart.pending_order,
        order_seq=userdata.order_seq, reservation_seq=userdata.reservation_seq,
        message_seq=userdata.message_seq, ids_created=list(userdata.ids_created),
        outcomes=list(userdata.outcomes), intents=list(userdata.intents),
        agents_visited=list(userdata.agents_visited),
        last_confirmation=userdata.last_confirmation, transcript=transcript[-TRANSCRIPT_LINES:],
        resumed=userdata.resumed, started_at=started_at,
        language=userdata.language, languages=list(userdata.languages_used),
    )


def restore(state: CallSnapshot, userdata: CallState) -> None:
    """Put a crashed agent's state into a new call's CallState (this agent is one more resume)."""
    userdata.cart.lines = list(state.cart)
    userdata.cart.customer_name = state.customer_name or userdata.cart.customer_name
    userdata.cart.customer_phone = state.customer_phone
    userdata.reservation = _draft(state.reservation)
    userdata.cart.pending_order = state.pending_order
    userdata.order_seq = state.order_seq
    userdata.reservation_seq = state.reservation_seq
    userdata.message_seq = state.message_seq
    userdata.ids_created = list(state.ids_created)
    userdata.outcomes = list(state.outcomes)
    userdata.intents = list(state.intents)
    userdata.agents_visited = list(state.agents_visited)
    userdata.last_confirmation = state.last_confirmation
    userdata.resumed = state.resumed + 1
    userdata.language = state.language
    userdata.languages_used = list(state.languages) or [state.language]


def crash_log_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """What the log of a call no agent finished says, from the state its last agent saved:
    the transcript (masked as every call log is), the agents, what was asked and achieved.
    Passed to the store's `mark_call_crashed` by the reaper (services/call_reaper.py)."""
    state = CallSnapshot.from_doc(doc)
    return {
        "transcript": [{"role": line.role, "text": mask_personal(line.text)}
                       for line in state.transcript],
        "agents_visited": list(state.agents_visited), "intents": list(state.intents),
        "ids_created": list(state.ids_created),
        "outcome": achieved_outcome(state.outcomes) or "abandoned",
        "language": state.language, "languages": list(state.languages) or [state.language],
        "resumed": state.resumed,
    }


def transcript_of(history: llm.ChatContext) -> list[TranscriptLine]:
    lines: list[TranscriptLine] = []
    for item in history.items:
        if item.type == "message" and item.role in ("user", "assistant") and item.text_content:
            lines.append(TranscriptLine(role=item.role, text=redact_cards(item.text_content)))
    return lines


class SnapshotSaver:
    """Saves the call's state after every tool call and at the end of every agent turn, in the
    background: a tool is what changes the cart, the booking draft, the customer or what was
    saved (written at once, so a confirmation replayed after a crash is recognised), and the
    turn's end carries the transcript. Items added mid-turn and the agent's other state changes
    (thinking, speaking) are not writes of their own: they measured 3.5 writes a caller turn,
    now 2.9 (13.3 then 11.0 a call over the 43 eval scenarios, tests/evals/results.md)."""

    def __init__(self, session: AgentSession, userdata: CallState,
                 earlier: list[TranscriptLine] | None = None,
                 started_at: datetime | None = None,
                 agents: Mapping[str, object] | None = None) -> None:
        self.session = session
        self.userdata = userdata
        self.agents = agents if agents is not None else {}  # the call's agents by stage
        self.earlier = list(earlier or [])  # what was said before a crash
        self.started_at = started_at
        self.writes = 0
        self._last: dict[str, Any] | None = None
        self._dirty = False
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        session.on("function_tools_executed", self.changed)
        session.on("agent_state_changed", self._turn_over)

    def _turn_over(self, event: AgentStateChangedEvent) -> None:
        if getattr(event, "new_state", None) == "listening":
            self.changed()

    def changed(self, _event: object = None) -> None:
        if self._closed:
            return
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._flush())

    def snapshot(self) -> CallSnapshot:
        stage = stage_of(self.agents, self.session.current_agent) if self._started() else (
            "classifier")
        transcript = self.earlier + transcript_of(self.session.history)
        return capture(self.userdata, stage, transcript, self.started_at)

    def _started(self) -> bool:
        try:
            self.session.current_agent  # noqa: B018 - raises before the session starts
        except RuntimeError:
            return False
        return True

    async def _flush(self) -> None:
        while self._dirty and not self._closed:
            self._dirty = False
            doc = self.snapshot().to_doc()
            if doc == self._last:
                continue
            try:
                await self.userdata.services.db.save_call_snapshot(self.userdata.call_id, doc)
            except Exception as e:  # resumability is lost for now, never the call
                logger.warning("call state not saved: %s", type(e).__name__,
                               extra={"call_id": self.userdata.call_id})
                continue
            self._last = doc
            self.writes += 1

    async def close(self) -> None:
        """The call is over: no more writes, and the state is deleted (it holds the caller's
        details and would make a late dispatch think the call is still going)."""
        self._closed = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self.userdata.services.db.drop_call_snapshot(self.userdata.call_id)
        except Exception as e:
            logger.warning("call state not deleted: %s", type(e).__name__,
                           extra={"call_id": self.userdata.call_id})


async def load_for(db: FirebaseManager, call_id: str) -> CallSnapshot | None:
    """The state a crashed agent left for this call, if any (bounded: a greeting waits on it)."""
    try:
        doc = await asyncio.wait_for(db.load_call_snapshot(call_id), STATE_READ_TIMEOUT_S)
    except Exception as e:
        logger.warning("call state not read: %s", type(e).__name__, extra={"call_id": call_id})
        return None
    if doc is None:
        return None
    try:
        return CallSnapshot.from_doc(doc)
    except ValueError:
        logger.exception("call state unreadable; starting the call afresh",
                         extra={"call_id": call_id})
        return None
