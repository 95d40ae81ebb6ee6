"""A recorded call through the real stack: the restaurant opted in, so the real worker records
the call with LiveKit's session recorder, and at the end copies the file out of the job's
temporary folder (which LiveKit deletes) into RECORDINGS_DIR. The file exists after the call,
plays in sox for about as long as the call lasted, holds both the caller's and the agent's
side, and is linked from the call log; the retention sweep later deletes it.

Same stack and scripted order call as test_sip_call_e2e.py (SIPp stands in for FreeSWITCH).
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from google.cloud import firestore

from fakes.script import Script
from scripts.devstack import Ports, Stack, StackOptions
from store import FirebaseManager
from store.scope import scoped
from testkit.caller import RtpCapture, caller_audio, start_sipp
from testkit.clock import open_timezone
from testkit.emulator import EMULATOR_JAR
from tests.telephony.helpers import require
from tests.telephony.test_sip_call_e2e import (
    CALLER,
    RESTAURANT_NUMBER,
    SCRIPT,
    _binaries_present,
)
from tests.test_recordings import sox_seconds
from worker import recordings

PROJECT = "demo-recording"


def _call_logs(project: str) -> list[dict[str, Any]]:
    client = scoped(firestore.Client(project=project))  # the default restaurant's call logs
    return [d.to_dict() for d in client.collection("call_logs").stream()]


async def test_a_recorded_call_leaves_a_playable_file_linked_from_its_log(
    firestore_emulator, tmp_path, capsys
):
    _binaries_present()
    require(EMULATOR_JAR.exists() or bool(firestore_emulator.host), "the Firestore emulator")
    lines = list(Script.load(SCRIPT).caller)
    await asyncio.to_thread(firestore_emulator.reset, PROJECT)
    # The disclosure makes the greeting longer: a longer lead-in before the caller speaks.
    pcm = await asyncio.to_thread(caller_audio, lines, lead_in=8.0, gap=8.0, tail=40.0)
    root = tmp_path / "recordings"
    options = StackOptions(
        ports=Ports.ephemeral(), workdir=tmp_path / "stack", numbers=(RESTAURANT_NUMBER,),
        allow=("127.0.0.1",), firestore_host=firestore_emulator.host, project=PROJECT,
        fakes_script=SCRIPT, tts_voice="tone", worker="start", ignore_load=True,
        worker_env={"RESTAURANT_RECORD_CALLS": "true", "RECORDINGS_DIR": str(root),
                    "RESTAURANT_RECORDING_RETENTION_DAYS": "3",
                    # open whatever the hour CI runs at (the café closes at 9 pm New York time)
                    "RESTAURANT_TIMEZONE": open_timezone()},
    )
    stack = Stack(options)
    capture = RtpCapture()
    sipp = None
    try:
        await asyncio.to_thread(stack.start)
        started = time.time()
        sipp = start_sipp(workdir=tmp_path / "sipp", pcm=pcm,
                          target=f"127.0.0.1:{options.ports.sip}", number=RESTAURANT_NUMBER,
                          caller=CALLER, rtp_port=capture.port, timeout_s=240)
        rc = await asyncio.to_thread(sipp.wait, 270)
        call_s = time.time() - started
        assert rc == 0, f"SIPp call failed (rc {rc}):\n{sipp.output()[-3000:]}"

        linked: list[dict[str, Any]] = []
        deadline = time.monotonic() + 30  # the worker keeps the file after the BYE
        while time.monotonic() < deadline and not linked:
            linked = [log for log in await asyncio.to_thread(_call_logs, PROJECT)
                      if log.get("recording")]
            await asyncio.sleep(0.5)
        assert len(linked) == 1, await asyncio.to_thread(_call_logs, PROJECT)
        log = linked[0]
        path = root / log["recording"]
        assert path.exists(), sorted(root.rglob("*"))
        played = sox_seconds(path)
        caller_rms, agent_rms = recordings.channel_levels(path)
        with capsys.disabled():
            print(f"\nrecording {log['recording']}: {played:.1f} s in sox "
                  f"(call {call_s:.1f} s), {path.stat().st_size} bytes, "
                  f"RMS caller {caller_rms:.0f} agent {agent_rms:.0f}")
        assert 5 < played <= call_s + 1, (played, call_s)
        assert caller_rms > 0 and agent_rms > 0, "one side of the call is missing"
        assert log["recording_expires_at"] - log["started_at"] == timedelta(days=3)
        assert "This call is recorded" in log["transcript"][0]["text"]

        db = FirebaseManager(firestore.AsyncClient(project=PROJECT), outbox=None)  # type: ignore[arg-type]
        assert await recordings.sweep(root, db, log["started_at"] + timedelta(days=2)) == []
        swept = await recordings.sweep(root, db, log["started_at"] + timedelta(days=3, hours=1))
        assert swept == [log["recording"]] and not path.exists()
    finally:
        if sipp is not None:
            sipp.kill()
        capture.close()
        await asyncio.to_thread(stack.stop)
