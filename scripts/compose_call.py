"""A call through the composed stack (`make compose-test`, scripts/compose_ci.py).

A softphone (SIPp on 127.0.0.1, registering as 1001 with digest auth) dials 5000 on
FreeSWITCH's published port; FreeSWITCH -> LiveKit SIP -> the agent container, whose providers
are our fakes in the compose network (docker/compose.fakes.yml); the caller orders a large
cappuccino (tests/telephony/softphone_order_call.yaml), the order lands in the database, the
agent hangs up and the phone gets the BYE, and the board, signed in over HTTPS through Caddy,
shows the order. Prints the call's timeline. Traffic only to 127.0.0.1 (the published ports).
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

from fakes.script import Script
from testkit.caller import SIPP_DIR, RtpCapture, caller_audio, register, start_sipp

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "telephony" / "softphone_order_call.yaml"
SOFTPHONE = SIPP_DIR / "softphone_uac.xml"
SDP_AUDIO = re.compile(r"^m=audio (\d+) ", re.MULTILINE)


@dataclass
class ComposedCall:
    sip_port: int  # FreeSWITCH's phones' port, published on 127.0.0.1
    firestore_port: int  # the database, published on 127.0.0.1 for this check only
    board_url: str  # https://127.0.0.1:PORT (Caddy)
    board_ca: Path  # Caddy's internal CA root, what a tablet installs
    board_owner: tuple[str, str]
    phone_password: str
    workdir: Path
    seen: dict[str, float] = field(default_factory=dict)


def _orders(port: int) -> list[dict[str, object]]:
    url = (f"http://127.0.0.1:{port}/v1/projects/demo-restaurant/databases/(default)/"
           "documents/restaurants/main/orders?pageSize=50")
    with urllib.request.urlopen(url, timeout=5) as resp:
        docs = json.loads(resp.read()).get("documents", [])
    return [{k: next(iter(v.values()), None) for k, v in d.get("fields", {}).items()}
            | {"id": d["name"].rsplit("/", 1)[1]} for d in docs]


class Board:
    """The board as a tablet uses it: HTTPS through Caddy, verified against Caddy's CA."""

    def __init__(self, url: str, ca: Path) -> None:
        self.url = url
        tls = ssl.create_default_context(cafile=str(ca))
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=tls),
            urllib.request.HTTPCookieProcessor(CookieJar()))

    def sign_in(self, user: str, password: str) -> None:
        with self.opener.open(f"{self.url}/login", timeout=10) as page:
            form = page.read().decode()
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        data = urlencode({"username": user, "password": password, "csrf": csrf,
                          "next": "/orders"}).encode()
        request = urllib.request.Request(f"{self.url}/login", data=data,
                                         headers={"Origin": self.url})
        with self.opener.open(request, timeout=10) as done:
            assert done.url.endswith("/orders"), done.url  # followed the 303 to the board
        assert self.get("/api/me")["username"] == user

    def get(self, path: str) -> dict[str, object]:
        with self.opener.open(f"{self.url}{path}", timeout=10) as resp:
            return json.loads(resp.read())

    def cookie_names(self) -> list[str]:
        jar = next(h for h in self.opener.handlers
                   if isinstance(h, urllib.request.HTTPCookieProcessor)).cookiejar
        return [c.name for c in jar if c.secure]


def _watch(call: ComposedCall, board: Board, stop: threading.Event) -> None:
    """Twice a second: when the order is in the database, and when the board shows it."""
    while not stop.is_set():
        try:
            if "order" not in call.seen and _orders(call.firestore_port):
                call.seen["order"] = time.time()
            if "order" in call.seen and "board" not in call.seen and \
                    board.get("/api/orders")["orders"]:
                call.seen["board"] = time.time()
        except OSError:
            pass
        if "board" in call.seen:
            return
        stop.wait(0.5)


def _answer_media(capture: RtpCapture, sipp_log: Path, port_ok: int, stop: threading.Event
                  ) -> None:
    """Once FreeSWITCH's 200 OK names its RTP port, talk to it (on 127.0.0.1, published)."""
    while not stop.is_set():
        text = sipp_log.read_text(errors="replace") if sipp_log.exists() else ""
        answered = text.split("SIP/2.0 200 OK", 1)
        if len(answered) == 2 and (m := SDP_AUDIO.search(answered[1])):
            port = int(m.group(1))
            assert port_ok <= port, f"FreeSWITCH's RTP port {port} is not published"
            capture.talk_to(("127.0.0.1", port))
            return
        stop.wait(0.05)


