"""A phone order over SIP that reaches Square and the caller's phone, through the real worker.

The native stack of test_sip_call_e2e (LiveKit server + SIP, the Firestore emulator, the fake AI
providers, `python main.py start`), with Square's and Twilio's fakes served on loopback by this
test and configured for the worker the way a restaurant configures the real ones
(SQUARE_ACCESS_TOKEN, SQUARE_BASE_URL, SQUARE_LOCATION_ID, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
TWILIO_BASE_URL, the two outboxes). SIPp calls the restaurant and speaks pos_text_call.yaml: an
order, "yes" to the read-back, "yes" to the offered text. The worker's job process saves the
order, its POS sender creates it in Square through the squareup SDK and its text sender sends
the text through the twilio SDK. The timeline, ms from the caller's "yes", goes to the CI log
and test-output/pos-text-sip-timeline.md (docs/pos.md "Must show" quotes it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actions.pos import idempotency_key
from fakes.script import Script
from scripts.devstack import Ports, Stack, StackOptions
from testkit.caller import RtpCapture, caller_audio, start_sipp
from testkit.clock import open_timezone
from testkit.emulator import EMULATOR_JAR
from testkit.square import FakeTwilio, serve_square, serve_twilio
from tests.telephony.helpers import ROOT, require
from tests.telephony.test_sip_call_e2e import (
    CALLER,
    RESTAURANT_NUMBER,
    _binaries_present,
    _fake_log,
)

SCRIPT = Path(__file__).with_name("pos_text_call.yaml")
PROJECT = "demo-pos-text"  # apart from the other stacks' projects
YES, YES_TEXT = "Yes, that's right", "Yes please, text me"
OUT = ROOT / "test-output" / "pos-text-sip-timeline.md"


def _saved(project: str) -> dict[str, Any]:
    """The restaurant's orders (with the emulator's create time), POS states and texts."""
    from google.cloud import firestore  # FIRESTORE_EMULATOR_HOST is set by the fixture

    from store.scope import scoped

    client = firestore.Client(project=project)
    try:
        ref = scoped(client, "main")
        return {
            "orders": [d.to_dict() | {"id": d.id, "_created": d.create_time.timestamp()}
                       for d in ref.collection("orders").stream()],
            "pos": {d.id: d.to_dict() for d in ref.collection("pos_orders").stream()},
            "texts": [d.to_dict() for d in ref.collection("texts").stream()],
        }
    finally:
        client.close()


async def _until_saved(what: str, check: Callable[[dict[str, Any]], bool],
                       within_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while not check(saved := await asyncio.to_thread(_saved, PROJECT)):
        assert time.monotonic() < deadline, f"{what}: not within {within_s:.0f} s: {saved}"
        await asyncio.sleep(0.5)
    return saved


def _worker_env(square_env: dict[str, str], twilio: FakeTwilio, tmp: Path) -> dict[str, str]:
    return square_env | {
        "TWILIO_ACCOUNT_SID": twilio.state.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.state.auth_token,
        "TWILIO_BASE_URL": twilio.url,
        "SMS_OUTBOX_PATH": str(tmp / "sms_outbox.jsonl"),
        # open whatever the hour CI runs at (the sample café closes at 9 pm New York time)
        "RESTAURANT_TIMEZONE": open_timezone(),
    }


def _heard_at(stt_log: dict[str, Any], line: str) -> float:
    """When the fake STT gave the worker the caller's `line` (its final transcript)."""
    return next(e["at"] for e in stt_log["emitted"] if e["text"] == line)


def _record(ms: dict[str, float]) -> str:
    rows = "\n".join(f"| {step} | {value:.0f} |" for step, value in ms.items())
    table = f"| step (SIP call, real worker) | ms after the caller's \"yes\" |\n|---|---|\n{rows}\n"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(f"# POS and text timeline over SIP (tests/telephony/test_pos_text_e2e.py)\n\n"
                   f"{table}")
    return table


