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
import ssl
import threading
import time
import urllib.request
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
    invite = next((t for t, e in events if e.startswith("softphone sent INVITE")), events[0][0])
    return "\n".join(f"  {t - invite:+8.2f} s  {e}" for t, e in events)
