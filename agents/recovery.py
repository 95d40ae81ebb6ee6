"""When the AI providers fail for good, the caller still gets an answer from us.

`worker/providers.py` fails over between providers within a second or two. When every provider of a
kind has failed, the session emits an unrecoverable error and `CallGuard` takes over with
fixed lines that need no LLM:

* LLM, first failed turn: apologise and ask the caller to say it again (or ask for a person);
* LLM, second failed turn in a row, or STT (we cannot hear the caller): apologise and transfer
  to staff when the restaurant is open and a staff number is set; otherwise take a message
  (LLM down: the caller's next words are saved verbatim for staff, with the caller ID) or,
  when the caller cannot be heard, ask them to call back and end the call;
* TTS (we cannot speak): transfer to staff if possible, else end the call (it is logged).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from livekit.agents import Agent, AgentSession, llm
from livekit.agents.voice.agent import ModelSettings
from livekit.agents.voice.events import ConversationItemAddedEvent, ErrorEvent

from actions import messages, staff
from conversation.state import UserData
from domain.lines import say
from models import Message

logger = logging.getLogger("restaurant.recovery")

# The English lines (tests name them); the caller hears them in their language (domain/lines.py).
SAY_AGAIN = say("en", "say_again")
TRANSFERRING = say("en", "transferring")
TAKE_MESSAGE = say("en", "take_message")
MESSAGE_TAKEN = say("en", "message_taken")
CANNOT_HEAR = say("en", "cannot_hear")
FIXED_LINES = (SAY_AGAIN, TRANSFERRING, TAKE_MESSAGE, MESSAGE_TAKEN, CANNOT_HEAR)
FAILED_TURNS_BEFORE_STAFF = 2


class CallGuard:
    """Watches one session's errors and speaks for the agent when the models cannot."""

    def __init__(self, session: AgentSession, userdata: UserData) -> None:
        self.session = session
        self.userdata = userdata
        self.failed_turns = 0
        self.escalated: str | None = None  # "transfer", "message", "hangup"
        self.timeline: list[tuple[str, str]] = []  # (what, detail) for the call's diagnostics
        self._error_this_turn = False
        self._tasks: set[asyncio.Task[Any]] = set()
        session.on("error", self._on_error)
        session.on("conversation_item_added", self._on_item)

    # ------------------------------------------------------------ events

    def _on_item(self, ev: ConversationItemAddedEvent) -> None:
        item = ev.item
        if isinstance(item, llm.ChatMessage) and item.role == "user":
            if not self._error_this_turn:
                self.failed_turns = 0
            self._error_this_turn = False

    def _on_error(self, ev: ErrorEvent) -> None:
        error = ev.error
        if getattr(error, "recoverable", True) or self.escalated:
            return
        kind = getattr(error, "type", "")
        logger.warning("%s after every provider failed", kind,
                       extra={"call_id": self.userdata.call_id})
        if kind == "llm_error":
            if self._error_this_turn:
                return  # one apology per turn
            self._error_this_turn = True
            self.failed_turns += 1
            if self.failed_turns < FAILED_TURNS_BEFORE_STAFF:
                apology = self.line("say_again")
                self.timeline.append(("apology", apology))
                self.session.say(apology)
                return
            self._spawn(self._escalate("llm"))
        elif kind == "stt_error":
            self._spawn(self._escalate("stt"))
        elif kind == "tts_error":
            self._spawn(self._escalate("tts"))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ taking over

    def line(self, key: str) -> str:
        """A fixed line in the caller's language."""
        return say(self.userdata.language, key)

    async def _say(self, text: str) -> None:
        self.timeline.append(("say", text))
        handle = self.session.say(text, allow_interruptions=False)
        try:
            await asyncio.wait_for(handle.wait_for_playout(), 30)
        except TimeoutError:
            logger.warning("fixed line not played out in 30s",
                           extra={"call_id": self.userdata.call_id})

    async def _escalate(self, why: str) -> None:
        if self.escalated:
            return
        userdata = self.userdata
        self.escalated = "pending"
        userdata.note_intent("transfer")
        destination = staff.staff_line(userdata.settings, userdata.now)
        if destination is not None:
            if why != "tts":
                await self._say(self.line("transferring"))
            try:
                await staff.transfer_to_staff(userdata, destination)
            except Exception:
                logger.exception("transfer to staff failed", extra={"call_id": userdata.call_id})
            else:
                self.escalated = "transfer"
                self.timeline.append(("transfer", destination))
                return
        if why == "llm":
            self.escalated = "message"
            # The next turn must reach the message taker, even if the caller talks over us.
            self.session.update_agent(MessageTaker(self))
            await self._say(self.line("take_message"))
            return
        self.escalated = "hangup"
        if why == "stt":
            await self._say(self.line("cannot_hear"))
        self.hang_up()

    def hang_up(self) -> None:
        self.userdata.ended_by_agent = True
        self.timeline.append(("hangup", ""))
        self.session.shutdown()

    async def save_message(self, said: str) -> Message:
        """The caller's own words, for staff; the number from the words or the caller ID."""
        msg = await messages.save_caller_words(self.userdata, said)
        self.timeline.append(("message", msg.id))
        return msg


class MessageTaker(Agent):
    """Needs no LLM: the caller's next turn is the message, and the reply is a fixed line."""

    def __init__(self, guard: CallGuard) -> None:
        super().__init__(instructions="Take a message for staff (fixed lines only).")
        self.guard = guard

    async def on_enter(self) -> None:
        self.guard.userdata.agents_visited.append("message_taker")

    async def llm_node(
        self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterator[str]:
        said = next((i.text_content or "" for i in reversed(chat_ctx.items)
                     if isinstance(i, llm.ChatMessage) and i.role == "user"), "")
        if "message" not in self.guard.userdata.outcomes:
            try:
                await self.guard.save_message(said)
            except Exception:
                logger.exception("message could not be saved",
                                 extra={"call_id": self.guard.userdata.call_id})
        speech = self.session.current_speech
        if speech is not None:
            speech.add_done_callback(lambda _: self.guard.hang_up())
        yield self.guard.line("message_taken")


def guard_call(session: AgentSession, userdata: UserData) -> CallGuard:
    """Attach the guard to a started (or starting) call session."""
    return CallGuard(session, userdata)
