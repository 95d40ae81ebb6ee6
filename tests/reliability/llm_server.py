"""A tiny OpenAI-compatible chat endpoint whose failures a test switches on and off.

Modes, per server and changeable between requests:
  ok        answer with the next scripted step (text, or tool calls), streamed as SSE
  500       HTTP 500 with an OpenAI error body
  hang      accept the request and never answer
  cut       send the first SSE chunk (role only) and drop the connection
  cut_text  stream a few words of an answer and drop the connection mid-answer
  stall     stream a few words of an answer and stop sending (connection kept open)
The real `livekit.plugins.openai.LLM` is pointed at it by `base_url`.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from aiohttp import web

from fakes.script import ToolCall

MODES = ("ok", "500", "hang", "cut", "cut_text", "stall")


Tool = ToolCall  # the scripted tool-call type the fakes and testkit use too


Step = str | Tool | list[str | Tool]


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": "test", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n".encode()


class LLMServer:
    def __init__(self, name: str, mode: str = "ok", steps: list[Step] | None = None) -> None:
        self.name = name
        self.mode = mode
        self.steps: list[Step] = list(steps or [])
        self.requests: list[dict[str, Any]] = []  # {"at", "mode", "messages", "tools"}
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._hanging: list[asyncio.Event] = []

    async def start(self) -> LLMServer:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/v1"
        return self

    async def stop(self) -> None:
        for ev in self._hanging:
            ev.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def tools_offered(self, n: int = -1) -> list[str]:
        return self.requests[n]["tools"]

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        mode = self.mode
        self.requests.append({
            "at": time.monotonic(), "mode": mode, "messages": body.get("messages", []),
            "tools": [t["function"]["name"] for t in body.get("tools") or []],
        })
        if mode == "500":
            return web.json_response(
                {"error": {"message": "injected failure", "type": "server_error"}}, status=500)
        if mode == "hang":
            await self._hang()
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(_chunk({"role": "assistant", "content": ""}))
        if mode == "cut":
            assert request.transport is not None
            request.transport.close()
            return resp
        if mode in ("cut_text", "stall"):
            await resp.write(_chunk({"content": "Sure, let me "}))
            await asyncio.sleep(0.05)
            if mode == "stall":
                await self._hang()
            assert request.transport is not None
            request.transport.close()
            return resp
        step = self.steps.pop(0) if self.steps else "Sorry, could you say that again?"
        for n, part in enumerate(step if isinstance(step, list) else [step]):
            if isinstance(part, Tool):
                call = {"index": n, "id": f"call_{uuid.uuid4().hex[:10]}", "type": "function",
                        "function": {"name": part.name, "arguments": json.dumps(part.arguments)}}
                await resp.write(_chunk({"tool_calls": [call]}))
            else:
                await resp.write(_chunk({"content": part}))
        await resp.write(_chunk({}, "stop"))
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def _hang(self) -> None:
        ev = asyncio.Event()
        self._hanging.append(ev)
        try:
            await asyncio.wait_for(ev.wait(), 60)
        except TimeoutError:
            pass