def place_call(call: ComposedCall, rtp_first: int) -> list[tuple[float, str]]:
    """The call; returns its timeline as (time, event). Raises AssertionError on a failure."""
    board = Board(call.board_url, call.board_ca)
    board.sign_in(*call.board_owner)
    target = f"127.0.0.1:{call.sip_port}"
    reg = register(workdir=call.workdir / "register", target=target, user="1001",
                   password=call.phone_password)
    assert reg.process.returncode == 0, reg.output()[-2000:]
    lines = list(Script.load(SCRIPT).caller)[:4]
    capture = RtpCapture(speak=caller_audio(lines, lead_in=5.0, gap=8.0, tail=40.0))
    sipp = start_sipp(workdir=call.workdir / "call", pcm=None, target=target, number="5000",
                      caller="1001", rtp_port=capture.port, scenario=SOFTPHONE, user="1001",
                      password=call.phone_password, timeout_s=240)
    stop = threading.Event()
    threads = [threading.Thread(target=_watch, args=(call, board, stop), daemon=True),
               threading.Thread(target=_answer_media, daemon=True,
                                args=(capture, sipp.message_log, rtp_first, stop))]
    for t in threads:
        t.start()
    try:
        rc = sipp.wait(270)
        threads[0].join(30)
    finally:
        stop.set()
        sipp.kill()
        capture.close()
    messages = reg.messages() + sipp.messages()
    events = [(t, f"softphone {d} {first}") for t, d, first in messages]
    if (audio := capture.first_audible()) is not None:
        events.append((audio, "first audible agent audio at the softphone (RTP)"))
    events += [(call.seen[k], label) for k, label in (
        ("order", "order in the database"), ("board", "order on the board (HTTPS, Caddy)"))
        if k in call.seen]
    events.sort()
    assert rc == 0, f"SIPp call failed (rc {rc}):\n{sipp.output()[-3000:]}"
    assert audio is not None, "no audible RTP came back: the agent never spoke"
    assert any(d == "received" and f.startswith("BYE") for _, d, f in messages), \
        "the agent's hang-up never reached the softphone as a BYE"
    orders = _orders(call.firestore_port)
    assert len(orders) == 1, orders
    assert orders[0]["customer_name"] == "Sam Rivera", orders[0]
    assert "board" in call.seen, "the order never showed on the board"
    assert "__Host-board_session" in board.cookie_names()
    return events


def timeline(events: list[tuple[float, str]]) -> str:
    starts = ("softphone sent INVITE", "baresip: dialling")  # SIPp's, or baresip's
    invite = next((t for t, e in events if e.startswith(starts)), events[0][0])
    return "\n".join(f"  {t - invite:+8.2f} s  {e}" for t, e in events)


# ---------------------------------------------------------------- a service dies mid-call
# (`compose_ci.py --kill-table-mid-call FILE`): the caller reacts to what it hears, as a person
# does, so the outcome is what a caller would get: it says each line once the agent's turn is
# over, and after the kill it says nothing until the agent is heard again; it hangs up after
# PATIENCE_S of dead air, or once the agent has no more to say after its last line.

TURN_QUIET_S = 1.5  # quiet this long after the agent spoke: its turn is over
PATIENCE_S = 45.0  # dead air a caller waits through before hanging up
KILL_INTO_REPLY_S = 1.0  # the kill: this long into the agent's answer to the first line
GRACE_S = 1.0  # audio arriving this soon after the kill was already on its way
MAX_REPEATS = 2  # times a caller says a line again that the agent did not hear


@dataclass
class MidCall:
    """What the caller got when a service died during the call (times: time.time())."""

    answered: float | None = None
    first_audio: float | None = None
    killed: float | None = None
    heard_again: float | None = None  # the first agent audio after the kill
    longest_wait_s: float = 0.0  # the longest the caller waited for the agent after the kill
    lines_said: int = 0
    line_ends: list[float] = field(default_factory=list)
    bye_from_stack: float | None = None
    caller_hung_up: float | None = None
    order_seen: float | None = None
    ended: float = 0.0
    notes: list[str] = field(default_factory=list)


def _await_turn(capture: RtpCapture, since: float, sipp_done: threading.Event,
                patience: float = PATIENCE_S) -> float | None:
    """The end of the agent's next turn after `since` (heard, then TURN_QUIET_S of quiet);
    None when nothing was heard for `patience` s, or the call ended."""
    deadline = since + patience
    while not sipp_done.is_set():
        heard = capture.audible_since(since)
        if heard is not None and capture.quiet_since(heard) >= TURN_QUIET_S:
            return time.time()
        if heard is None and time.time() > deadline:
            return None
        time.sleep(0.1)
    return None


