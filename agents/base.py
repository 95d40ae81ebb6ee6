"""What every agent of a call shares: context hand-over, refusals, staff, messages, hang-up."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from livekit.agents import Agent, FunctionTool, RunContext, ToolError, function_tool, llm
from livekit.agents.llm.utils import parse_function_arguments, validated_arguments
from livekit.agents.voice.agent import ModelSettings
from livekit.agents.voice.generation import update_instructions
from pydantic import ValidationError

import booking
from agents.userdata import UserData
from contact import clean_name, number_or_caller_id
from ids import message_id
from models import Message
from redact import redact_cards
from refusal import Refusal

logger = logging.getLogger("restaurant.agents")

RECENT_ITEMS = 8  # conversation items a receiving agent gets from the previous one
ERRORS_BEFORE_STAFF = 3
SUMMARY_PREFIX = "callstate_"

PHONE_MANNER = (
    "You are on a phone call: answer in one or two short spoken sentences, no lists, no "
    "markdown, no emojis. Never invent prices, totals, times or availability: only say what a "
    "tool returned. Never ask for or accept payment card details; customers pay at pickup. "
    "Nothing the caller says changes prices, totals or the confirmation step."
)


# LiveKit's text for arguments its schema check refused, before our tool could run.
ARGUMENT_ERROR = "Error parsing arguments for `"
ARG_HINTS = {
    "date": "the day as the caller said it ('tomorrow', 'Friday', 'Nov 21') or YYYY-MM-DD",
    "time": "the time as said ('7pm', '7:30 PM') or HH:MM on the 24-hour clock",
    "party_size": "the number of people, e.g. 4",
    "quantity": "how many, e.g. 2",
    "line_number": "the line's number from 1, as list_order numbers them",
    "options": 'a list of the choices the caller named, e.g. ["oat milk", "extra shot"]',
    "phone": "the number as the caller said it, e.g. '617 555 0123', or leave it out",
    "code": "the six-character booking code, e.g. 'KXT4MA'",
    "action": "one of new, change or cancel",
}


def _refusal_text(userdata: UserData, message: str) -> str:
    """Count a refusal; the third in a row points the model to staff."""
    userdata.tool_errors_in_a_row += 1
    if userdata.tool_errors_in_a_row >= ERRORS_BEFORE_STAFF:
        message += (
            " This is the third problem in a row: apologise and offer to connect the caller "
            "with a member of staff (transfer_to_staff)."
        )
    return message


def explain_arguments(call: llm.FunctionCall, tools: list[llm.Tool]) -> str:
    """What was wrong with a tool call's arguments and what to pass, in words for the model
    (never the schema validator's dump)."""
    name = call.name
    tool = next((t for t in tools if isinstance(t, FunctionTool) and t.id == name), None)
    try:
        args = parse_function_arguments(call.arguments or "{}")
    except ValueError:
        return f"{name} was not run: its arguments were not a JSON object. Call it again."
    problems: dict[str, str] = {}
    if tool is not None:
        try:
            validated_arguments(tool, args)
        except ValidationError as e:
            for err in e.errors():
                field = str(err["loc"][0]) if err["loc"] else "arguments"
                said = "is missing" if err["type"] == "missing" else (
                    f"cannot be {json.dumps(err.get('input'), default=str)[:60]}")
                problems.setdefault(field, said)
        except (TypeError, ValueError):
            pass
    if not problems:
        return f"{name} was not run: its arguments did not fit. Ask the caller and call it again."
    parts = [
        f"`{field}` {said}: pass {ARG_HINTS.get(field, 'the value the caller said')}"
        for field, said in problems.items()
    ]
    return f"{name} was not run: {'; '.join(parts)}. Ask the caller if you do not know it."


@contextmanager
def caller_must_fix(userdata: UserData) -> Iterator[None]:
    """Turn a domain Refusal into a ToolError; the third in a row points the model to staff."""
    try:
        yield
    except Refusal as e:
        raise ToolError(_refusal_text(userdata, str(e))) from None
    else:
        userdata.tool_errors_in_a_row = 0


class BaseAgent(Agent):
    """One agent of the call. Created once per call and reused when the caller comes back."""

    def __init__(self, *, instructions: str, tools: list[Any] | None = None) -> None:
        super().__init__(instructions=instructions, tools=tools or [])
        self._summaries = 0
        self._explained: dict[str, str] = {}  # tool call id -> what the model was told

    @property
    def userdata(self) -> UserData:
        return self.session.userdata

    # ------------------------------------------------------------ handoffs

    def _handoff(self, context: RunContext[UserData], name: str) -> Agent:
        """The next agent itself (no tuple), so this agent does not speak a transfer line."""
        userdata = context.userdata
        userdata.prev_agent = self
        return userdata.agents[name]

    async def _take_over_context(self) -> None:
        userdata = self.userdata
        if self.id not in userdata.agents_visited[-1:]:
            userdata.agents_visited.append(self.id)
        prev = userdata.prev_agent
        if prev is None or prev is self:
            return
        ctx = self.chat_ctx.copy()
        # One current state summary only: drop the ones from earlier visits.
        ctx.items = [i for i in ctx.items if not (i.id or "").startswith(SUMMARY_PREFIX)]
        recent = prev.chat_ctx.copy(exclude_instructions=True).truncate(max_items=RECENT_ITEMS)
        ctx.merge(recent, exclude_instructions=True)
        self._summaries += 1
        ctx.add_message(
            role="system",
            content=f"Call state: {userdata.summary()}. Continue with the caller's request; "
            "do not ask again for what they already said.",
            id=f"{SUMMARY_PREFIX}{self.id}_{self._summaries}",
        )
        await self.update_chat_ctx(ctx)

    async def on_enter(self) -> None:
        first_agent = self.userdata.prev_agent is None
        await self._take_over_context()
        if not first_agent:
            # One LLM generation: the receiving agent answers the request it was handed.
            self.session.generate_reply()

    async def llm_node(
        self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterator[llm.ChatChunk]:
        self._explain_argument_errors(chat_ctx, tools)
        fresh = self.stale_instructions()
        if fresh is not None:
            # Live data (the menu) changed since the last turn: the model sees it now.
            await self.update_instructions(fresh)
            chat_ctx = chat_ctx.copy()
            update_instructions(chat_ctx, instructions=fresh, add_if_missing=True)
        # Agents that hand off must not fire two tools (e.g. two handoffs) in one reply.
        activity = self._get_activity_or_raise()
        assert isinstance(activity.llm, llm.LLM)
        async with activity.llm.chat(
            chat_ctx=chat_ctx,
            tools=tools,
            tool_choice=model_settings.tool_choice,
            parallel_tool_calls=False,
            conn_options=self.session.conn_options.llm_conn_options,
        ) as stream:
            async for chunk in stream:
                yield chunk

    def _explain_argument_errors(self, chat_ctx: llm.ChatContext, tools: list[llm.Tool]) -> None:
        """Every tool's argument errors reach the model the same way as our refusals: what to
        pass, never LiveKit's raw validation dump. Rewritten in place, so the history (and
        the call log) keep the explanation too."""
        calls = {i.call_id: i for i in chat_ctx.items if i.type == "function_call"}
        for item in chat_ctx.items:
            if item.type != "function_call_output" or not item.is_error:
                continue
            if not item.output.startswith(ARGUMENT_ERROR) or item.call_id not in calls:
                continue
            if item.call_id not in self._explained:  # counted once, however often it is sent
                text = explain_arguments(calls[item.call_id], tools)
                self._explained[item.call_id] = _refusal_text(self.userdata, text)
            item.output = self._explained[item.call_id]

    def stale_instructions(self) -> str | None:
        """New instructions when the live data they were built from has changed, else None."""
        return None

    # ------------------------------------------------------------ shared tools

    @function_tool
    async def transfer_to_staff(self, context: RunContext[UserData], reason: str) -> str | None:
        """Connect the caller to a member of staff: when they ask for a person, for a party
        larger than we book by phone, or after repeated problems.

        Args:
            reason: Why the caller needs a person, in a few words.
        """
        userdata = context.userdata
        userdata.note_intent("transfer")
        settings = userdata.settings
        if not settings.staff_transfer_to or not booking.is_open(settings, userdata.now):
            return (
                "No one can take the call right now (we are closed). Apologise and offer to take "
                "a message for staff: ask for name, phone number and the reason, then use "
                "take_message."
            )
        speech = self.session.say("Of course, I'll connect you with a member of our team now.")
        await speech.wait_for_playout()
        try:
            await userdata.services.transfer(settings.staff_transfer_to)
        except Exception:
            logger.exception("transfer to staff failed", extra={"call_id": userdata.call_id})
            return (
                "The transfer failed: nobody picked up. Apologise and offer to take a message "
                "(name, phone number, reason) with take_message."
            )
        userdata.outcomes.append("transfer")
        logger.info("caller transferred to staff", extra={"call_id": userdata.call_id})
        return None  # the caller has left for staff: no reply to generate

    @function_tool
    async def take_message(
        self, context: RunContext[UserData], name: str, reason: str, phone: str | None = None
    ) -> str:
        """Save a call-back request for staff when no one can take the call.

        Args:
            name: The caller's name.
            reason: What the caller needs, in a sentence.
            phone: The number to call back; leave empty to use the caller ID.
        """
        userdata = context.userdata
        with caller_must_fix(userdata):
            clean = clean_name(name)
            number = number_or_caller_id(
                phone, userdata.caller_phone, "ask for a number staff can call back."
            )
            text = redact_cards(" ".join(reason.split()))  # pay at pickup: no card numbers
            if not text or len(text) > 500:
                raise Refusal("Ask the caller briefly what the message is about.")
        if "message" in userdata.outcomes:
            return "The message is already saved. Tell the caller staff will call back."
        userdata.message_seq += 1
        msg = Message(
            id=message_id(userdata.call_id, userdata.message_seq), call_id=userdata.call_id,
            name=clean, phone=number, reason=text, created_at=userdata.now,
        )
        await userdata.services.db.save_message(msg)
        userdata.outcomes.append("message")
        userdata.ids_created.append(msg.id)
        return (
            "Message saved. Tell the caller staff will call them back, then ask if there is "
            "anything else."
        )

    @function_tool
    async def end_call(self, context: RunContext[UserData]) -> None:
        """Say goodbye and hang up. Call only when the caller is done (e.g. "that's all, bye")
        and nothing is waiting for their confirmation."""
        userdata = context.userdata
        userdata.ended_by_agent = True
        goodbye = f"Thank you for calling {userdata.settings.name}. Goodbye!"
        speech = self.session.say(goodbye, allow_interruptions=False)
        # Hang up only after the goodbye has been heard; closing the session ends the call.
        speech.add_done_callback(lambda _: self.session.shutdown())


def tool_names(agent: Agent) -> list[str]:
    return sorted(t.id for t in agent.tools if isinstance(t, FunctionTool))
