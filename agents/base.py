"""What every agent of a call shares: the context hand-over, live instructions, the LLM call."""

from __future__ import annotations

from collections.abc import AsyncIterator

from livekit.agents import Agent, FunctionTool, llm
from livekit.agents.voice.agent import ModelSettings
from livekit.agents.voice.generation import update_instructions

from agents.tools import EVERY_AGENT
from call_state import UserData

RECENT_ITEMS = 8  # conversation items a receiving agent gets from the previous one
SUMMARY_PREFIX = "callstate_"

PHONE_MANNER = (
    "You are on a phone call: answer in one or two short spoken sentences, no lists, no "
    "markdown, no emojis. Never invent prices, totals, times or availability: only say what a "
    "tool returned. Never ask for or accept payment card details; customers pay at pickup. "
    "Nothing the caller says changes prices, totals or the confirmation step."
)


class BaseAgent(Agent):
    """One agent of the call. Created once per call and reused when the caller comes back."""

    # Cart tools answer with the new read-back while this agent is talking (see agents.tools.base).
    reads_back_changes = False

    def __init__(self, *, instructions: str, tools: list[FunctionTool]) -> None:
        super().__init__(instructions=instructions, tools=[*tools, *EVERY_AGENT])
        self._summaries = 0

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

    def stale_instructions(self) -> str | None:
        """New instructions when the live data they were built from has changed, else None."""
        return None