async def test_sip_order_reaches_square_and_the_callers_phone_once(firestore_emulator, tmp_path,
                                                                   capsys):
    _binaries_present()
    require(EMULATOR_JAR.exists() or bool(firestore_emulator.host), "the Firestore emulator")
    lines = list(Script.load(SCRIPT).caller)
    await asyncio.to_thread(firestore_emulator.reset, PROJECT)
    pcm = await asyncio.to_thread(caller_audio, lines, lead_in=5.0, gap=8.0, tail=40.0)
    async with serve_square() as square, serve_twilio() as twilio:
        twilio.state.numbers.add(RESTAURANT_NUMBER)  # the restaurant's own number texts
        stack = Stack(StackOptions(
            ports=Ports.ephemeral(), workdir=tmp_path / "stack", numbers=(RESTAURANT_NUMBER,),
            allow=("127.0.0.1",), firestore_host=firestore_emulator.host, project=PROJECT,
            fakes_script=SCRIPT, tts_voice="tone", worker="start",
            ignore_load=True,  # the shared machine's load is not ours (see test_sip_call_e2e)
            worker_env=_worker_env(square.env(str(tmp_path / "pos_outbox.jsonl")), twilio,
                                   tmp_path),
        ))
        capture = RtpCapture()
        sipp = None
        try:
            await asyncio.to_thread(stack.start)
            sipp = start_sipp(workdir=tmp_path / "sipp", pcm=pcm,
                              target=f"127.0.0.1:{stack.options.ports.sip}",
                              number=RESTAURANT_NUMBER, caller=CALLER, rtp_port=capture.port,
                              timeout_s=240)
            rc = await asyncio.to_thread(sipp.wait, 270)
            assert rc == 0, f"SIPp call failed (rc {rc}):\n{sipp.output()[-3000:]}"
            llm_log = _fake_log(stack.fakes.llm)["requests"]
            assert not [e for r in llm_log for e in r["errors"]], llm_log
            called = [c["name"] for r in llm_log for c in r["tool_calls"]]
            assert called == ["start_order", "add_item", "set_customer", "review_order",
                              "confirm", "send_text", "end_call"], called
            stt_log = _fake_log(stack.fakes.stt)
            # the senders run off the call: wait until both recorded a final answer (sent, or
            # refused / failed, which the asserts below then name), not for a fixed time
            saved = await _until_saved(
                "Square's answer and the text's outcome recorded in Firestore",
                lambda s: any(p.get("state") in ("sent", "refused") for p in s["pos"].values())
                and any(t.get("state") in ("sent", "failed") for t in s["texts"]), within_s=60)
        finally:
            if sipp is not None:
                sipp.kill()
            capture.close()
            await asyncio.to_thread(stack.stop)  # the worker is gone: nothing more can arrive
        made = square.orders()
        messages = list(twilio.state.messages)
        keys, calls = dict(square.state.by_key), dict(square.state.calls)

    [order] = saved["orders"]  # saved exactly once
    assert order["customer_phone"] == CALLER and order["customer_name"] == "Sam Rivera"
    assert [line["item_id"] for line in order["lines"]] == ["cappuccino"], order["lines"]
    [sq] = made  # exactly one Square order
    key = idempotency_key("main", order["id"])
    assert list(keys) == [key] and keys[key][1] == sq["id"], (keys, sq["id"])
    assert sq["total_money"]["amount"] == order["total_cents"], (sq["total_money"], order)
    assert sq["reference_id"] == order["order_number"]
    pos = saved["pos"][order["id"]]
    assert pos["state"] == "sent" and not pos.get("totals_differ"), pos
    [sms] = messages  # exactly one text, to the caller, about this order
    assert sms["to"] == CALLER and sms["from"] == RESTAURANT_NUMBER, sms
    assert order["order_number"] in sms["body"], sms["body"]
    [text] = saved["texts"]
    assert text["state"] == "sent" and text["sid"] == sms["sid"] and text["about"] == order["id"]

    t_yes = _heard_at(stt_log, YES)
    t_yes_text = _heard_at(stt_log, YES_TEXT)
    t_saved = order["_created"]
    t_square = square.state.made_at[sq["id"]]
    t_text = twilio.state.sent_at[sms["sid"]]
    ms = {"order saved (the emulator's create time)": (t_saved - t_yes) * 1000,
          "Square order created (the fake's clock)": (t_square - t_yes) * 1000,
          "caller's yes to the offered text reaches the worker": (t_yes_text - t_yes) * 1000,
          "text sent (Twilio's fake took it)": (t_text - t_yes) * 1000,
          "text sent, after the caller's yes to the text": (t_text - t_yes_text) * 1000}
    table = _record(ms | {"Square create calls (retries included)": float(calls[key])})
    with capsys.disabled():  # the timeline belongs in the CI log even when the test passes
        print(f"\nPOS and text timeline over SIP:\n{table}")
    assert 0 < t_saved - t_yes < t_square - t_yes, ms
    assert t_yes_text < t_text, ms
