"""Several restaurants on one line, end to end: the dialled number picks the restaurant.

The same native stack as test_sip_call_e2e (devstack seeds the café as `main` and
data/casa-lupita.yaml as `casa-lupita`; the trunk takes both restaurants' numbers). SIPp calls
Casa Lupita's number: the real worker greets and says goodbye as Casa Lupita and writes the
call log under that restaurant only. Then `main` lists its own number, which makes routing
strict, and a call to a number no restaurant lists hears the fixed line and is hung up on
without a single LLM request.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from agents.call import UNKNOWN_NUMBER_LINE
from scripts.devstack import Ports, Stack, StackOptions
from testkit.caller import RtpCapture, caller_audio, start_sipp
from testkit.emulator import EMULATOR_JAR
from tests.telephony.helpers import require
from tests.telephony.test_sip_call_e2e import CALLER, _binaries_present, _fake_log

SCRIPT = Path(__file__).with_name("second_restaurant_call.yaml")
PROJECT = "demo-restaurants"
LUPITA, UNKNOWN = "+15550200", "+15550999"


def _call_logs(project: str) -> dict[str, list[dict[str, Any]]]:
    from google.cloud import firestore

    from store.scope import scoped

    client = firestore.Client(project=project)
    try:
        return {rid: [d.to_dict() for d in scoped(client, rid).collection("call_logs").stream()]
                for rid in ("main", "casa-lupita")}
    finally:
        client.close()


def _make_main_strict(project: str) -> None:
    from google.cloud import firestore

    client = firestore.Client(project=project)
    try:
        client.document("restaurants/main").update({"numbers": ["+15550100"]})
    finally:
        client.close()


async def _dial(tmp: Path, stack: Stack, number: str, pcm: bytes) -> tuple[int, list]:
    capture = RtpCapture()
    sipp = start_sipp(workdir=tmp, pcm=pcm, target=f"127.0.0.1:{stack.options.ports.sip}",
                      number=number, caller=CALLER, rtp_port=capture.port, timeout_s=120)
    try:
        rc = await asyncio.to_thread(sipp.wait, 150)
        return rc, sipp.messages()
    finally:
        sipp.kill()
        capture.close()


async def test_the_dialled_number_picks_the_restaurant(firestore_emulator, tmp_path):
    _binaries_present()
    require(EMULATOR_JAR.exists() or bool(firestore_emulator.host), "the Firestore emulator")
    await asyncio.to_thread(firestore_emulator.reset, PROJECT)
    goodbye = await asyncio.to_thread(caller_audio, ["No thanks, goodbye"], lead_in=5.0,
                                      gap=0.0, tail=30.0)
    silence = await asyncio.to_thread(caller_audio, [], lead_in=30.0, gap=0.0, tail=0.0)
    stack = Stack(StackOptions(
        ports=Ports.ephemeral(), workdir=tmp_path / "stack", numbers=("+15550100", UNKNOWN),
        allow=("127.0.0.1",), firestore_host=firestore_emulator.host, project=PROJECT,
        fakes_script=SCRIPT, tts_voice="tone", worker="start",
        ignore_load=True,  # the shared machine's load is not ours (see test_sip_call_e2e)
    ))
    try:
        await asyncio.to_thread(stack.start)
        rc, messages = await _dial(tmp_path / "lupita", stack, LUPITA, goodbye)
        assert rc == 0, "the Casa Lupita call did not end with the agent's BYE"
        spoken = [s["text"] for s in _fake_log(stack.fakes.tts)["spoken"]]
        assert any("Thanks for calling Casa Lupita" in s for s in spoken), spoken
        assert any("Thank you for calling Casa Lupita" in s for s in spoken), spoken
        assert not any("Harbor Street" in s for s in spoken), spoken
        deadline = time.monotonic() + 15
        while not (logs := await asyncio.to_thread(_call_logs, PROJECT))["casa-lupita"]:
            assert time.monotonic() < deadline, "no call log for the Casa Lupita call"
            await asyncio.sleep(0.5)
        assert logs["main"] == [], "the café got a log of another restaurant's call"
        (log,) = logs["casa-lupita"]
        assert log["restaurant_id"] == "casa-lupita" and log["dialed"] == LUPITA

        await asyncio.to_thread(_make_main_strict, PROJECT)
        llm_before = len(_fake_log(stack.fakes.llm)["requests"])
        said_before = len(_fake_log(stack.fakes.tts)["spoken"])
        rc, messages = await _dial(tmp_path / "unknown", stack, UNKNOWN, silence)
        assert rc == 0, "the call to an unknown number was not hung up by the agent"
        assert any(d == "received" and f.startswith("BYE") for _, d, f in messages)
        # LiveKit sends the TTS one sentence at a time
        said = [s["text"].strip() for s in _fake_log(stack.fakes.tts)["spoken"][said_before:]]
        assert " ".join(said) == UNKNOWN_NUMBER_LINE, said
        pieces = _fake_log(stack.fakes.tts)["spoken"][said_before:]
        assert {p["language"] for p in pieces if "Goodbye" in p["text"]} == {"en"}, pieces
        assert {p["language"] for p in pieces if "Adiós" in p["text"]} == {"es"}, pieces
        assert len(_fake_log(stack.fakes.llm)["requests"]) == llm_before, "an LLM was asked"
        logs = await asyncio.to_thread(_call_logs, PROJECT)
        assert len(logs["main"]) == 0 and len(logs["casa-lupita"]) == 1
    finally:
        await asyncio.to_thread(stack.stop)
