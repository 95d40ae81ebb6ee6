"""What every agent of a call shares: the context hand-over, live instructions, the LLM call."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from livekit.agents import Agent, FunctionTool, llm
from livekit.agents.llm.utils import parse_function_arguments, validated_arguments
from livekit.agents.voice.agent import ModelSettings
from livekit.agents.voice.generation import update_instructions
from livekit.agents.voice.turn import TurnHandlingOptions
from pydantic import ValidationError

from agents.language import language_note
from agents.tools import EVERY_AGENT
from agents.tools.base import refusal_text
from conversation import turn_taking
from conversation.state import UserData

RECENT_ITEMS = 8  # conversation items a receiving agent gets from the previous one
SUMMARY_PREFIX = "callstate_"

PHONE_MANNER = (
    "You are on a phone call: answer in one or two short spoken sentences, no lists, no "
    "markdown, no emojis. Ask one question at a time. Never invent prices, totals, times or "
    "availability: only say what a tool returned. Never say an item was added, a table booked "
    "or a message taken unless a tool said so in this call. When a tool returns an error, "
    "never read it out: ask the caller, in plain words, for what it says is missing. "
    "Allergies and diets: answer only from menu_info, never from what you know about a dish; "
    "if it cannot promise, say so and offer staff. Never ask for or accept payment card "
    "details; customers pay at pickup. Nothing the caller says changes prices, totals or the "
    "confirmation step."
)
# Said to the model when LiveKit's step limit stops a turn's tool calls (tool_choice "none").
STEP_LIMIT_NOTE = (
    "You cannot call more tools this turn. Only what the tool results above say was added, "
    "changed or saved has been done; anything else the caller asked for has NOT been done. "
    "Tell the caller exactly what was done and ask them to repeat the rest."
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


def _after_tool_calls(chat_ctx: llm.ChatContext) -> bool:
    """Whether this request follows tool results of the caller's current turn."""
    return bool(chat_ctx.items) and chat_ctx.items[-1].type == "function_call_output"


class BaseAgent(Agent):
    """One agent of the call. Created once per call and reused when the caller comes back."""

    # Cart tools answer with the new read-back while this agent is talking (see agents.tools.base).
    reads_back_changes = False
    # The answers this agent waits for are short (yes/no): a shorter endpointing ceiling.
    short_answers = False

    def __init__(self, *, instructions: str, tools: list[FunctionTool],
                 turn_handling: TurnHandlingOptions | None = None) -> None:
        super().__init__(
            instructions=instructions, tools=[*tools, *EVERY_AGENT],
            turn_handling=(turn_handling if turn_handling is not None  # type: ignore[arg-type]
                           else turn_taking.agent_turn_handling(self.short_answers)),
        )
        self._short_now = self.short_answers
        self._number_now = False
        self._plain_instructions = instructions  # without the caller's language note
        self._summaries = 0
        self._explained: dict[str, str] = {}  # tool call id -> what the model was told

    @property
    def userdata(self) -> UserData:
        return self.session.userdata

    # ------------------------------------------------------------ handoffs

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
        # The conversation, not the previous agent's tool calls and outputs: small models
        # imitate tools they see used, and the summary below carries the state they produced.
        recent = prev.chat_ctx.copy(
            exclude_instructions=True, exclude_function_call=True
        ).truncate(max_items=RECENT_ITEMS)
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
        if fresh is not None:  # live data (the menu) changed since the last turn
            self._plain_instructions = fresh
        wanted = self.instructions_now()
        if wanted != self.instructions:
            # The menu or the caller's language changed: the model sees it on this request.
            fresh = wanted
            await self.update_instructions(fresh)
            chat_ctx = chat_ctx.copy()
            update_instructions(chat_ctx, instructions=fresh, add_if_missing=True)
        if model_settings.tool_choice == "none" and _after_tool_calls(chat_ctx):
            # the step limit stopped the turn mid-way: never claim what no tool did
            chat_ctx = chat_ctx.copy()
            chat_ctx.add_message(role="system", content=STEP_LIMIT_NOTE)
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

    def instructions_now(self) -> str:
        """The instructions with the note for the caller's language (none for English)."""
        note = language_note(self.userdata)
        return f"{self._plain_instructions}\n{note}" if note else self._plain_instructions

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
                self._explained[item.call_id] = refusal_text(self.userdata, text)
            item.output = self._explained[item.call_id]

    # ------------------------------------------------------------ turn taking

    def expects_short_answer(self) -> bool:
        """Whether the caller's next answer is a short one (a name, yes/no): see turn_taking."""
        return self.short_answers

    def expects_number(self) -> bool:
        """Whether the caller is saying a phone number (in pieces, with pauses)."""
        return False

    def sync_endpointing(self) -> None:
        """Called when the agent starts listening: the endpointing ceiling for the answer it
        now waits for (the agent's own otherwise)."""
        short, number = self.expects_short_answer(), self.expects_number()
        if (short, number) == (self._short_now, self._number_now):
            return
        was_number, self._short_now, self._number_now = self._number_now, short, number
        activity = self._get_activity_or_raise()
        path = self.userdata.turn_path
        opts = {**activity.endpointing_opts,
                **(turn_taking.session_endpointing(path) or {} if was_number else {}),
                **turn_taking.endpointing_for(short, number=number, path=path)}
        activity.update_options(endpointing_opts=opts)  # type: ignore[arg-type]

    def stale_instructions(self) -> str | None:
        """New instructions when the live data they were built from has changed, else None."""
        return None

