"""`python -m services.webhooks` as compose runs it: it listens where WEBHOOKS_HOST and
WEBHOOKS_PORT say, answers its health check, refuses an unsigned text, and a STOP Twilio signs
(its fake) opts the number out in the real emulator; the guest's number is not in its log."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from fakes import twilio as fake_twilio
from store import FirebaseManager
from store.texts import customer
from testkit.emulator import Emulator, free_port
from testkit.firestore import ROOT
from tests.conftest import PROJECT

GUEST = "+16175550155"


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "services.webhooks"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


async def test_the_webhooks_process_listens_where_configured_and_checks_signatures(
        seeded_db: FirebaseManager, firestore_emulator: Emulator, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/twilio/sms"
    state = fake_twilio.TwilioState()
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": firestore_emulator.host,
           "GOOGLE_CLOUD_PROJECT": PROJECT, "ENV_FILE": str(tmp_path / "no.env"),
           "OUTBOX_PATH": str(tmp_path / "outbox.jsonl"), "WEBHOOKS_HOST": "127.0.0.1",
           "WEBHOOKS_PORT": str(port), "TWILIO_ACCOUNT_SID": state.account_sid,
           "TWILIO_AUTH_TOKEN": state.auth_token, "TWILIO_WEBHOOK_URL": url}
    env.pop("FIREBASE_SERVICE_ACCOUNT_PATH", None)
    log = tmp_path / "webhooks.log"
    proc = await asyncio.to_thread(_start, env, log)
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            async with asyncio.timeout(30):
                while True:
                    with contextlib.suppress(httpx.TransportError):
                        health = await client.get(f"http://127.0.0.1:{port}/healthz")
                        if health.status_code == 200:
                            break
                    assert proc.poll() is None, "the webhooks service exited"
                    await asyncio.sleep(0.2)
            assert health.text == "ok"
            unsigned = await fake_twilio.deliver_inbound(state, url, GUEST, "+16175550142",
                                                         "STOP", signature="", client=client)
            assert unsigned.status_code == 403
            assert await customer(seeded_db, GUEST) is None, "an unsigned text changes nothing"
            signed = await fake_twilio.deliver_inbound(state, url, GUEST, "+16175550142",
                                                       "STOP", client=client)
            assert signed.status_code == 200 and "<Response><Message>" in signed.text
        known = await customer(seeded_db, GUEST)
        assert known is not None and known.sms_opted_out
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        await asyncio.to_thread(proc.wait, 10)
    logged = await asyncio.to_thread(log.read_text)
    assert "inbound text handled: stop" in logged
    assert GUEST not in logged and GUEST[2:] not in logged, "no guest's number in the log"
