"""A scripted stand-in for the cloud LLM: one scripted reply per `chat()` call.

It speaks the real `llm.LLM`/`llm.LLMStream` interface, so AgentSession, tools and handoffs run
unmodified. Each request is recorded (instructions, tools offered, parallel_tool_calls) so tests
can assert what the model was shown and how many requests a turn cost.

A tool call is the same `ToolCall` the fake OpenAI server's scripts use (`fakes/script.py`;
`Call` here), and a `fakes.script.Step` is a step here too: one step format for both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import APIConnectionError, llm
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

from fakes.script import Step as FakeStep
from fakes.script import ToolCall

Call = ToolCall  # a tool call the model makes: Call("add_item", {"item": "latte"})


@dataclass(frozen=True)
class Fail:
    """The provider fails this request (for fault tests)."""

    message: str = "scripted provider failure"


Step = str | Call | list[str | Call] | FakeStep | Fail | Callable[["Request"], Any]


@dataclass
class Request:
    agent_instructions: str
    messages: list[tuple[str, str]]  # (role, text) of the chat context sent
    tool_names: list[str]
    parallel_tool_calls: Any
    prompt_chars: int
    tools_called_in_context: list[str] = field(default_factory=list)  # function calls shown


def _text_of(item: Any) -> str:
    content = getattr(item, "content", None)
    if isinstance(content, list):
        return " ".join(c for c in content if isinstance(c, str))
    if item.type == "function_call":
        return f"{item.name}({item.arguments})"
    if item.type == "function_call_output":
        return str(item.output)
    return ""


class ScriptedLLM(llm.LLM):
    def __init__(self, steps: list[Step] | None = None) -> None:
        super().__init__()
        self.steps: list[Step] = list(steps or [])
        self.requests: list[Request] = []
        self.overrun = False

    @property
    def model(self) -> str:
        return "scripted"

    def script(self, *steps: Step) -> None:
        self.steps.extend(steps)

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        messages = [(getattr(i, "role", i.type), _text_of(i)) for i in chat_ctx.items]
        request = Request(
            agent_instructions=next((t for r, t in messages if r in ("system", "developer")), ""),
            messages=messages,
            tool_names=sorted(getattr(t, "id", "") for t in (tools or [])),
            parallel_tool_calls=parallel_tool_calls,
            prompt_chars=sum(len(t) for _, t in messages),
            tools_called_in_context=[i.name for i in chat_ctx.items if i.type == "function_call"],
        )
        self.requests.append(request)
        if self.steps:
            step = self.steps.pop(0)
        else:
            self.overrun = True
            step = "Sorry, could you say that again?"
        if callable(step) and not isinstance(step, Call | Fail):
            step = step(request)
        return _ScriptedStream(self, step, chat_ctx=chat_ctx, tools=tools or [],
                               conn_options=conn_options)


class _ScriptedStream(llm.LLMStream):
    def __init__(self, owner: ScriptedLLM, step: Step, **kwargs: Any) -> None:
        super().__init__(owner, **kwargs)
        self._step = step

    async def _run(self) -> None:
        step = self._step
        if isinstance(step, Fail):
            raise APIConnectionError(step.message, retryable=False)
        if isinstance(step, FakeStep):
            step = [*([step.text] if step.text else []), *step.tool_calls]
        parts = step if isinstance(step, list) else [step]
        rid = uuid.uuid4().hex[:8]
        completion_chars = 0
        for part in parts:
            if isinstance(part, Call):
                args = json.dumps(part.arguments)
                completion_chars += len(args) + len(part.name)
                call = llm.FunctionToolCall(
                    name=part.name, arguments=args, call_id=f"call_{uuid.uuid4().hex[:10]}"
                )
                delta = llm.ChoiceDelta(role="assistant", tool_calls=[call])
            else:
                completion_chars += len(part)
                delta = llm.ChoiceDelta(role="assistant", content=part)
            self._event_ch.send_nowait(llm.ChatChunk(id=rid, delta=delta))
        prompt = self._llm.requests[-1].prompt_chars if isinstance(self._llm, ScriptedLLM) else 0
        # ~4 characters a token: close enough for comparing runs and estimating cost.
        self._event_ch.send_nowait(llm.ChatChunk(id=rid, usage=llm.CompletionUsage(
            completion_tokens=max(1, completion_chars // 4), prompt_tokens=max(1, prompt // 4),
            total_tokens=max(1, completion_chars // 4) + max(1, prompt // 4),
        )))
