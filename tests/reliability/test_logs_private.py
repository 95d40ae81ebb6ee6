"""No secret, phone number, card number or caller's words in the logs at INFO and above.

LiveKit names a SIP call's room after the caller ("call-_+16175550199_Ab12") and logs it; the
worker uses the room name as the call id. The worker therefore puts redact.PrivateLogs on its
log handlers (main.py, on "worker_started"); these tests do the same with pytest's handler and
look at every record of a full scripted call, formatted the way LiveKit's JSON logs are."""

from __future__ import annotations

import json
import logging

import pytest
from livekit.agents import AgentSession
from livekit.agents.cli.log import JsonFormatter
from pydantic import SecretStr

from agents.call import SESSION_OPTIONS, new_call, start_call
from config import Settings
from conversation.state import CallServices
from domain.redact import PrivateLogs, protect_logs
from testkit.scripted_llm import Call, ScriptedLLM
from tests.conversation.harness import NOW, Phone, catalog_from, tool_output
from tests.privacy import CARD, digit_runs
from worker import providers

pytestmark = pytest.mark.usefixtures("settle_tasks")

CALLER = "+16175550199"
ROOM = f"call-_{CALLER}_Xb7Qp2"  # as LiveKit SIP names a caller's room
SECRETS = ("sk-live-0123456789abcdef", "dg-live-fedcba9876543210", "ct-live-a1b2c3d4e5f6")
SAID = ("I'd like a xylophone-shaped croissant, my name is Quentin Marlowe, call me on "
        f"617 555 0123, and put it on my card {CARD}")


def leaks(text: str) -> list[str]:
    found = [s for s in SECRETS if s in text]
    for number in (CALLER, CALLER[1:], "6175550199", "6175550123", "617 555 0123"):
        if number in text:
            found.append(number)
    for words in ("xylophone", "Quentin", "Marlowe"):
        if words in text:
            found.append(words)
    found += [f"card digits {run}" for run in digit_runs(CARD, text)]
    return found


def _said(line: str) -> str:
    """A JSON log line without the time the formatter stamped on it: "00:17:04.7216" holds the
    card's digits "0472" with a separator, and no caller said it."""
    record = json.loads(line)
    record.pop("timestamp", None)
    return json.dumps(record)


def test_the_filter_masks_livekit_style_records():
    record = logging.makeLogRecord({
        "name": "livekit.agents", "levelno": logging.INFO, "levelname": "INFO",
        "msg": "received job request for %s", "args": (ROOM,),
        "room": ROOM, "job": {"participant": CALLER, "card": CARD},
    })
    assert PrivateLogs().filter(record)
    line = JsonFormatter().format(record)
    assert leaks(line) == [], line
    assert "+*********99" in line  # still tells calls apart


async def test_a_full_call_logs_nothing_private(seeded_db, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    protect_logs()  # what main.py does once LiveKit has set up logging
    assert any(isinstance(f, PrivateLogs) for f in caplog.handler.filters)

    settings = Settings(
        openai_api_key=SecretStr(SECRETS[0]), deepgram_api_key=SecretStr(SECRETS[1]),
        cartesia_api_key=SecretStr(SECRETS[2]),
    )
    logging.getLogger("restaurant.test").info("settings loaded: %s", settings)
    providers.build(settings, providers.ProviderSettings())

    llm = ScriptedLLM([
        Call("start_order"),
        Call("add_item", {"item": "croissant",
                          "special_instructions": f"xylophone shaped, card {CARD}"}),
        Call("add_item", {"item": "croissant", "special_instructions": "xylophone shaped"}),
        Call("set_customer", {"name": "Quentin Marlowe", "phone": "617 555 0123"}),
        Call("review_order"),
        Call("confirm"),
        "Your order is placed, Quentin. Anything else?",
        Call("take_message", {"name": "Quentin Marlowe", "phone": "617 555 0123",
                              "reason": f"Refund to card {CARD} please"}),
        "Noted.",
        Call("end_call"),
    ])
    catalog = await catalog_from(seeded_db)
    phone = Phone()
    services = CallServices(db=seeded_db, catalog=catalog, clock=lambda: NOW,
                            transfer=phone.transfer)
    userdata = await new_call(ROOM, services, CALLER, "+16175550142")
    session = AgentSession(llm=llm, userdata=userdata, **SESSION_OPTIONS)
    await (await start_call(session, userdata))
    result = await session.run(user_input=SAID)
    refused, is_error = tool_output(result, "add_item")
    assert is_error and "pay at pickup" in refused
    await session.run(user_input="Yes, that's right")
    await session.run(user_input=f"Also leave a message: refund to card {CARD}")
    await session.run(user_input="Bye")
    await userdata.recorder.finish(session.history, "test_end")

    lines = [JsonFormatter().format(r) for r in caplog.records if r.levelno >= logging.INFO]
    assert lines, "nothing was logged"
    bad = {line: leaks(_said(line)) for line in lines if leaks(_said(line))}
    assert bad == {}
    # The records that matter are there, with the call told apart by its masked id.
    assert any("call log written" in line and "+*********99" in line for line in lines)

    # And in Firestore: the order and the message carry no card number.
    orders = [d.to_dict() async for d in seeded_db.db.collection("orders").stream()]
    messages = [d.to_dict() async for d in seeded_db.db.collection("messages").stream()]
    log = (await seeded_db.db.document(f"call_logs/{ROOM}").get()).to_dict()
    assert len(orders) == 1 and len(messages) == 1
    stored = str(orders) + str(messages) + str(log)
    assert digit_runs(CARD, stored) == [] and "[card number removed]" in str(messages)
    assert "[card number removed]" in str(log["transcript"])
