"""The fake providers speak the wire protocols the installed LiveKit plugins speak."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
from livekit import rtc
from livekit.agents import function_tool
from livekit.agents import llm as lk_llm
from livekit.plugins import cartesia, deepgram, openai

from fakes.audio import silence, speech_or_tone
from fakes.latency import Latency
from fakes.script import Script
from fakes.server import FakeEndpoints, serve

SCRIPT = Script.from_dict({
    "caller": ["I'd like a large cappuccino"],
    "llm": [{"when": "cappuccino", "steps": [
        {"tool_calls": [{"name": "add_item",
                         "arguments": {"item": "cappuccino", "size": "large"}}]},
        {"text": "One large cappuccino."},
    ]}],
})


async def _serve(tmp_path: Path, latency: Latency | None = None
                 ) -> tuple[FakeEndpoints, asyncio.Event, asyncio.Task[None]]:
    ready, stop = tmp_path / "fakes.json", asyncio.Event()
    task = asyncio.create_task(serve(SCRIPT, ready_file=ready, stop=stop, latency=latency))
    for _ in range(100):
        if ready.exists():
            return FakeEndpoints.from_json(ready.read_text()), stop, task
        await asyncio.sleep(0.05)
    raise AssertionError("fakes did not start")


@function_tool
async def add_item(item: str, size: str) -> str:
    """Add an item."""
    return "added"


async def test_llm_stream_tool_call_then_text(tmp_path):
    endpoints, stop, task = await _serve(tmp_path)
    try:
        model = openai.LLM(model="fake", base_url=endpoints.env()["OPENAI_BASE_URL"],
                           api_key="fake")
        ctx = lk_llm.ChatContext()
        ctx.add_message(role="user", content="I'd like a large cappuccino")
        calls, text = [], ""
        async with model.chat(chat_ctx=ctx, tools=[add_item]) as stream:
            async for chunk in stream:
                if chunk.delta:
                    calls += chunk.delta.tool_calls or []
                    text += chunk.delta.content or ""
        assert [(c.name, c.arguments) for c in calls] == [
            ("add_item", '{"item": "cappuccino", "size": "large"}')]
        async with model.chat(chat_ctx=ctx, tools=[add_item]) as stream:
            text = "".join([c.delta.content or "" async for c in stream if c.delta])
        assert text == "One large cappuccino."
    finally:
        stop.set()
        await task


@function_tool
async def start_order() -> str:
    """Start an order."""
    return "started"


async def test_llm_says_so_out_loud_when_the_scripted_tool_was_not_offered(tmp_path):
    """A script that no longer fits the call (its tool is not offered, e.g. after a refused
    review) fails loudly: no tool call, and the caller hears the script error, never the
    scripted "your order is in"."""
    endpoints, stop, task = await _serve(tmp_path)
    try:
        model = openai.LLM(model="fake", base_url=endpoints.env()["OPENAI_BASE_URL"],
                           api_key="fake")
        ctx = lk_llm.ChatContext()
        ctx.add_message(role="user", content="I'd like a large cappuccino")
        calls, text = [], ""
        async with model.chat(chat_ctx=ctx, tools=[start_order]) as stream:
            async for chunk in stream:
                if chunk.delta:
                    calls += chunk.delta.tool_calls or []
                    text += chunk.delta.content or ""
        assert calls == []
        assert text.startswith("Fake LLM script error: tool 'add_item' is not among the "
                               "offered tools ['start_order']"), text
        async with aiohttp.ClientSession() as http, \
                http.get(f"{endpoints.llm}/_fake/log") as resp:
            logged = (await resp.json())["requests"]
        assert logged[0]["errors"] and logged[0]["tool_calls"] == [{
            "name": "add_item", "arguments": '{"item": "cappuccino", "size": "large"}'}]
    finally:
        stop.set()
        await task


async def test_stt_emits_the_scripted_line_when_speech_ends(tmp_path):
    endpoints, stop, task = await _serve(tmp_path)
    try:
        async with aiohttp.ClientSession() as session:
            stt = deepgram.STT(api_key="fake", base_url=endpoints.env()["DEEPGRAM_BASE_URL"],
                               http_session=session)
            stream = stt.stream()
            audio = silence(0.5, 16000) + speech_or_tone("I'd like a large cappuccino", 16000)
            audio += silence(1.5, 16000)
            for i in range(0, len(audio) - 640, 640):
                stream.push_frame(rtc.AudioFrame(audio[i : i + 640], 16000, 1, 320))
            events = []
            async for event in stream:
                events.append(event)
                if event.type.name == "END_OF_SPEECH":
                    break
            await stream.aclose()
        kinds = [e.type.name for e in events]
        assert kinds[0] == "START_OF_SPEECH" and kinds[-1] == "END_OF_SPEECH"
        finals = [e.alternatives[0].text for e in events if e.type.name == "FINAL_TRANSCRIPT"]
        assert finals == ["I'd like a large cappuccino"]
    finally:
        stop.set()
        await task


async def test_tts_streams_audio_for_each_sentence(tmp_path):
    endpoints, stop, task = await _serve(tmp_path)
    try:
        async with aiohttp.ClientSession() as session:
            tts = cartesia.TTS(api_key="fake", base_url=endpoints.env()["CARTESIA_BASE_URL"],
                               http_session=session)
            stream = tts.stream()
            stream.push_text("Thanks for calling. How can I help?")
            stream.end_input()
            samples = 0
            async for audio in stream:
                samples += audio.frame.samples_per_channel
            await stream.aclose()
            await tts.aclose()
        assert samples / tts.sample_rate > 1.0
    finally:
        stop.set()
        await task


async def _first_token_s(model: openai.LLM) -> float:
    ctx = lk_llm.ChatContext()
    ctx.add_message(role="user", content="I'd like a large cappuccino")
    t0 = time.monotonic()
    async with model.chat(chat_ctx=ctx, tools=[add_item]) as stream:
        async for chunk in stream:
            if chunk.delta and (chunk.delta.tool_calls or chunk.delta.content):
                return time.monotonic() - t0
    raise AssertionError("no token")


async def _first_audio_s(tts: cartesia.TTS) -> float:
    stream = tts.stream()
    t0 = time.monotonic()
    stream.push_text("Thanks for calling.")
    stream.end_input()
    try:
        async for _ in stream:
            return time.monotonic() - t0
    finally:
        await stream.aclose()
    raise AssertionError("no audio")


async def _final_after_pushing_s(stt: deepgram.STT) -> float:
    """Speech then 1 s of quiet, pushed at once: seconds from the push to the final."""
    stream = stt.stream()
    audio = silence(0.3, 16000) + speech_or_tone("I'd like a large cappuccino", 16000)
    audio += silence(1.0, 16000)
    t0 = time.monotonic()
    for i in range(0, len(audio) - 640, 640):
        stream.push_frame(rtc.AudioFrame(audio[i : i + 640], 16000, 1, 320))
    try:
        async for event in stream:
            if event.type.name == "FINAL_TRANSCRIPT":
                return time.monotonic() - t0
    finally:
        await stream.aclose()
    raise AssertionError("no final")


async def test_provider_latencies_delay_first_token_first_audio_and_final(tmp_path):
    """Each fake holds its first output back by its configured latency; posting new latencies
    to one fake changes all three (one stack measures with and without), bad ones are named."""
    latency = Latency(llm_first_token_s=0.4, tts_first_audio_s=0.3, stt_final_s=0.6,
                      stt_end_silence_s=0.2)
    endpoints, stop, task = await _serve(tmp_path, latency)
    try:
        async with aiohttp.ClientSession() as session:
            env = endpoints.env()
            model = openai.LLM(model="fake", base_url=env["OPENAI_BASE_URL"], api_key="fake")
            tts = cartesia.TTS(api_key="fake", base_url=env["CARTESIA_BASE_URL"],
                               http_session=session)
            stt = deepgram.STT(api_key="fake", base_url=env["DEEPGRAM_BASE_URL"],
                               http_session=session)
            slow = (await _first_token_s(model), await _first_audio_s(tts),
                    await _final_after_pushing_s(stt))
            assert slow[0] >= 0.4 and slow[1] >= 0.3, slow
            # the end of speech is heard 0.2 s into the quiet; the final waits 0.4 s more
            assert slow[2] >= 0.4, slow

            async with session.post(f"{endpoints.tts}/_fake/latency", json={
                    "llm_first_token_s": 0, "tts_first_audio_s": 0, "stt_final_s": 0}) as r:
                assert r.status == 200 and (await r.json())["effective_stt_final_s"] == 0.2
            async with session.get(f"{endpoints.llm}/_fake/latency") as r:
                assert (await r.json())["llm_first_token_s"] == 0
            async with session.post(f"{endpoints.stt}/_fake/script",  # its one line again
                                    json={"caller": list(SCRIPT.caller)}) as r:
                assert r.status == 200
            fast = (await _first_token_s(model), await _first_audio_s(tts),
                    await _final_after_pushing_s(stt))
            assert fast[0] < slow[0] - 0.25 and fast[1] < slow[1] - 0.15, (slow, fast)
            assert fast[2] < slow[2] - 0.25, (slow, fast)

            async with session.post(f"{endpoints.stt}/_fake/latency",
                                    json={"llm_first_token_s": -1, "stt_final_s": 1}) as r:
                assert r.status == 400 and "llm_first_token_s" in (await r.json())["error"]
            async with session.post(f"{endpoints.stt}/_fake/latency", json={"ttft": 1}) as r:
                assert r.status == 400 and "ttft" in (await r.json())["error"]
            assert latency.stt_final_s == 0  # nothing of a refused change was applied
            await tts.aclose()
            await model.aclose()
    finally:
        stop.set()
        await task
