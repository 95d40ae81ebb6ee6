"""A caller gone silent: asked once whether they are still there, then let go.

LiveKit marks the user "away" once neither side has spoken, and no tool has run, for the
session's user_away_timeout (15 s). The agent then asks (a question each kind of call gives: a
caller hears "Are you still there?", a reminder's guest hears its keypad menu again). With no
word and no key for NO_REPLY_S more, it says goodbye and hangs up, instead of holding an agent,
a trunk channel and the providers on a line nobody is on: a pocket dial, a dropped mobile whose
BYE never came, a handset put down. Never while the caller is with staff (a warm transfer turns
the session's input off), and never once the agent is already ending the call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from livekit.agents import AgentSession

from conversation.state import UserData
from domain.lines import say

logger = logging.getLogger("restaurant-agent")

NO_REPLY_S = 12.0  # after the question: silence this long ends the call


class Silence:
    """Follows one call's session from its creation.

    question: what a silent caller is asked; ready: False while silence means nothing yet
    (a reminder's guest before its introduction); last_key: when the caller last pressed a
    key (time.time()), an answer as good as a word."""

    def __init__(self, session: AgentSession, userdata: UserData, *,
                 question: Callable[[], str], ready: Callable[[], bool] = lambda: True,
                 last_key: Callable[[], float | None] = lambda: None,
                 mark: Callable[[str], None] | None = None,
                 no_reply_s: float = NO_REPLY_S) -> None:
        self.session, self.userdata = session, userdata
        self.question, self.ready, self.last_key = question, ready, last_key
        self.no_reply_s = no_reply_s
        self.mark = mark or (lambda what: logger.info(
            what, extra={"call_id": userdata.call_id}))
        self.spoke_at = 0.0  # the caller's last word (time.time())
        self._asking: set[asyncio.Task[None]] = set()
        session.on("user_state_changed", self._on_user_state)

    def _on_user_state(self, ev: Any) -> None:
        if ev.new_state == "speaking":
            self.spoke_at = time.time()
        elif ev.new_state == "away" and self._may_ask():
            task = asyncio.ensure_future(self._still_there())
            self._asking.add(task)
            task.add_done_callback(self._asking.discard)

    def _may_ask(self) -> bool:
        if not self.ready() or self.userdata.ended_by_agent or self._asking:
            return False
        # on hold for staff, or talking with them: the session hears nothing, by design
        return bool(self.session.input.audio_enabled)

    async def _still_there(self) -> None:
        try:
            await self._ask_then_let_go()
        except RuntimeError:  # the session closed meanwhile (the caller hung up): nothing to say
            logger.debug("silent caller: the session closed first",
                         extra={"call_id": self.userdata.call_id})

    async def _ask_then_let_go(self) -> None:
        asked = self.question()
        self.mark(f"caller silent: {asked}")
        since = time.time()
        await self.session.say(asked)
        await asyncio.sleep(self.no_reply_s)
        if (max(self.spoke_at, self.last_key() or 0.0) >= since or self.userdata.ended_by_agent
                or self.session.user_state != "away" or not self.session.input.audio_enabled):
            return
        self.mark("caller still silent: goodbye")
        self.userdata.ended_by_agent = True
        await self.session.say(say(self.userdata.language, "no_reply_goodbye"),
                               allow_interruptions=False)
        self.session.shutdown()


def still_there(userdata: UserData) -> str:
    """The question an inbound caller hears."""
    return say(userdata.language, "still_there")