def _converse(capture: RtpCapture, lines: list[bytes], kill: Callable[[], None],
              heard: Callable[[], int], out: MidCall, sipp_done: threading.Event) -> None:
    """The caller's side: after the greeting, each line once the agent's turn is over; the
    kill a second into the agent's answer to the first line. A line the agent did not hear
    (`heard()`: how many lines the STT transcribed) is said again once the agent is heard
    again, as a caller repeats what got no answer; nothing is said into PATIENCE_S of dead
    air: the caller gives up."""
    turn = _await_turn(capture, time.time(), sipp_done)
    i = attempts = 0
    while i < len(lines) and turn is not None:
        try:
            _, end = capture.say(lines[i])
        except TimeoutError:  # the phone's media socket failed (nobody at the far port)
            out.notes.append(f"line {i + 1} could not be sent")
            return
        out.lines_said += 1
        out.line_ends.append(end)
        attempts += 1
        if out.killed is None and not _kill_during_reply(capture, end, kill, out, sipp_done):
            return
        turn = _await_turn(capture, end, sipp_done)
        if heard() > i or attempts > MAX_REPEATS:
            i, attempts = i + 1, 0
    if turn is not None:  # the last line said: the agent's goodbye and BYE, or the caller's
        _await_turn(capture, time.time(), sipp_done, patience=15.0)


def _kill_during_reply(capture: RtpCapture, end: float, kill: Callable[[], None],
                       out: MidCall, sipp_done: threading.Event) -> bool:
    """`kill` KILL_INTO_REPLY_S into the agent's answer to what the caller said until `end`;
    False when no answer came (nothing killed)."""
    reply = None
    while reply is None and not sipp_done.is_set() and time.time() < end + PATIENCE_S:
        reply = capture.audible_since(end)
        time.sleep(0.05)
    if reply is None:
        out.notes.append("no answer to the first line: nothing killed")
        return False
    time.sleep(max(reply + KILL_INTO_REPLY_S - time.time(), 0))
    out.killed = time.time()
    kill()
    return True


def _dialog(sipp_log: Path) -> dict[str, str] | None:
    """Call-ID, From, To (with FreeSWITCH's tag) and the Contact of the answered INVITE."""
    text = sipp_log.read_text(errors="replace").replace("\r", "") if sipp_log.exists() else ""
    for block in text.split("SIP/2.0 200 OK")[1:]:
        head = block.split("\n\n", 1)[0]
        found = {m.group(1).lower(): m.group(2).strip() for m in re.finditer(
            r"^\s*(Call-ID|From|To|Contact|CSeq):\s*(.+)$", head, re.MULTILINE)}
        if "INVITE" in found.get("cseq", "") and "tag=" in found.get("to", ""):
            return found
    return None


def hang_up(sip_port: int, sipp_log: Path) -> str:
    """The caller hangs up: a BYE in the answered dialog (SIPp's scenario waits for the far
    end's). FreeSWITCH's answer's status line, or why there is none."""
    dialog = _dialog(sipp_log)
    if dialog is None:
        return "no answered dialog to end"
    uri = dialog["contact"].split("<", 1)[-1].split(">", 1)[0]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(3.0)
        port = sock.getsockname()[1]
        msg = (f"BYE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};"
               f"branch=z9hG4bK{uuid.uuid4().hex[:12]};rport\r\nMax-Forwards: 70\r\n"
               f"From: {dialog['from']}\r\nTo: {dialog['to']}\r\nCall-ID: {dialog['call-id']}\r\n"
               "CSeq: 10 BYE\r\nContent-Length: 0\r\n\r\n")
        sock.sendto(msg.encode(), ("127.0.0.1", sip_port))
        try:
            while True:
                status = sock.recv(65535).decode(errors="replace").split("\r\n", 1)[0]
                if status.startswith("SIP/2.0") and int(status.split()[1]) >= 200:
                    return status
        except OSError:
            return "no answer"


def _watch_order(call: ComposedCall, known: set[str], stop: threading.Event, out: MidCall
                 ) -> None:
    """When an order not among `known` is first in the database."""
    while not stop.is_set() and out.order_seen is None:
        try:
            if {str(o["id"]) for o in _orders(call.firestore_port)} - known:
                out.order_seen = time.time()
        except OSError:
            pass  # the database is down (it may be the one killed)
        stop.wait(0.5)


def _line_audio(text: str) -> bytes:
    return caller_audio([text], lead_in=0.2, gap=0.0, tail=0.3)


