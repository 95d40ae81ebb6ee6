"""Reminder calls, end to end, the way production places them: the dialer service leases the
reminder from the Firestore queue and dispatches the real worker, which dials through the real
LiveKit SIP outbound trunk (scripts/setup_sip.py's `restaurant-outbound`) to the real
FreeSWITCH, which rings the guest through the provider: a SIPp phone on 127.0.0.5
(tests/telephony/callee.py talks and presses keys on it, RFC 4733). The fake AI providers
follow a script per call (fakes/: the voicemail detector's question too).

One native stack (devstack.py, with its dialer and FreeSWITCH) serves every call here.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from models import Message, RestaurantSettings
from scripts.devstack import Ports, Stack, StackOptions
from scripts.freeswitch import FreeSwitchError, find_freeswitch
from store.outbound import OutboundQueue, Policy
from store.scope import RestaurantScope, scoped
from testkit.caller import SIPP_DIR, answer_calls, free_udp_port
from testkit.clock import open_timezone
from testkit.emulator import EMULATOR_JAR
from testkit.records import make_reservation
from tests.telephony.callee import Callee, Keys, Say
from tests.telephony.helpers import require
from tests.telephony.test_sip_call_e2e import _binaries_present

HERE = Path(__file__).resolve().parent
PROJECT = "demo-outbound"
RESTAURANT_NUMBER = "+15550100"
GUEST_IP = "127.0.0.5"  # the provider's termination: FreeSWITCH's PROVIDER_OUTBOUND
GUEST_ZONE = ZoneInfo("America/New_York")  # +1 617 numbers: calling hours are Boston's
HELLO = "Hello?"
VOICEMAIL = ("Hi, this is Sam. I can't take your call right now, please leave a message "
             "after the tone.")


@pytest.fixture(scope="module")
def stack(firestore_emulator, tmp_path_factory):
    _binaries_present()
    try:
        find_freeswitch()
    except FreeSwitchError:
        require(False, "FreeSWITCH (built by scripts/build_freeswitch.sh)")
    require(EMULATOR_JAR.exists() or bool(firestore_emulator.host), "the Firestore emulator")
    firestore_emulator.reset(PROJECT)
    workdir = tmp_path_factory.mktemp("outbound-stack")
    script = workdir / "idle.yaml"
    script.write_text("caller: []\nllm: []\n")
    options = StackOptions(
        ports=Ports.ephemeral(), workdir=workdir, numbers=(RESTAURANT_NUMBER,),
        allow=("127.0.0.1",), firestore_host=firestore_emulator.host, project=PROJECT,
        fakes_script=script, tts_voice="tone", worker="start", ignore_load=True,
        worker_env={"RESTAURANT_TIMEZONE": open_timezone()},
        dialer_env={"DIALER_POLL_S": "0.5"},
        freeswitch=True, provider_outbound=f"{GUEST_IP}:{free_udp_port(GUEST_IP)}",
    )
    s = Stack(options)
    s.start()
    try:
        yield s
    finally:
        s.stop()


def _post(url: str, body: dict[str, Any]) -> None:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def load_script(stack: Stack, script: dict[str, Any]) -> None:
    _post(f"{stack.fakes.llm}/_fake/script", script)
    _post(f"{stack.fakes.stt}/_fake/script", script)


def voicemail() -> dict[str, Any]:
    """A mailbox answers with its greeting (the voicemail detector's verdict: machine-vm)."""
    return {"caller": [VOICEMAIL], "llm": [
        {"when": "leave a message", "offers": "save_prediction",
         "steps": [{"tool_calls": [{"name": "save_prediction",
                                    "arguments": {"label": "machine-vm"}}]}]}]}


def human(lines: list[str], rules: list[dict[str, Any]]) -> dict[str, Any]:
    """A person answers "Hello?" (the voicemail detector's verdict: human), then `lines`."""
    amd = {"when": "hello", "offers": "save_prediction",
           "steps": [{"tool_calls": [{"name": "save_prediction",
                                      "arguments": {"label": "human"}}]}]}
    return {"caller": [HELLO, *lines], "llm": [amd, *rules]}


def guest_port(stack: Stack) -> int:
    return int(stack.options.provider_outbound.rsplit(":", 1)[1])


def client() -> RestaurantScope:
    """The default restaurant's documents, where the worker and the dialer look."""
    return scoped(firestore.AsyncClient(project=PROJECT))


def restaurant() -> RestaurantSettings:
    return RestaurantSettings(name="Test Cafe", timezone=open_timezone())


async def set_calling_hours(db: firestore.AsyncClient, open_: dtime, close: dtime) -> None:
    """The calling window; and the café open 07:00-23:00 every day, so a change to 18:30
    is bookable whatever day CI runs (the sample café closes at 16:00 on Sundays)."""
    every_day = {d: [{"open": "07:00", "close": "23:00"}]
                 for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    await db.document("settings/restaurant").set(
        {"outbound_hours": {"open": open_.strftime("%H:%M"), "close": close.strftime("%H:%M")},
         "hours": every_day}, merge=True)


def hours_around_now(inside: bool) -> tuple[dtime, dtime]:
    """A calling window in the guest's zone that holds now (or that does not)."""
    now = datetime.now(GUEST_ZONE)
    base = now.replace(minute=0, second=0, microsecond=0)
    if inside:
        start = max(base - timedelta(hours=1), base.replace(hour=0))
        end = base + timedelta(hours=2)
        return start.time(), (end.time() if end.date() == now.date() else dtime(23, 59))
    if now.hour <= 20:
        return (base + timedelta(hours=2)).time(), (base + timedelta(hours=3)).time()
    return dtime(1, 0), dtime(2, 0)


async def book_tonight(db: firestore.AsyncClient, code: str, phone: str,
                      language: str | None = None) -> None:
    """A table at 19:00 today, restaurant time (where it is about noon): the reminder is due."""
    tz = ZoneInfo(open_timezone())
    res = make_reservation(code=code, phone=phone, day=datetime.now(tz).date(), at=dtime(19, 0),
                           name="Sam Rivera", language=language)
    await db.document(f"reservations/{code}").set(res.to_doc())


async def wait_for(predicate, within: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.3)
    raise AssertionError(f"{what}: not within {within:.0f}s")


def worker_marks(stack: Stack, since: float) -> list[tuple[float, str]]:
    """The worker's "outbound ..." timeline lines (JSON log records) since `since`."""
    out = []
    text = stack.procs["worker"].log_path.read_text(errors="replace")
    for line in text.splitlines():
        if '"outbound ' not in line and "outbound " not in line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        msg = str(rec.get("message", ""))
        stamp = rec.get("timestamp")
        if not msg.startswith("outbound ") or stamp is None:
            continue
        at = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
        if at >= since:
            out.append((at, "worker: " + msg.removeprefix("outbound ")))
    return out


async def reminder_call(stack: Stack, tmp: Path, *, code: str, phone: str,
                        script: dict[str, Any], plan: list[Say | Keys], capsys,
                        title: str, message: Message | None = None,
                        language: str | None = None, quiet_s: float = 3.0,
                        scenario: str = "staff_phone_uas.xml") -> dict[str, Any]:
    """Book, schedule the reminder, let the dialer and the worker call the SIPp phone; returns
    the queue entry, the booking, the call log, the fake LLM's requests and the SIPp trace."""
    load_script(stack, script)
    phone_rtp = Callee(ip=GUEST_IP, plan=plan, quiet_s=quiet_s)
    sipp, _ = answer_calls(workdir=tmp / f"phone-{code}", rtp_port=phone_rtp.port,
                           local_ip=GUEST_IP, port=guest_port(stack), timeout_s=150,
                           scenario=SIPP_DIR / scenario)
    db = client()
    started = time.time()
    scheduled_id = f"callback-{message.id}" if message else f"reminder-{code}"
    try:
        await asyncio.sleep(0.5)  # SIPp binds its port
        await set_calling_hours(db, *hours_around_now(inside=True))
        queue = OutboundQueue(db, Policy.of(restaurant()))
        if message is None:
            await book_tonight(db, code, phone, language)
            started = time.time()
            await queue.schedule_reminder(code, datetime.now(UTC))
        else:  # what the board's "Call back" button and `scripts/outbound.py callback` do
            await db.document(f"messages/{message.id}").set(message.to_doc())
            started = time.time()
            await queue.schedule_callback(message.id, datetime.now(UTC))
        rc = await asyncio.to_thread(sipp.wait, 160)
        done = await wait_for(
            lambda: _finished(queue, scheduled_id), 30, f"{scheduled_id} finished")
        res = (await db.document(f"reservations/{code}").get()).to_dict() or {}
        room = done.call_ids[-1]
        logs = [s.to_dict() async for s in db.collection("call_logs").stream()]
        log = next((x for x in logs if x.get("call_id") == room), None)
        if log is None:
            log = await wait_for(lambda: _call_log(db, room), 20, f"call log of {room}")
    finally:
        sipp.kill()
        phone_rtp.close()
        messages = sipp.messages()
        # the timeline belongs in the CI log, whether the test passes or not
        print_timeline(stack, capsys, title, started, scheduled_id, messages, phone_rtp)
    assert rc == 0, f"SIPp phone failed (rc {rc}):\n{sipp.output()[-2000:]}"
    assert any(d == "received" and f.startswith("BYE") for _, d, f in messages), \
        "the agent never hung up"
    llm = _get(f"{stack.fakes.llm}/_fake/log")["requests"]
    with capsys.disabled():
        print(llm_figures(llm))
    assert not [e for r in llm for e in r["errors"]], llm
    return {"call": done, "booking": res, "log": log, "llm": llm, "messages": messages,
            "invite": next(f for _, d, f in messages if d == "received"), "phone": phone_rtp}


def print_timeline(stack: Stack, capsys, title: str, started: float,  # type: ignore[no-untyped-def]
                   call_id: str, messages: list[tuple[float, str, str]], phone: Callee) -> None:
    timeline = [(t, f"phone {d} {first}") for t, d, first in messages]
    timeline += [(started, f"reminder {call_id} scheduled (due now)")]
    timeline += worker_marks(stack, started - 1)
    timeline += phone.done
    try:
        heard = _get(f"{stack.fakes.stt}/_fake/log")["emitted"]
    except OSError:
        heard = []
    timeline += [(e["at"], f"STT heard {e['text']!r}") for e in heard if e["at"] >= started]
    first_audio = phone.first_audible(after=started)
    if first_audio:
        timeline.append((first_audio, "phone hears the agent (first audible RTP)"))
    report = "\n".join(f"  {t - started:7.2f}s  {what}" for t, what in sorted(timeline))
    packets = list(phone.packets)
    kinds = sorted({p.payload_type for p in packets})
    loudest = max((p.level for p in packets), default=0.0)
    report += (f"\n  phone got {len(packets)} RTP packets (payload types {kinds}, loudest "
               f"{loudest:.0f}) from {sorted(phone.sources)}; sent {phone.sent}")
    with capsys.disabled():
        print(f"\n{title} (0 = reminder scheduled):\n{report}")


async def _finished(queue: OutboundQueue, call_id: str):  # type: ignore[no-untyped-def]
    call = await queue.get(call_id)
    return call if call is not None and call.status in ("done", "failed", "skipped") else None


async def _call_log(db: firestore.AsyncClient, room: str):  # type: ignore[no-untyped-def]
    query = db.collection("call_logs").where(filter=FieldFilter("call_id", "==", room))
    async for s in query.stream():
        return s.to_dict()
    return None


def tts_since(stack: Stack, since: float) -> list[dict[str, Any]]:
    """What the agents asked the fake TTS to say from `since` (time.time()) on."""
    return [e for e in _get(f"{stack.fakes.tts}/_fake/log")["spoken"] if e["at"] >= since]


def tools_called(llm: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for r in llm for c in r["tool_calls"] if c["name"] != "save_prediction"]


# ----------------------------------------------------------------------------- the calls


async def test_reminder_kept_by_voice(stack, tmp_path, capsys):
    code, phone = "KEEPV1", "+16175550111"
    script = human(["Yes, we'll be there, thanks"], [
        {"when": "be there", "steps": [{"tool_calls": [{"name": "keep_booking"}]},
                                       {"tool_calls": [{"name": "end_call"}]}]}])
    out = await reminder_call(stack, tmp_path, code=code, phone=phone, script=script,
                              plan=[Say(HELLO, wait_agent=False, delay=0.8),
                                    Say("Yes, we'll be there, thanks")],
                              capsys=capsys, title="reminder kept by voice")
    assert out["call"].outcome == "kept" and out["call"].status == "done"
    assert out["call"].attempts == 1
    assert out["booking"]["status"] != "cancelled"
    assert tools_called(out["llm"]) == ["keep_booking", "end_call"]
    log = out["log"]
    assert log["direction"] == "outbound" and log["outbound_call_id"] == f"reminder-{code}"
    assert log["outcome"] == "kept" and log["caller"] == phone
    said = " ".join(t["text"] for t in log["transcript"] if t["role"] == "assistant")
    # who calls, and the booking read out
    assert "assistant of" in said and "2 people today at 7 PM, under Sam Rivera" in said, said
    assert phone not in json.dumps(log["transcript"])  # masked like an inbound transcript
    assert phone.removeprefix("+") in out["invite"] or phone in out["invite"], out["invite"]
    assert log["usage"]["llm_requests"] >= 2
    # the "Hello?" the voicemail detector judged gets no answer of its own: the introduction
    answered = [r["user"] for r in out["llm"] if "save_prediction" not in r["offered_tools"]]
    assert HELLO not in answered, answered


def llm_figures(requests: list[dict[str, Any]]) -> str:
    """Requests and tokens (o200k_base when bpe-openai is installed), as bench/tokens.py counts."""
    from bench.tokens import Counter
    from fakes.script import Step, ToolCall

    counter = Counter()
    lines, total_in, total_out = [], 0, 0
    for n, r in enumerate(requests, 1):
        prompt = counter.prompt(r["body"])
        step = Step(text=r["text"], tool_calls=tuple(
            ToolCall(c["name"], json.loads(c["arguments"] or "{}")) for c in r["tool_calls"]))
        completion = counter.completion(step)
        total_in, total_out = total_in + prompt, total_out + completion
        what = ", ".join(c["name"] for c in r["tool_calls"]) or repr(r["text"][:40])
        lines.append(f"  {n}. answering {r['user']!r}: {prompt} in / {completion} out -> {what}")
    return (f"LLM requests of the call: {len(requests)}, tokens {total_in} in + {total_out} out "
            f"({counter.method})\n" + "\n".join(lines))


async def test_call_back_knows_why_it_calls(stack, tmp_path, capsys):
    phone = "+16175550121"
    reason = "Asks whether the terrace is open for a birthday on Friday"
    message = Message(id="call-x-message-1", call_id="call-x", name="Robin Park", phone=phone,
                      reason=reason, created_at=datetime.now(UTC))
    script = human(["Great, thanks for calling back, bye"], [
        {"when": "bye", "steps": [{"tool_calls": [{"name": "end_call"}]}]}])
    out = await reminder_call(stack, tmp_path, code="-", phone=phone, script=script,
                              plan=[Say(HELLO, wait_agent=False, delay=0.8),
                                    Say("Great, thanks for calling back, bye")],
                              capsys=capsys, title="call-back", message=message)
    assert out["call"].kind == "callback" and out["call"].outcome == "delivered"
    said = " ".join(t["text"] for t in out["log"]["transcript"] if t["role"] == "assistant")
    assert "calling you back" in said and "terrace" in said, said  # it says why it calls
    agent_requests = [r for r in out["llm"] if "save_prediction" not in r["offered_tools"]]
    system = str(agent_requests[0]["body"]["messages"][0]["content"])
    assert reason in system and "Robin Park" in system, system  # and the model knows it
    assert "do_not_call" in agent_requests[0]["offered_tools"]
    assert out["log"]["direction"] == "outbound"


def confirmed_by_voice(code: str, ask: str, when: str, tool: str,
                       arguments: dict[str, Any]) -> dict[str, Any]:
    """Change or cancel by voice: the inbound tools, their read-back, a yes, a goodbye."""
    return human([ask, "Yes please", "No, that's all, bye"], [
        {"when": when, "steps": [{"tool_calls": [{"name": tool,
                                                  "arguments": {"code": code, **arguments}}]}]},
        {"when": "yes please", "steps": [{"tool_calls": [{"name": "confirm"}]},
                                         {"text": "Done. Anything else?"}]},
        {"when": "bye", "steps": [{"tool_calls": [{"name": "end_call"}]}]},
    ])


async def test_reminder_changed_by_voice(stack, tmp_path, capsys):
    code, phone = "CHGV01", "+16175550118"
    ask = "Could we make it 6 pm instead?"
    out = await reminder_call(
        stack, tmp_path, code=code, phone=phone,
        script=confirmed_by_voice(code, ask, "6 pm", "change_reservation", {"time": "6pm"}),
        plan=[Say(HELLO, wait_agent=False, delay=0.8), Say(ask), Say("Yes please"),
              Say("No, that's all, bye")],
        capsys=capsys, title="reminder changed by voice")
    assert out["call"].outcome == "changed"
    assert out["booking"]["time"].startswith("18:00"), out["booking"]
    assert tools_called(out["llm"]) == ["change_reservation", "confirm", "end_call"]
    assert out["log"]["outcome"] == "change"


async def test_reminder_cancelled_by_voice(stack, tmp_path, capsys):
    code, phone = "CANV01", "+16175550119"
    ask = "We need to cancel it, sorry"
    out = await reminder_call(
        stack, tmp_path, code=code, phone=phone,
        script=confirmed_by_voice(code, ask, "cancel", "cancel_reservation", {}),
        plan=[Say(HELLO, wait_agent=False, delay=0.8), Say(ask), Say("Yes please"),
              Say("No, that's all, bye")],
        capsys=capsys, title="reminder cancelled by voice")
    assert out["call"].outcome == "cancelled"
    assert out["booking"]["status"] == "cancelled"
    assert tools_called(out["llm"]) == ["cancel_reservation", "confirm", "end_call"]


async def test_reminder_kept_by_keypad(stack, tmp_path, capsys):
    code, phone = "KEEPK1", "+16175550120"
    out = await reminder_call(stack, tmp_path, code=code, phone=phone, script=human([], []),
                              plan=[Say(HELLO, wait_agent=False, delay=0.8), Keys("1")],
                              capsys=capsys, title="reminder kept by keypad")
    assert out["call"].outcome == "kept" and out["booking"]["status"] != "cancelled"
    assert tools_called(out["llm"]) == []
    assert out["log"]["outcome"] == "kept"


async def test_reminder_cancelled_by_keypad(stack, tmp_path, capsys):
    code, phone = "CANKP1", "+16175550112"
    out = await reminder_call(stack, tmp_path, code=code, phone=phone, script=human([], []),
                              plan=[Say(HELLO, wait_agent=False, delay=0.8), Keys("3")],
                              capsys=capsys, title="reminder cancelled by keypad")
    assert out["call"].outcome == "cancelled"
    assert out["booking"]["status"] == "cancelled"
    assert tools_called(out["llm"]) == []  # the keypad needs no LLM
    assert out["log"]["outcome"] == "cancel"


async def test_reminder_changed_by_keypad(stack, tmp_path, capsys):
    code, phone = "CHGKP1", "+16175550113"
    out = await reminder_call(stack, tmp_path, code=code, phone=phone, script=human([], []),
                              plan=[Say(HELLO, wait_agent=False, delay=0.8), Keys("2"),
                                    Keys("1830#")],
                              capsys=capsys, title="reminder changed by keypad")
    assert out["call"].outcome == "changed"
    assert out["booking"]["time"].startswith("18:30"), out["booking"]
    assert out["booking"]["status"] != "cancelled"
    # The # the prompt asked for after the four digits closes the time: the guest hears the
    # goodbye whole, not cut off by the keypad menu as if # were a new key.
    invited = out["messages"][0][0]
    spoken = [e["text"] for e in tts_since(stack, invited)]
    said = " ".join(spoken)
    assert "Thank you, goodbye" in said, spoken
    assert "You can also use your keypad" not in said.split("Done:")[-1], spoken


async def test_a_key_pressed_over_the_introduction_is_answered_at_once(stack, tmp_path, capsys):
    """A guest who knows what they want presses 2 while the introduction is still playing:
    the introduction stops and the time prompt is heard (not silence), then the change."""
    code, phone = "CHGKP2", "+16175550118"
    out = await reminder_call(stack, tmp_path, code=code, phone=phone, script=human([], []),
                              plan=[Say(HELLO, wait_agent=False, delay=0.8),
                                    Keys("2", wait_agent=False, delay=3.0), Keys("1830#")],
                              capsys=capsys, title="key pressed over the introduction")
    assert out["call"].outcome == "changed"
    assert out["booking"]["time"].startswith("18:30"), out["booking"]
    pressed = next(t for t, what in out["phone"].done if what == "guest pressed 2")
    intro = [t for t, what in worker_marks(stack, pressed - 30) if what == "worker: introduction"]
    assert intro and intro[0] < pressed, "the key came before the introduction"
    prompt = [e for e in tts_since(stack, pressed) if "Enter the new time" in e["text"]]
    assert prompt, "the time prompt was never spoken"
    heard = out["phone"].first_audible(after=prompt[0]["at"])
    assert heard is not None and heard - pressed < 3.0, (pressed, heard)


SPANISH = {"languages": ["en", "es"], "voices": {"es": "voice-es-e2e"},
           "lines": {"es": {"recording_notice": "Esta llamada se graba.",
                            "large_party_note": "Para grupos grandes, llame al gerente."}}}


async def test_a_spanish_booking_is_reminded_and_kept_in_spanish(stack, tmp_path, capsys):
    code, phone = "ESKEP1", "+16175550123"
    db = client()
    settings = db.document("settings/restaurant")
    before = (await settings.get()).to_dict() or {}
    await settings.set(SPANISH, merge=True)
    try:
        t0 = time.time()
        out = await reminder_call(stack, tmp_path, code=code, phone=phone,
                                  script=human([], []), language="es",
                                  plan=[Say(HELLO, wait_agent=False, delay=0.8), Keys("1")],
                                  capsys=capsys, title="Spanish reminder kept by keypad")
    finally:  # the other calls here are the English restaurant's
        await settings.update({k: before.get(k, firestore.DELETE_FIELD) for k in SPANISH})
    assert out["call"].outcome == "kept" and out["log"]["outcome"] == "kept"
    assert out["log"]["language"] == "es" and out["log"]["languages"] == ["es"]
    said = " ".join(t["text"] for t in out["log"]["transcript"] if t["role"] == "assistant")
    assert ("Le llamamos para recordarle su reserva: una mesa para 2 personas hoy a las 7 de "
            "la tarde, a nombre de Sam Rivera.") in said, said
    assert "Queda confirmada: una mesa para 2 personas" in said and "Gracias, le esperamos." \
        in said, said
    assert "Hello, this is" not in said and "7 PM" not in said, said
    spoken = tts_since(stack, t0)
    assert spoken and all((s["language"], s["voice"]) == ("es", "voice-es-e2e")
                          for s in spoken), spoken
    assert tools_called(out["llm"]) == []


async def test_voicemail_gets_a_short_message(stack, tmp_path, capsys):
    code, phone = "VMAIL1", "+16175550114"
    script = voicemail()
    out = await reminder_call(stack, tmp_path, code=code, phone=phone, script=script,
                              plan=[Say(VOICEMAIL, wait_agent=False, delay=0.5)],
                              capsys=capsys, title="voicemail")
    assert out["call"].outcome == "voicemail_left" and out["call"].status == "done"
    assert out["log"]["outcome"] == "voicemail"
    said = " ".join(t["text"] for t in out["log"]["transcript"] if t["role"] == "assistant")
    assert "booking" in said and "19" not in said and "Sam" not in said, said
    # one request: the detector's; the greeting itself gets no answer from the agent
    assert [r["offered_tools"] for r in out["llm"]] == [["postpone_termination",
                                                        "save_prediction"]], out["llm"]


async def test_a_guest_who_goes_silent_is_asked_then_let_go(stack, tmp_path, capsys):
    """A person answers "Hello?" and then says and presses nothing (the phone put down, a key
    that never arrived): 15 s after the introduction they are asked whether they are still
    there, with the keypad again; 12 s of silence more and the agent says goodbye and hangs
    up, instead of holding the line until the 10-minute cap. Booking untouched."""
    code, phone = "SILENT", "+16175550119"
    out = await reminder_call(stack, tmp_path, code=code, phone=phone, script=human([], []),
                              plan=[Say(HELLO, wait_agent=False, delay=0.8)],
                              capsys=capsys, title="a guest who goes silent")
    assert out["call"].outcome == "delivered", out["call"]
    assert out["booking"]["time"].startswith("19:00") and out["booking"]["status"] != "cancelled"
    invited = out["messages"][0][0]
    spoken = [(e["at"], e["text"]) for e in tts_since(stack, invited)]
    asked = [t for t, text in spoken if text.startswith("Are you still there?")]
    goodbye = [t for t, text in spoken if "I'll let you go now" in text]
    assert len(asked) == 1 and len(goodbye) == 1, spoken
    assert "press 1 to keep it" in " ".join(text for t, text in spoken if t >= asked[0])
    bye = next(t for t, d, f in out["messages"] if d == "received" and f.startswith("BYE"))
    assert asked[0] < goodbye[0] < bye < invited + 90, (invited, asked, goodbye, bye)
    assert tools_called(out["llm"]) == []


async def test_dont_call_me_again_is_stored_and_honoured(stack, tmp_path, capsys):
    code, phone = "OPTOUT", "+16175550115"
    script = human(["Please don't call me again"], [
        {"when": "call me again", "steps": [{"tool_calls": [{"name": "do_not_call"}]},
                                            {"tool_calls": [{"name": "end_call"}]}]}])
    out = await reminder_call(stack, tmp_path, code=code, phone=phone, script=script,
                              plan=[Say(HELLO, wait_agent=False, delay=0.8),
                                    Say("Please don't call me again")],
                              capsys=capsys, title="opt-out")
    assert out["call"].outcome == "opted_out"
    db = client()
    assert (await db.document(f"do_not_call/{phone}").get()).exists
    queue = OutboundQueue(db, Policy.of(restaurant()))
    await book_tonight(db, "OPTOU2", phone)
    from domain.refusal import Refusal

    with pytest.raises(Refusal, match="asked not to be called"):
        await queue.schedule_reminder("OPTOU2", datetime.now(UTC))


async def test_outside_calling_hours_nobody_is_dialled(stack, tmp_path):
    code, phone = "HOURS1", "+16175550116"
    db = client()
    await set_calling_hours(db, *hours_around_now(inside=False))
    await book_tonight(db, code, phone)
    queue = OutboundQueue(db, Policy.of(restaurant()))
    call = await queue.schedule_reminder(code, datetime.now(UTC))
    await asyncio.sleep(4)  # eight dialer polls
    later = await queue.get(call.id)
    assert later is not None and later.status == "pending" and later.attempts == 0
    assert later.next_try_at is not None and later.next_try_at > datetime.now(UTC)
    opens = later.next_try_at.astimezone(GUEST_ZONE)
    assert opens.minute == 0 and opens.time() == hours_around_now(inside=False)[0], opens
    await db.document(f"outbound_calls/{call.id}").delete()  # out of the next tests' way


async def test_two_dialers_racing_ring_the_guest_once(stack, tmp_path, capsys):
    stack.start_dialer("dialer-2", DIALER_POLL_S="0.5")
    try:
        code, phone = "RACE01", "+16175550117"
        script = human(["Yes, we'll be there, thanks"], [
            {"when": "be there", "steps": [{"tool_calls": [{"name": "keep_booking"}]},
                                           {"tool_calls": [{"name": "end_call"}]}]}])
        out = await reminder_call(stack, tmp_path, code=code, phone=phone, script=script,
                                  plan=[Say(HELLO, wait_agent=False, delay=0.8),
                                        Say("Yes, we'll be there, thanks")],
                                  capsys=capsys, title="two dialers")
        logs = {n: (stack.workdir / "logs" / f"{n}.log").read_text(errors="replace")
                for n in ("dialer", "dialer-2")}
    finally:
        stack._terminate(stack.procs.pop("dialer-2"))
    invites = [f for _, d, f in out["messages"] if d == "received" and f.startswith("INVITE")]
    assert len(invites) == 1, invites
    assert out["call"].attempts == 1 and out["call"].outcome == "kept"
    dispatched = [n for n, text in logs.items() if f"dispatched reminder-{code}" in text]
    assert len(dispatched) == 1, dispatched


async def test_a_busy_guest_is_tried_again_later(stack, tmp_path, capsys):
    code, phone = "BUSY01", "+16175550122"
    load_script(stack, {"caller": [], "llm": []})
    sipp, _ = answer_calls(workdir=tmp_path / "busy", rtp_port=9, local_ip=GUEST_IP,
                           port=guest_port(stack), timeout_s=60,
                           scenario=SIPP_DIR / "busy_phone_uas.xml")
    db = client()
    try:
        await asyncio.sleep(0.5)
        await set_calling_hours(db, *hours_around_now(inside=True))
        await book_tonight(db, code, phone)
        queue = OutboundQueue(db, Policy.of(restaurant()))
        started = time.time()
        await queue.schedule_reminder(code, datetime.now(UTC))
        rc = await asyncio.to_thread(sipp.wait, 60)

        async def retried():  # type: ignore[no-untyped-def]
            call = await queue.get(f"reminder-{code}")
            return call if call is not None and call.outcome else None

        call = await wait_for(retried, 30, "the busy attempt recorded")
        log = await wait_for(lambda: _call_log(db, call.call_ids[-1]), 20, "its call log")
    finally:
        sipp.kill()
    with capsys.disabled():
        print(f"\nbusy guest: SIPp rc {rc}; queue entry {call.status}, outcome {call.outcome}, "
              f"attempt {call.attempts}/{call.max_attempts}, next try in "
              f"{(call.next_try_at - datetime.now(UTC)).total_seconds() / 60:.0f} min"
              if call.next_try_at else "")
        for at, what in worker_marks(stack, started - 1):
            print(f"  {at - started:7.2f}s  {what}")
    assert rc == 0, sipp.output()[-2000:]
    assert call.status == "pending" and call.outcome == "busy" and call.attempts == 1
    assert call.next_try_at is not None
    wait = (call.next_try_at - datetime.now(UTC)).total_seconds()
    assert 25 * 60 < wait <= 30 * 60, wait  # store/outbound.py's RETRY_AFTER
    assert log["outcome"] == "no_answer" and log["direction"] == "outbound"
    await db.document(f"outbound_calls/{call.id}").delete()  # out of the next tests' way


def _worker_records(stack: Stack, message: str, room_prefix: str) -> list[dict[str, Any]]:
    """The workers' JSON log records with this message about a room of this queue entry, in
    the order they were written, each with the name of the worker that wrote it."""
    found = []
    for name in [n for n in stack.procs if n.startswith("worker")]:
        text = stack.procs[name].log_path.read_text(errors="replace")
        for line in text.splitlines():
            if message not in line or room_prefix not in line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("message") == message and str(rec.get("call_id", "")).startswith(
                    room_prefix):
                found.append({**rec, "worker": name})
    return sorted(found, key=lambda r: str(r.get("timestamp", "")))


def _new_agent_speech(stack: Stack, out: dict[str, Any], after: float
                      ) -> tuple[float | None, str]:
    """The new agent's first words (its first TTS request after `after`, which no dead job can
    have made) and when their audio first reached the guest (what reaches the guest just
    after a kill is the dead agent's audio still in flight); (None, "") if it never spoke."""
    spoken = [e for e in _get(f"{stack.fakes.tts}/_fake/log")["spoken"] if e["at"] > after]
    if not spoken:
        return None, ""
    first = " ".join(e["text"].strip() for e in spoken
                     if e["context_id"] == spoken[0]["context_id"])
    return out["phone"].first_audible(after=spoken[0]["at"]), first


async def _kill_mid_introduction(stack: Stack, room_prefix: str,
                                 whole_worker: bool = False) -> dict[str, Any]:
    """SIGKILL the job process of the call (as an OOM kill does) a second into the
    introduction the guest is hearing; or its whole worker, the main process and its jobs (a
    host lost)."""
    async def introduced():  # type: ignore[no-untyped-def]
        return _worker_records(stack, "outbound introduction", room_prefix)

    intro = (await wait_for(introduced, 90, "the introduction"))[0]
    started = _worker_records(stack, "outbound call started", room_prefix)
    assert len(started) == 1, started
    await asyncio.sleep(1.0)
    killed_at = time.time()
    if whole_worker:
        os.killpg(stack.procs[started[0]["worker"]].popen.pid, signal.SIGKILL)
    else:
        os.kill(int(started[0]["job_pid"]), signal.SIGKILL)
    return {"room": intro["call_id"], "killed_at": killed_at, "pid": started[0]["job_pid"],
            "worker": started[0]["worker"]}


async def test_an_agent_that_dies_mid_call_picks_the_guest_up_without_dialling_again(
        stack, tmp_path, capsys):
    """The job process of a reminder call dies while the guest listens: the worker's job guard
    dispatches a new agent into the same room with the dialer's job marked resume; it does not
    dial (one INVITE), says it was cut off and why it calls, the guest keeps the booking by
    keypad, and the queue entry, the booking and the call log record that once."""
    code, phone = "CRASH1", "+16175550124"
    prefix = f"out-reminder-{code}-"
    killer = asyncio.create_task(_kill_mid_introduction(stack, prefix))
    try:
        # The guest presses 1 once the agent has been quiet for 8 s: only after the new
        # agent's words, never in the silence the crash leaves.
        out = await reminder_call(stack, tmp_path, code=code, phone=phone,
                                  script=human([], []), quiet_s=8.0,
                                  plan=[Say(HELLO, wait_agent=False, delay=0.8), Keys("1")],
                                  capsys=capsys, title="reminder whose agent dies mid-call")
        kill = await asyncio.wait_for(killer, 5)
    finally:
        killer.cancel()
    room, killed_at = kill["room"], kill["killed_at"]
    invites = [f for _, d, f in out["messages"] if d == "received" and f.startswith("INVITE")]
    started = _worker_records(stack, "outbound call started", prefix)
    back, first = _new_agent_speech(stack, out, killed_at + 0.25)
    db = client()
    logs = [s.to_dict() async for s in db.collection("call_logs")
            .where(filter=FieldFilter("call_id", "==", room)).stream()]
    dials = _worker_records(stack, "outbound dialling", prefix)
    with capsys.disabled():
        silence = f"{back - killed_at:.2f}s" if back else "never"
        print(f"\nagent job killed; jobs of the call (resumed): "
              f"{[r.get('resumed') for r in started]}; kill -> the new agent's voice at the "
              f"guest: {silence}; its first words {first!r}")
    assert len(invites) == 1, invites  # the guest was dialled once
    assert [(r["call_id"], r["resumed"]) for r in started] == [(room, 0), (room, 1)], started
    assert back is not None and back - killed_at <= 5.0, back
    assert first.startswith("Sorry about that, we were cut off. Hello, this is the automated "
                            "assistant of"), first
    assert "2 people today at 7 PM, under Sam Rivera" in first, first
    call = out["call"]
    assert (call.status, call.outcome, call.attempts, call.call_ids) == (
        "done", "kept", 1, [room]), call
    assert out["booking"]["status"] != "cancelled"
    assert len(logs) == 1, logs
    assert (logs[0]["outcome"], logs[0]["resumed"], logs[0]["direction"]) == (
        "kept", 1, "outbound"), logs[0]
    assert tools_called(out["llm"]) == []  # the keypad needs no LLM
    assert len(dials) == 1, dials  # the new agent did not dial
    lock = await db.document(f"outbound_phones/{phone}").get()
    assert not lock.exists  # the guest's line is free again


async def test_a_whole_worker_that_dies_mid_call_is_replaced_without_dialling_again(
        stack, tmp_path, capsys):
    """The whole worker of a reminder call dies (its main process and its jobs: a host lost),
    so no job guard is left to notice. The call watcher finds the agent's worker health
    endpoint refusing, dispatches a new agent into the guest's room with the dialer's job
    marked resume, and the other worker picks the guest up: one INVITE, the booking kept by
    keypad, one call log."""
    code, phone = "CRASH2", "+16175550125"
    prefix = f"out-reminder-{code}-"
    await asyncio.to_thread(stack.start_worker, "worker-2")
    killer = asyncio.create_task(_kill_mid_introduction(stack, prefix, whole_worker=True))
    try:
        out = await reminder_call(stack, tmp_path, code=code, phone=phone,
                                  script=human([], []), quiet_s=8.0,
                                  plan=[Say(HELLO, wait_agent=False, delay=0.8), Keys("1")],
                                  capsys=capsys, title="reminder whose whole worker dies")
        kill = await asyncio.wait_for(killer, 5)
        started = _worker_records(stack, "outbound call started", prefix)
        dials = _worker_records(stack, "outbound dialling", prefix)
    finally:
        killer.cancel()
        dead = [n for n in stack.procs if n.startswith("worker")
                and stack.procs[n].popen.poll() is not None]
        for name in dead:  # the other worker is "worker" for any test after this one
            stack.procs.pop(name)
        if "worker" not in stack.procs and "worker-2" in stack.procs:
            stack.procs["worker"] = stack.procs.pop("worker-2")
    room, killed_at = kill["room"], kill["killed_at"]
    invites = [f for _, d, f in out["messages"] if d == "received" and f.startswith("INVITE")]
    back, first = _new_agent_speech(stack, out, killed_at + 0.25)
    db = client()
    logs = [s.to_dict() async for s in db.collection("call_logs")
            .where(filter=FieldFilter("call_id", "==", room)).stream()]
    with capsys.disabled():
        silence = f"{back - killed_at:.2f}s" if back else "never"
        print(f"\nwhole worker killed ({kill['worker']}); jobs of the call (worker, resumed): "
              f"{[(r['worker'], r.get('resumed')) for r in started]}; kill -> the new "
              f"agent's voice at the guest: {silence}; its first words {first!r}")
    assert len(invites) == 1, invites  # the guest was dialled once
    assert [(r["call_id"], r["resumed"]) for r in started] == [(room, 0), (room, 1)], started
    assert started[1]["worker"] != kill["worker"], started  # the worker still alive took it
    assert back is not None and back - killed_at <= 5.0, back  # as for an inbound call
    assert first.startswith("Sorry about that, we were cut off."), first
    assert "2 people today at 7 PM, under Sam Rivera" in first, first
    call = out["call"]
    assert (call.status, call.outcome, call.attempts, call.call_ids) == (
        "done", "kept", 1, [room]), call
    assert len(logs) == 1 and (logs[0]["outcome"], logs[0]["resumed"]) == ("kept", 1), logs
    assert len(dials) == 1, dials  # the new agent did not dial


async def _kill_while_ringing(stack: Stack, room_prefix: str) -> dict[str, Any]:
    """SIGKILL the job process of the call 2 s after it dialled: the guest's phone rings."""
    async def dialling():  # type: ignore[no-untyped-def]
        return _worker_records(stack, "outbound dialling", room_prefix)

    await wait_for(dialling, 90, "the dial")
    started = _worker_records(stack, "outbound call started", room_prefix)
    await asyncio.sleep(2.0)
    killed_at = time.time()
    os.kill(int(started[0]["job_pid"]), signal.SIGKILL)
    return {"room": started[0]["call_id"], "killed_at": killed_at}


async def test_an_agent_that_dies_while_the_phone_rings_greets_the_guest_as_on_a_first_call(
        stack, tmp_path, capsys):
    """The job dies while the guest's phone rings (the guest answers 9 s after the INVITE):
    the new agent does not dial again and waits for the answer; the guest heard nothing of the
    dead agent, so there is no "we were cut off": answering-machine detection runs as on a
    first call, and a person hears the introduction."""
    code, phone = "RING01", "+16175550126"
    prefix = f"out-reminder-{code}-"
    killer = asyncio.create_task(_kill_while_ringing(stack, prefix))
    try:
        out = await reminder_call(stack, tmp_path, code=code, phone=phone,
                                  script=human([], []), quiet_s=8.0,
                                  scenario="slow_answer_phone_uas.xml",
                                  plan=[Say(HELLO, wait_agent=False, delay=2.0), Keys("1")],
                                  capsys=capsys, title="reminder whose agent dies while it rings")
        kill = await asyncio.wait_for(killer, 5)
    finally:
        killer.cancel()
    room, killed_at = kill["room"], kill["killed_at"]
    invites = [f for _, d, f in out["messages"] if d == "received" and f.startswith("INVITE")]
    started = _worker_records(stack, "outbound call started", prefix)
    dials = _worker_records(stack, "outbound dialling", prefix)
    _, first = _new_agent_speech(stack, out, killed_at)
    with capsys.disabled():
        print(f"\nagent job killed while the phone rang; jobs (resumed): "
              f"{[r.get('resumed') for r in started]}; the new agent's first words {first!r}")
    assert len(invites) == 1, invites  # the guest was dialled once
    assert [(r["call_id"], r["resumed"]) for r in started] == [(room, 0), (room, 1)], started
    assert len(dials) == 1, dials  # the new agent did not dial
    assert first.startswith("Hello, this is the automated assistant of"), first
    assert "2 people today at 7 PM, under Sam Rivera" in first, first
    call = out["call"]
    assert (call.status, call.outcome, call.attempts, call.call_ids) == (
        "done", "kept", 1, [room]), call


async def test_a_voicemail_that_answers_after_the_agent_died_gets_only_the_short_message(
        stack, tmp_path, capsys):
    """The job dies while the phone rings and a voicemail answers: the new agent's detector
    hears the machine, and the mailbox gets the short message, without the booking's details
    (a shared mailbox) and without an apology for a cut-off nobody heard."""
    code, phone = "RING02", "+16175550127"
    prefix = f"out-reminder-{code}-"
    script = voicemail()
    killer = asyncio.create_task(_kill_while_ringing(stack, prefix))
    try:
        out = await reminder_call(stack, tmp_path, code=code, phone=phone, script=script,
                                  scenario="slow_answer_phone_uas.xml",
                                  plan=[Say(VOICEMAIL, wait_agent=False, delay=2.0)],
                                  capsys=capsys, title="voicemail after the agent died ringing")
        kill = await asyncio.wait_for(killer, 5)
    finally:
        killer.cancel()
    invites = [f for _, d, f in out["messages"] if d == "received" and f.startswith("INVITE")]
    started = _worker_records(stack, "outbound call started", prefix)
    assert len(invites) == 1, invites
    assert [r["resumed"] for r in started] == [0, 1], started
    assert (out["call"].status, out["call"].outcome, out["call"].call_ids) == (
        "done", "voicemail_left", [kill["room"]]), out["call"]
    assert out["log"]["outcome"] == "voicemail"
    said = " ".join(t["text"] for t in out["log"]["transcript"] if t["role"] == "assistant")
    assert "booking" in said and "19" not in said and "Sam" not in said, said
    assert "cut off" not in said, said
