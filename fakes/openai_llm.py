"""A fake OpenAI Chat Completions endpoint (`POST /v1/chat/completions`), streaming SSE.

Answers come from a `Script` (see fakes/script.py): the latest user message picks a rule and
each request answering that message takes the rule's next step, so a tool-call step is
followed by the step that speaks once the agent posts the tool results back.
The first chunk of each answer waits the `Latency`'s `llm_first_token_s` (fakes/latency.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from aiohttp import web

from . import accounts as acc
from .latency import LATENCY_KEY, Latency, attach
from .script import Responder, Script, Step, render_arguments, tool_results

log = logging.getLogger("fakes.llm")

LOG_KEY = web.AppKey("fake_log", list)
RESPONDER_KEY = web.AppKey("responder", Responder)


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]


def _offered_tools(body: dict[str, Any]) -> set[str]:
    names = set()
    for tool in body.get("tools") or []:
        fn = tool.get("function") or {}
        if fn.get("name"):
            names.add(str(fn["name"]))
    return names


def _answer(app: web.Application, body: dict[str, Any]) -> tuple[Step, list[dict[str, Any]]]:
    messages = body.get("messages") or []
    offered = _offered_tools(body)
    step, user_text, index = app[RESPONDER_KEY].next(messages, frozenset(offered))
    results = tool_results(messages)
    calls = []
    errors = []
    for n, call in enumerate(step.tool_calls):
        if offered and call.name not in offered:
            errors.append(f"tool {call.name!r} is not among the offered tools {sorted(offered)}")
        calls.append(
            {
                "index": n,
                "id": f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": json.dumps(render_arguments(call.arguments, results)),
                },
            }
        )
    app[LOG_KEY].append(
        {
            "at": time.time(),
            "user": user_text,
            "step": index,
            "text": step.text,
            "tool_calls": [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                           for c in calls],
            "tool_results": results,
            "offered_tools": sorted(offered),
            "errors": errors,
            # what was sent, for counting a call's tokens (bench.tokens.Counter)
            "body": {"messages": messages, "tools": body.get("tools") or []},
        }
    )
    for e in errors:
        log.error("fake LLM: %s", e)
    if errors:
        # Loudly: the script no longer fits the conversation (a tool it expects was refused
        # earlier, or the agent is elsewhere). Carrying on would have the agent say "your
        # order is in" for an order never placed; instead the caller hears what went wrong.
        step, calls = Step(text=f"Fake LLM script error: {'; '.join(errors)}."), []
    log.info("fake LLM answers %r (step %d): text=%r tools=%s", user_text, index, step.text,
             [c["function"]["name"] for c in calls])
    return step, calls


def _refused(request: web.Request, model: str | None) -> web.Response | None:
    """The real API's 401 for a key its account does not know, 404 for an unknown model."""
    accounts = acc.of(request.app)
    key = acc.bearer(request)
    if not accounts.key_ok(key):
        return acc.openai_bad_key(key)
    if model is not None and not accounts.model_ok(model):
        return acc.openai_no_model(model)
    return None


async def chat_completions(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    model = str(body.get("model", "fake-model"))
    refused = _refused(request, model)
    if refused is not None:
        return refused
    step, calls = _answer(request.app, body)
    cid = f"chatcmpl-{uuid.uuid4().hex[:16]}"
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    first_token = request.app[LATENCY_KEY].llm_first_token_s

    if not body.get("stream"):
        await asyncio.sleep(first_token)
        message: dict[str, Any] = {"role": "assistant", "content": step.text or None}
        if calls:
            message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
        return web.json_response(
            {
                "id": cid,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": message,
                             "finish_reason": "tool_calls" if calls else "stop"}],
                "usage": usage,
            }
        )

    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-cache"})
    entry = request.app[LOG_KEY][-1]  # _answer's, appended with no await since
    await resp.prepare(request)
    await asyncio.sleep(first_token)
    await resp.write(_chunk(cid, model, {"role": "assistant", "content": ""}))
    entry["first_token_at"] = time.time()  # for a turn's provider chain
    for word in _words(step.text) if step.text else []:
        await resp.write(_chunk(cid, model, {"content": word}))
    for call in calls:
        await resp.write(_chunk(cid, model, {"tool_calls": [call]}))
    await resp.write(_chunk(cid, model, {}, "tool_calls" if calls else "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        tail = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model, "choices": [], "usage": usage}
        await resp.write(f"data: {json.dumps(tail)}\n\n".encode())
    await resp.write(b"data: [DONE]\n\n")
    await resp.write_eof()
    return resp


async def models(request: web.Request) -> web.Response:
    refused = _refused(request, None)
    if refused is not None:
        return refused
    known = sorted(acc.of(request.app).models or {"fake-model"})
    return web.json_response({"object": "list", "data": [acc.openai_model(m) for m in known]})


async def model(request: web.Request) -> web.Response:
    """`GET /v1/models/{model}`: what `main.py check` asks."""
    name = request.match_info["model"]
    return _refused(request, name) or web.json_response(acc.openai_model(name))


async def fake_log(request: web.Request) -> web.Response:
    return web.json_response({"requests": request.app[LOG_KEY]})


async def load_script(request: web.Request) -> web.Response:
    """A new script (JSON body, the YAML's shape) and an empty log: one stack, many calls."""
    request.app[RESPONDER_KEY].reset(Script.from_dict(await request.json()))
    request.app[LOG_KEY].clear()
    return web.Response(text="ok")


def create_app(script: Script, *, latency: Latency | None = None,
               accounts: acc.Accounts | None = None) -> web.Application:
    app = web.Application()
    attach(app, latency or Latency())
    acc.attach(app, accounts)
    app[RESPONDER_KEY] = Responder(script)
    app[LOG_KEY] = []
    for prefix in ("/v1", ""):
        app.router.add_post(f"{prefix}/chat/completions", chat_completions)
        app.router.add_get(f"{prefix}/models", models)
        app.router.add_get(f"{prefix}/models/{{model}}", model)
    app.router.add_get("/_fake/log", fake_log)
    app.router.add_post("/_fake/script", load_script)
    app.router.add_get("/health", health)
    return app


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")