def place_mid_call(call: ComposedCall, rtp_first: int, kill: Callable[[], None],
                   heard: Callable[[], int], known_orders: set[str]) -> MidCall:
    """The order call with `kill` run during the agent's answer to the first line; reports
    what the caller got instead of asserting the order (module notes above). `heard()`: how
    many of the caller's lines the (fake) STT has transcribed so far."""
    target = f"127.0.0.1:{call.sip_port}"
    reg = register(workdir=call.workdir / "register", target=target, user="1001",
                   password=call.phone_password)
    out = MidCall()
    if reg.process.returncode != 0:
        out.notes.append("the softphone could not register")
        return out
    lines = [_line_audio(t) for t in list(Script.load(SCRIPT).caller)[:4]]
    capture = RtpCapture(live=True, idle=caller_audio([], lead_in=2.0, gap=0.0, tail=0.0))
    sipp = start_sipp(workdir=call.workdir / "call", pcm=None, target=target, number="5000",
                      caller="1001", rtp_port=capture.port, scenario=SOFTPHONE, user="1001",
                      password=call.phone_password, timeout_s=300)
    stop, sipp_done = threading.Event(), threading.Event()
    threads = [threading.Thread(target=_watch_order, daemon=True,
                                args=(call, known_orders, stop, out)),
               threading.Thread(target=_answer_media, daemon=True,
                                args=(capture, sipp.message_log, rtp_first, stop)),
               threading.Thread(target=lambda: (sipp.process.wait(), sipp_done.set()),
                                daemon=True)]
    for t in threads:
        t.start()
    try:
        _converse(capture, lines, kill, heard, out, sipp_done)
        if not sipp_done.wait(1.0):  # the agent did not hang up: the caller does
            out.caller_hung_up = time.time()
            status = hang_up(call.sip_port, sipp.message_log)
            if not status.startswith("SIP/2.0 200"):
                out.notes.append(f"the caller's BYE: {status}")
            sipp_done.wait(5.0)
    finally:
        out.ended = time.time()
        stop.set()
        sipp.kill()
        capture.close()
    _summarise(out, capture, sipp.messages())
    return out


def _summarise(out: MidCall, capture: RtpCapture, messages: list[tuple[float, str, str]]
               ) -> None:
    """The answer, the agent's audio around the kill, and who ended the call."""
    out.answered = next((t for t, d, f in messages
                         if d == "received" and f.startswith("SIP/2.0 200")), None)
    out.first_audio = capture.first_audible()
    out.bye_from_stack = next((t for t, d, f in messages
                               if d == "received" and f.startswith("BYE")), None)
    if out.killed is None:
        return
    after = out.killed + GRACE_S
    end = min(t for t in (out.ended, out.bye_from_stack, out.caller_hung_up) if t is not None)
    out.heard_again = capture.audible_since(after)
    if out.heard_again is not None and out.heard_again > end:
        out.heard_again = None
    # the caller waits for the agent from the kill (its answer was cut, or goes on) and from
    # the end of each line it says after it, until the agent's next audio or the call's end
    waits = [after] + [t for t in out.line_ends if t > after]
    out.longest_wait_s = max(min(capture.audible_since(w) or end, end) - w for w in waits)


def probe_answered(call: ComposedCall, rtp_first: int, workdir: Path, user: str,
                   password: str) -> bool:
    """A new call from phone `user`: answered (200 OK) and audio heard; the caller hangs up
    8 s after the answer. (The audio may be call-watch's apology for a call no agent took:
    the caller of this tells them apart by call-watch's log of `user`'s call.)"""
    capture = RtpCapture(speak=caller_audio([], lead_in=9.0, gap=0.0, tail=0.0))
    sipp = start_sipp(workdir=workdir, pcm=None, target=f"127.0.0.1:{call.sip_port}",
                      number="5000", caller=user, rtp_port=capture.port, scenario=SOFTPHONE,
                      user=user, password=password, timeout_s=30, hangup_after_s=8.0)
    stop = threading.Event()
    media = threading.Thread(target=_answer_media, daemon=True,
                             args=(capture, sipp.message_log, rtp_first, stop))
    media.start()
    try:
        sipp.wait(45)
    except subprocess.TimeoutExpired:
        pass  # a probe that hangs is not answered
    finally:
        stop.set()
        sipp.kill()
        capture.close()
    answered = any(d == "received" and f.startswith("SIP/2.0 200") for _, d, f in
                   sipp.messages())
    return answered and capture.first_audible() is not None
