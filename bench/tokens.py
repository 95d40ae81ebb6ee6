"""Benchmark 7: tokens per standard call, counted on the requests actually sent, and the cost.

The standard order and reservation calls (bench/calls.py) run in-process with the real
OpenAI plugin (as main.py builds it) talking to the fake OpenAI server (fakes/openai_llm.py),
which answers with the same scripted steps. A middleware keeps every request body, so the
count covers exactly what the plugin sends: instructions, history, tool results and the tool
schemas. Tokens are counted with the o200k_base tokenizer (gpt-4o / gpt-4o-mini) from the
`bpe-openai` package when it is installed, else estimated at 4 characters a token.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from livekit.plugins import openai

from agents.language import follow_caller
from bench.calls import ScriptedCall, order_call, reservation_call
from bench.emulator import Firestore
from bench.rig import open_voice_call
from bench.stats import timing
from fakes import openai_llm
from fakes.script import Script, Step
from testkit.scripted_llm import Call

MODEL = "gpt-4o-mini"
# OpenAI's accounting for chat requests: a few tokens of framing per message and per reply.
TOKENS_PER_MESSAGE = 3
TOKENS_REPLY_PRIMING = 3


@dataclass(frozen=True)
class Prices:
    """USD. Defaults: gpt-4o-mini, Deepgram nova-3 streaming, Cartesia sonic (per character)."""

    llm_in_per_1m: float = 0.15
    llm_out_per_1m: float = 0.60
    stt_per_min: float = 0.0077
    tts_per_1m_chars: float = 50.0
    turns_per_3min: int = 18  # caller turns in a 3-minute call (about 10 s per exchange)

    @classmethod
    def from_env(cls) -> Prices:
        """BENCH_PRICE_LLM_IN, _LLM_OUT, _STT_MIN, _TTS_1M_CHARS and BENCH_TURNS_PER_3MIN."""
        d = cls()
        env = os.environ.get
        return cls(
            llm_in_per_1m=float(env("BENCH_PRICE_LLM_IN", d.llm_in_per_1m)),
            llm_out_per_1m=float(env("BENCH_PRICE_LLM_OUT", d.llm_out_per_1m)),
            stt_per_min=float(env("BENCH_PRICE_STT_MIN", d.stt_per_min)),
            tts_per_1m_chars=float(env("BENCH_PRICE_TTS_1M_CHARS", d.tts_per_1m_chars)),
            turns_per_3min=int(env("BENCH_TURNS_PER_3MIN", d.turns_per_3min)),
        )


class Counter:
    def __init__(self) -> None:
        try:
            import bpe_openai

            self._enc: Any = bpe_openai.encoding_for_model(MODEL)
            self.method = "o200k_base (bpe-openai)"
        except Exception:  # not installed: the documented approximation
            self._enc = None
            self.method = "approximate: 4 characters a token (install bpe-openai for exact)"

    def count(self, text: str) -> int:
        if not text:
            return 0
        if self._enc is not None:
            return len(self._enc.encode(text))
        return max(1, round(len(text) / 4))

    def prompt(self, body: dict[str, Any]) -> int:
        total = TOKENS_REPLY_PRIMING
        for m in body.get("messages") or []:
            total += TOKENS_PER_MESSAGE + self.count(str(m.get("role", "")))
            content = m.get("content")
            if isinstance(content, list):
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            total += self.count(content or "")
            for call in m.get("tool_calls") or []:
                fn = call.get("function") or {}
                total += self.count(str(fn.get("name", ""))) + self.count(
                    str(fn.get("arguments", "")))
        # Tool schemas as JSON: OpenAI renders them more compactly, so this errs high.
        if body.get("tools"):
            total += self.count(json.dumps(body["tools"], separators=(",", ":")))
        return total

    def completion(self, step: Step) -> int:
        total = self.count(step.text)
        for call in step.tool_calls:
            total += self.count(call.name) + self.count(json.dumps(call.arguments)) + 3
        return total + 1  # end of message


def offer_language(catalog: Any, language: str) -> None:
    """The bench restaurant offers `language` too (with its own lines in it)."""
    s = catalog.settings
    lines = {language: {"recording_notice": s.recording_notice,
                        "large_party_note": s.large_party_note}}
    catalog.replace_settings(type(s).model_validate(
        {**s.model_dump(), "languages": ["en", language], "lines": lines}))


def _fake_step(step: Any) -> Step:
    if isinstance(step, Call):
        return Step(tool_calls=(step,))
    return Step(text=str(step))


async def _serve(script: Script, bodies: list[dict[str, Any]]) -> tuple[web.AppRunner, str]:
    app = openai_llm.create_app(script)

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.endswith("/chat/completions"):
            bodies.append(await request.json())
        return await handler(request)

    app.middlewares.append(record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/v1"


async def _one_call(fs: Firestore, script: ScriptedCall, counter: Counter,
                    overheads: list[float] | None = None, language: str = "en"
                    ) -> dict[str, Any]:
    """One scripted call; `language` other than English: the restaurant offers it and the
    STT reports every caller turn in it (bench/languages.py)."""
    steps = [_fake_step(s) for s in script.steps]
    bodies: list[dict[str, Any]] = []
    runner, url = await _serve(Script(steps=tuple(steps)), bodies)
    try:
        model = openai.LLM(model=MODEL, api_key="fake-openai-key", base_url=url,
                           parallel_tool_calls=False)
        async with fs.fresh() as (db, catalog):
            if language != "en":
                offer_language(catalog, language)
            call = await open_voice_call(db, catalog, [], model=model)
            if language != "en":
                call.stt.language = language
                follow_caller(call.session, call.userdata, {})
            try:
                for turn in script.turns:
                    timed = await call.turn(turn.says, turn.label)
                    if overheads is not None:
                        overheads.append(timed.overhead_ms)
                await call.settle()
                spoken = [i.text_content or "" for i in call.session.history.items
                          if i.type == "message" and i.role == "assistant"]
            finally:
                await call.close()
            await model.aclose()
    finally:
        await runner.cleanup()
    if len(bodies) != len(steps):
        raise RuntimeError(f"{script.name}: {len(bodies)} LLM requests for {len(steps)} steps")
    prompt = [counter.prompt(b) for b in bodies]
    return {
        "prompt": sum(prompt),
        "completion": sum(counter.completion(s) for s in steps),
        "llm_requests": len(bodies),
        "caller_turns": len(script.turns),
        "largest_request": max(prompt),
        "tool_schema_tokens": sum(
            counter.count(json.dumps(b.get("tools") or [], separators=(",", ":")))
            for b in bodies),
        "tts_characters": sum(len(t) for t in spoken),
    }


def cost_3min(call: dict[str, Any], prices: Prices) -> dict[str, float]:
    """A 3-minute call at this call's per-turn rates: LLM, STT for all 180 s, TTS characters."""
    scale = prices.turns_per_3min / call["caller_turns"]
    llm_usd = (call["prompt"] * scale * prices.llm_in_per_1m
               + call["completion"] * scale * prices.llm_out_per_1m) / 1e6
    stt_usd = 3 * prices.stt_per_min
    tts_usd = call["tts_characters"] * scale * prices.tts_per_1m_chars / 1e6
    return {"llm": round(llm_usd, 5), "stt": round(stt_usd, 5), "tts": round(tts_usd, 5),
            "total": round(llm_usd + stt_usd + tts_usd, 4)}


async def measure(fs: Firestore, reps: int = 1, prices: Prices | None = None) -> dict[str, Any]:
    """Tokens of one order and one reservation call; with `reps` > 1 the calls are repeated to
    time turns through the real OpenAI plugin and HTTP (the in-process fake server at 0 ms)."""
    prices = prices or Prices.from_env()
    counter = Counter()
    overheads: list[float] = []
    order = await _one_call(fs, order_call(), counter, overheads)
    reservation = await _one_call(fs, reservation_call(0), counter, overheads)
    for n in range(1, reps):
        await _one_call(fs, order_call(), counter, overheads)
        await _one_call(fs, reservation_call(n), counter, overheads)
    cost = cost_3min(order, prices)
    return {
        "tokens_order_call": order,
        "tokens_reservation_call": reservation,
        "token_counting": counter.method,
        "turn_overhead_openai_plugin_ms": timing(overheads),
        "cost_3min_call_usd": cost["total"],
        "cost_3min_call_breakdown_usd": cost,
        "prices": prices.__dict__,
    }
