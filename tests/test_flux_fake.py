"""The Deepgram Flux fake (fakes/deepgram_flux.py), driven by LiveKit's own Flux client
(`deepgram.STTv2`): the turn events Flux sends, in its order, at the times it would.

Audio is pushed faster than real time: the fake times everything by the audio it has heard,
so a 1.1 s pause is 1.1 s of silence frames, however fast they arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from livekit import rtc
from livekit.agents import stt
from livekit.plugins import deepgram

from fakes.audio import silence, tone
from fakes.latency import Latency
from fakes.script import Script
from fakes.server import FakeEndpoints, serve

RATE = 16000
QUESTION = "Do you have oat milk?"
FIRST, REST = "Do you have", "oat milk?"


async def _fakes(tmp_path: Path, script: Script, latency: Latency
                 ) -> AsyncIterator[FakeEndpoints]:
    ready, stop = tmp_path / "fakes.json", asyncio.Event()
    task = asyncio.create_task(serve(script, ready_file=ready, stop=stop, latency=latency))
    try:
        for _ in range(200):
            if ready.exists():
                break
            await asyncio.sleep(0.05)
        yield FakeEndpoints.from_json(ready.read_text())
    finally:
        stop.set()
        await task


@pytest.fixture
def realistic() -> Latency:
    # the bench's realistic Deepgram: end of turn 250 ms after speech, 0.2 s hangover
    return Latency(stt_final_s=0.25, stt_end_silence_s=0.2)


async def _run(endpoints: FakeEndpoints, audio: bytes, **options: Any
               ) -> tuple[list[stt.SpeechEvent], list[dict[str, Any]]]:
    """Stream `audio` through STTv2 against the fake; the plugin's events and the fake's log."""
    async with aiohttp.ClientSession() as session:
        flux = deepgram.STTv2(api_key="fake", base_url=endpoints.env()["DEEPGRAM_FLUX_BASE_URL"],
                              http_session=session, **options)
        stream = flux.stream()
        frame = RATE // 50 * 2  # 20 ms, as LiveKit's room input delivers
        for i in range(0, len(audio) - frame + 1, frame):
            stream.push_frame(rtc.AudioFrame(audio[i:i + frame], RATE, 1, frame // 2))
        events: list[stt.SpeechEvent] = []

        async def collect() -> None:
            async for ev in stream:
                if ev.type != stt.SpeechEventType.RECOGNITION_USAGE:
                    events.append(ev)

        reader = asyncio.create_task(collect())
        await asyncio.sleep(1.5)  # the fake answers as the audio arrives
        await stream.aclose()
        reader.cancel()
        async with session.get(f"{endpoints.stt}/_fake/log") as resp:
            log = (await resp.json())["flux"]
    return events, log


def _kinds(events: list[stt.SpeechEvent]) -> list[str]:
    return [e.type.name for e in events if e.type != stt.SpeechEventType.INTERIM_TRANSCRIPT]


def _finals(events: list[stt.SpeechEvent]) -> list[str]:
    return [e.alternatives[0].text for e in events
            if e.type == stt.SpeechEventType.FINAL_TRANSCRIPT]


async def test_a_complete_question_gets_an_eager_end_of_turn_then_the_end_of_turn(
        tmp_path, realistic):
    script = Script.from_dict({"caller": [QUESTION]})
    audio = silence(0.3, RATE) + tone(1.2, RATE) + silence(1.0, RATE)
    async for endpoints in _fakes(tmp_path, script, realistic):
        events, log = await _run(endpoints, audio, eager_eot_threshold=0.4)
    assert _kinds(events) == ["START_OF_SPEECH", "PREFLIGHT_TRANSCRIPT", "FINAL_TRANSCRIPT",
                              "END_OF_SPEECH"]
    assert _finals(events) == [QUESTION]
    sent = {e["event"]: e for e in log}
    assert log[0]["event"] == "StartOfTurn" and any(e["event"] == "Update" for e in log)
    # the end of turn comes the provider's latency after the last loud frame (one 50 ms chunk)
    assert 0.25 <= sent["EndOfTurn"]["silence_s"] <= 0.30
    # the eager one as soon as the fake knows the segment ended (0.2 s), before it
    assert 0.2 <= sent["EagerEndOfTurn"]["silence_s"] < sent["EndOfTurn"]["silence_s"]
    assert sent["EagerEndOfTurn"]["transcript"] == sent["EndOfTurn"]["transcript"] == QUESTION


async def test_a_pause_inside_the_sentence_resumes_the_turn(tmp_path, realistic):
    script = Script.from_dict({"caller": [{"text": FIRST, "continues": True}, REST]})
    audio = (silence(0.3, RATE) + tone(0.8, RATE) + silence(1.1, RATE) + tone(0.6, RATE)
             + silence(1.0, RATE))
    async for endpoints in _fakes(tmp_path, script, realistic):
        events, log = await _run(endpoints, audio, eager_eot_threshold=0.4)
    turn_events = [e["event"] for e in log if e["event"] != "Update"]
    assert turn_events == ["StartOfTurn", "EagerEndOfTurn", "TurnResumed", "EagerEndOfTurn",
                           "EndOfTurn"]
    eager = next(e for e in log if e["event"] == "EagerEndOfTurn")
    assert eager["transcript"] == FIRST and 0.55 <= eager["silence_s"] <= 0.65
    # the caller is not cut off: one final, the whole sentence, and one end of speech
    assert _finals(events) == [f"{FIRST} {REST}"]
    assert _kinds(events).count("END_OF_SPEECH") == 1
    assert _kinds(events).count("PREFLIGHT_TRANSCRIPT") == 2


async def test_a_lower_end_of_turn_threshold_cuts_the_paused_caller_off(tmp_path, realistic):
    script = Script.from_dict({"caller": [{"text": FIRST, "continues": True}, REST]})
    audio = (silence(0.3, RATE) + tone(0.8, RATE) + silence(1.1, RATE) + tone(0.6, RATE)
             + silence(1.0, RATE))
    async for endpoints in _fakes(tmp_path, script, realistic):
        events, _ = await _run(endpoints, audio, eot_threshold=0.5)
    assert _finals(events) == [FIRST, REST]  # the first half answered as a turn: a cut-off


async def test_the_end_of_turn_timeout_ends_a_long_pause(tmp_path, realistic):
    script = Script.from_dict({"caller": [{"text": FIRST, "continues": True}, REST]})
    audio = (silence(0.3, RATE) + tone(0.8, RATE) + silence(1.1, RATE) + tone(0.6, RATE)
             + silence(1.0, RATE))
    async for endpoints in _fakes(tmp_path, script, realistic):
        events, log = await _run(endpoints, audio, eot_timeout_ms=800)
    assert _finals(events) == [FIRST, REST]
    first_end = next(e for e in log if e["event"] == "EndOfTurn")
    assert 0.8 <= first_end["silence_s"] <= 0.86


async def test_connected_first_and_a_configure_is_applied(tmp_path, realistic):
    script = Script.from_dict({"caller": [QUESTION]})
    async for endpoints in _fakes(tmp_path, script, realistic):
        url = endpoints.env()["DEEPGRAM_FLUX_BASE_URL"].replace("http", "ws", 1)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}?model=nova-3&sample_rate=16000") as resp:
                assert resp.status == 400  # Flux refuses a model it does not have
            async with session.ws_connect(
                    f"{url}?model=flux-general-en&sample_rate=16000&encoding=linear16") as ws:
                connected = await ws.receive_json()
                assert connected["type"] == "Connected" and connected["sequence_id"] == 0
                await ws.send_json({"type": "Configure", "thresholds": {"eot_threshold": 0.8}})
                reply = await ws.receive_json()
                assert reply["type"] == "ConfigureSuccess"
                assert reply["thresholds"]["eot_threshold"] == 0.8
                await ws.send_json({"type": "Configure",
                                    "thresholds": {"eager_eot_threshold": 0.75}})
                assert (await ws.receive_json())["type"] == "ConfigureSuccess"
                await ws.send_json({"type": "Configure", "thresholds": {"eot_threshold": 0.2}})
                assert (await ws.receive_json())["type"] == "ConfigureFailure"
