"""The dialer's text branch, as it runs: `python -m services.dialer` (its polling loop, as in
compose and `make dev`) leases due text reminders from the real emulator and sends them through
the official twilio SDK to Twilio's fake; no LiveKit call is made for a text. Twilio unreachable
is a failed try retried later, and the retry sends the text exactly once; a number that texted
STOP is never texted."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from domain.seating import SeatingPlan
from fakes import twilio as fake_twilio
from store import FirebaseManager
from store.outbound import OutboundQueue, Policy
from store.texts import set_opted_out
from testkit.emulator import Emulator
from testkit.firestore import ROOT
from testkit.records import make_reservation
from testkit.square import serve_twilio
from tests.conftest import PROJECT

GUEST, STOPPED = "+16175550131", "+16175550132"
WAIT_S = 30.0


@contextlib.asynccontextmanager
async def dialer(emulator: Emulator, tmp_path: Path, twilio_url: str) -> AsyncIterator[Path]:
    """`python -m services.dialer` polling every 0.3 s; SIGTERM on exit. Its log's path."""
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": emulator.host,
           "GOOGLE_CLOUD_PROJECT": PROJECT, "ENV_FILE": str(tmp_path / "no.env"),
           "OUTBOX_PATH": str(tmp_path / "outbox.jsonl"), "DIALER_POLL_S": "0.3",
           "DIALER_ID": "dialer-texts", "PYTHONUNBUFFERED": "1",
           # the dialer's LiveKit client is made at start; a text never reaches it
           "LIVEKIT_URL": "ws://127.0.0.1:9", "LIVEKIT_API_KEY": "devkey",
           "LIVEKIT_API_SECRET": "secret-secret-secret-secret-0000",
           "TWILIO_ACCOUNT_SID": fake_twilio.DEFAULT_SID,
           "TWILIO_AUTH_TOKEN": fake_twilio.DEFAULT_TOKEN, "TWILIO_BASE_URL": twilio_url,
           "TWILIO_TIMEOUT_S": "2", "SMS_OUTBOX_PATH": str(tmp_path / "sms.jsonl")}
    env.pop("FIREBASE_SERVICE_ACCOUNT_PATH", None)
    log = tmp_path / "dialer.log"
    proc = await asyncio.to_thread(_start, env, log)
    try:
        yield log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.to_thread(proc.wait, 10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        assert proc.returncode in (0, -signal.SIGTERM), _tail(log)


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "services.dialer"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:]


async def until(check: Callable[[], Awaitable[bool]], log: Path) -> None:
    try:
        async with asyncio.timeout(WAIT_S):
            while not await check():  # noqa: ASYNC110
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError("the dialer did not get there; its log:\n"
                             + _tail(log)) from None


async def _due_text_reminders(db: FirebaseManager) -> tuple[OutboundQueue, str, str]:
    """Two bookings in three hours (so their reminders are due now), one of a guest who texted
    STOP; calling hours all day, so the test holds at any hour."""
    await db.db.document("settings/restaurant").set(
        {"outbound_hours": {"open": "00:00:00", "close": "23:59:59"}}, merge=True)
    settings = await db.load_restaurant_settings()
    assert settings is not None
    now = datetime.now(UTC)
    starts = (now + timedelta(hours=3)).astimezone(settings.tz).replace(second=0, microsecond=0)
    queue = OutboundQueue(db.client, Policy.of(settings), db.restaurant_id)
    codes = []
    for n, phone in enumerate((GUEST, STOPPED)):
        res = make_reservation(f"call-dialer-text-{n}", phone=phone, day=starts.date(),
                               at=starts.time(), language="en")
        await db.book_reservation(res, SeatingPlan(seats=20), starts.date())
        await queue.schedule_reminder(res.code, now, channel="text")
        codes.append(res.code)
    await set_opted_out(db, STOPPED, True)
    return queue, codes[0], codes[1]


async def test_the_dialer_texts_a_due_reminder_once_after_twilio_was_unreachable(
        seeded_db: FirebaseManager, firestore_emulator: Emulator, tmp_path: Path) -> None:
    db = seeded_db
    queue, code, stopped = await _due_text_reminders(db)

    async def entry(c: str) -> dict:
        snap = await db.db.document(f"outbound_calls/text-reminder-{c}").get()
        return snap.to_dict() or {}

    # Twilio unreachable (nothing listens there): a failed try, retried later, not dropped.
    async with dialer(firestore_emulator, tmp_path, "http://127.0.0.1:9") as log:
        await until(lambda: _is(entry(code), outcome="failed"), log)
        await until(lambda: _is(entry(stopped), outcome="text_refused"), log)
    first = await entry(code)
    assert (first["status"], first["attempts"]) == ("pending", 1)
    assert first["next_try_at"] > datetime.now(UTC) + timedelta(minutes=25)
    assert (await entry(stopped))["status"] == "done"

    # Half an hour later (the retry made due now), Twilio answering: the text goes, once.
    await db.db.document(f"outbound_calls/text-reminder-{code}").update(
        {"next_try_at": datetime.now(UTC)})
    async with serve_twilio() as twilio, dialer(firestore_emulator, tmp_path, twilio.url) as log:
        await until(lambda: _is(entry(code), outcome="texted"), log)
        await asyncio.sleep(1.5)  # five more polls: nothing more goes
        sent = list(twilio.state.messages)
    done = await entry(code)
    assert (done["status"], done["attempts"]) == ("done", 2)
    [sms] = sent
    assert sms["to"] == GUEST and f"CANCEL {code}" in sms["body"]
    assert all(m["to"] != STOPPED for m in sent)
    assert "dispatched" not in _tail(log, 10**7), "a text reminder never dispatches an agent"
    assert await queue.claim("another-dialer", datetime.now(UTC), timedelta(minutes=10)) is None


async def _is(doc: Awaitable[dict], **fields: object) -> bool:
    got = await doc
    return all(got.get(k) == v for k, v in fields.items())
