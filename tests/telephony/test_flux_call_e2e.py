"""The streaming turn path, end to end through SIP: Deepgram Flux ends the caller's turns.

The stack of test_sip_call_e2e (LiveKit server and SIP, the Firestore emulator, the fake
providers, `python main.py start`), with the restaurant on `turn_taking: flux`
(RESTAURANT_TURN_TAKING) and the fakes at the bench's realistic latencies (Flux's end of turn
250 ms after speech, LLM first token 400 ms, TTS first audio 150 ms). SIPp calls and plays the
caller (espeak-ng, PCMU RTP): a question with a 1.1 s pause inside it, a whole question, and
goodbye. The worker speaks Flux's protocol to the fake (fakes/deepgram_flux.py), runs no VAD or
turn detector, drafts each answer from Flux's eager end of turn, drops the draft made for the
first half when the caller goes on, keeps the one made for the whole question, and hangs up.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

from fakes.audio import silence, speech_or_tone
from fakes.latency import REALISTIC
from scripts.devstack import Ports, Stack, StackOptions
from testkit.caller import RATE, RtpCapture, start_sipp
from testkit.clock import open_timezone
from testkit.emulator import EMULATOR_JAR
from tests.telephony.helpers import require
from tests.telephony.test_sip_call_e2e import (
    CALLER,
    RESTAURANT_NUMBER,
    _binaries_present,
    _fake_log,
)

SCRIPT = Path(__file__).with_name("flux_call.yaml")
PROJECT = "demo-flux"
PAUSE_S = 1.1


def _caller_pcm() -> bytes:
    """Each line after the agent has had time to answer; the first question paused inside."""
    pcm = silence(5.0, RATE) + speech_or_tone("Do you have", RATE) + silence(PAUSE_S, RATE)
    pcm += speech_or_tone("oat milk?", RATE) + silence(8.0, RATE)
    pcm += speech_or_tone("What time do you close today?", RATE) + silence(8.0, RATE)
    return pcm + speech_or_tone("No thanks goodbye", RATE) + silence(30.0, RATE)


def _set_latency(base_url: str) -> None:
    body = json.dumps({**REALISTIC, "stt_end_silence_s": 0.2}).encode()
    req = urllib.request.Request(f"{base_url}/_fake/latency", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200


def _call_log(project: str) -> list[dict[str, Any]]:
    from google.cloud import firestore

    from store.scope import scoped

    client = firestore.Client(project=project)
    try:
        return [d.to_dict() for d in scoped(client).collection("call_logs").stream()]
    finally:
        client.close()


async def test_flux_ends_the_turns_and_the_eager_draft_is_kept_or_dropped(
        firestore_emulator, tmp_path):
    _binaries_present()
    require(EMULATOR_JAR.exists() or bool(firestore_emulator.host), "the Firestore emulator")
    await asyncio.to_thread(firestore_emulator.reset, PROJECT)
    pcm = await asyncio.to_thread(_caller_pcm)
    stack = Stack(StackOptions(
        ports=Ports.ephemeral(), workdir=tmp_path / "stack", numbers=(RESTAURANT_NUMBER,),
        allow=("127.0.0.1",), firestore_host=firestore_emulator.host, project=PROJECT,
        fakes_script=SCRIPT, tts_voice="tone", worker="start",
        ignore_load=True,  # the shared machine's load is not ours (see test_sip_call_e2e)
        worker_env={"RESTAURANT_TIMEZONE": open_timezone(), "RESTAURANT_TURN_TAKING": "flux"},
    ))
    capture = RtpCapture()
    sipp = None
    try:
        await asyncio.to_thread(stack.start)
        assert stack.fakes is not None
        await asyncio.to_thread(_set_latency, stack.fakes.stt)
        sipp = start_sipp(workdir=tmp_path / "sipp", pcm=pcm,
                          target=f"127.0.0.1:{stack.options.ports.sip}",
                          number=RESTAURANT_NUMBER, caller=CALLER, rtp_port=capture.port,
                          timeout_s=150)
        rc = await asyncio.to_thread(sipp.wait, 180)
        messages = sipp.messages()
        assert rc == 0, f"SIPp call failed (rc {rc}):\n{sipp.output()[-3000:]}"
        assert any(d == "received" and f.startswith("BYE") for _, d, f in messages), \
            "the agent did not hang up after goodbye"

        stt = await asyncio.to_thread(_fake_log, stack.fakes.stt)
        # the worker spoke Flux: /v2/listen, the English model, an eager threshold
        flux_queries = [q for q in stt["queries"] if q.get("model", "").startswith("flux")]
        assert flux_queries and flux_queries[0]["eager_eot_threshold"] == "0.4", stt["queries"]
        # the pause did not end the caller's turn: three turns, the first one whole
        assert [e["text"] for e in stt["emitted"]] == [
            "Do you have oat milk?", "What time do you close today?", "No thanks goodbye"]
        first_turn = [e["event"] for e in stt["flux"] if e["turn"] == 0 and e["event"] != "Update"]
        assert first_turn[:3] == ["StartOfTurn", "EagerEndOfTurn", "TurnResumed"], first_turn
        assert first_turn[-1] == "EndOfTurn"

        llm = [r["user"] for r in (await asyncio.to_thread(_fake_log, stack.fakes.llm))["requests"]]
        # a draft was started on the eager end of turn after the first half ...
        assert "Do you have" in llm, llm
        # ... and each whole question was asked of the LLM once: the draft made on its eager
        # end of turn was kept at the end of turn, not asked again
        assert llm.count("Do you have oat milk?") == 1, llm
        assert llm.count("What time do you close today?") == 1, llm

        logs: list[dict[str, Any]] = []
        for _ in range(30):
            if logs := await asyncio.to_thread(_call_log, PROJECT):
                break
            await asyncio.sleep(0.5)
        said = [line["text"] for line in logs[0]["transcript"] if line["role"] == "assistant"]
        assert "Yes, we have oat milk." in said and "We close at nine tonight." in said, said
        assert "Go on." not in said, "the draft for the first half reached the caller"
        heard = [line["text"] for line in logs[0]["transcript"] if line["role"] == "user"]
        assert heard == ["Do you have oat milk?", "What time do you close today?",
                         "No thanks goodbye"], heard
    finally:
        if sipp is not None:
            sipp.kill()
        capture.close()
        await asyncio.to_thread(stack.stop)
