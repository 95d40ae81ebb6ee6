"""The mid-call kill table's caller side (scripts/compose_call.py, scripts/compose_kills.py),
without Docker: the caller's own hang-up in FreeSWITCH's dialog, and the words the table
uses for what a caller got. The table itself: `compose_ci.py --kill-table-mid-call FILE`."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from scripts.compose_call import MidCall, RtpCapture, _summarise, hang_up
from scripts.compose_kills import caller_got, confirmed, markdown

ANSWERED = """\
----------------------------------------------- 2026-12-07 03:00:00.100000
UDP message received [400] bytes :

SIP/2.0 407 Proxy Authentication Required
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1;rport=5062
From: <sip:1001@127.0.0.1>;tag=77SIPpTag001
To: <sip:5000@127.0.0.1>;tag=first
Call-ID: 1-77@127.0.0.1
CSeq: 1 INVITE
Content-Length: 0

----------------------------------------------- 2026-12-07 03:00:01.000000
UDP message received [700] bytes :

SIP/2.0 200 OK\r
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-2;rport=5062\r
From: <sip:1001@127.0.0.1>;tag=77SIPpTag001\r
To: <sip:5000@127.0.0.1>;tag=fsTag42\r
Call-ID: 1-77@127.0.0.1\r
CSeq: 2 INVITE\r
Contact: <sip:5000@172.30.57.10:5060;transport=udp>\r
Content-Type: application/sdp\r
Content-Length: 10\r
\r
v=0\r
"""


def _freeswitch(answer: str) -> tuple[socket.socket, list[str]]:
    """A UDP SIP endpoint on loopback that answers the first request with `answer`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    got: list[str] = []

    def serve() -> None:
        data, addr = sock.recvfrom(65535)
        got.append(data.decode())
        sock.sendto(f"{answer}\r\nContent-Length: 0\r\n\r\n".encode(), addr)

    threading.Thread(target=serve, daemon=True).start()
    return sock, got


def test_the_caller_hangs_up_in_the_dialog_freeswitch_answered(tmp_path: Path) -> None:
    log = tmp_path / "sipp_messages.log"
    log.write_text(ANSWERED)
    sock, got = _freeswitch("SIP/2.0 200 OK")
    try:
        status = hang_up(sock.getsockname()[1], log)
    finally:
        sock.close()
    assert status == "SIP/2.0 200 OK"
    bye = got[0].split("\r\n")
    assert bye[0] == "BYE sip:5000@172.30.57.10:5060;transport=udp SIP/2.0"  # its Contact
    assert "To: <sip:5000@127.0.0.1>;tag=fsTag42" in bye  # the answer's tag, not the 407's
    assert "From: <sip:1001@127.0.0.1>;tag=77SIPpTag001" in bye
    assert "Call-ID: 1-77@127.0.0.1" in bye


def test_a_hang_up_freeswitch_no_longer_knows_is_reported_as_such(tmp_path: Path) -> None:
    log = tmp_path / "sipp_messages.log"
    log.write_text(ANSWERED)
    sock, _ = _freeswitch("SIP/2.0 481 Call/Transaction Does Not Exist")
    try:
        assert hang_up(sock.getsockname()[1], log).startswith("SIP/2.0 481")
    finally:
        sock.close()
    unanswered = tmp_path / "unanswered.log"
    unanswered.write_text(ANSWERED.split("-----------------------------------------------"
                                         " 2026-12-07 03:00:01")[0])
    assert hang_up(9, unanswered) == "no answered dialog to end"


def _row(new_orders: int = 0, said_in: bool = False) -> dict[str, object]:
    return {"new": {"orders": new_orders, "reservations": 0, "messages": 0},
            "confirmed": said_in, "call_watch": [], "recovery": {}, "lost": 0, "doubled": 0}


def test_the_wait_for_the_agent_and_the_saved_order_are_told() -> None:
    back = MidCall(killed=100.0, heard_again=114.0, longest_wait_s=14.0, lines_said=5,
                   order_seen=140.0, bye_from_stack=150.0)
    said = caller_got(back, _row(new_orders=1, said_in=True) | {
        "heard": 4, "call_watch": ["agent re-dispatched into the call (worker died)"]})
    assert "the longest wait for the agent after the kill 14.0 s" in said
    assert "the caller said 5 lines (4 in the script, 1 unheard)" in said
    assert "order saved 40 s after the kill" in said
    assert "BYE from the stack 50 s after the kill" in said
    assert "call-watch: agent re-dispatched into the call (worker died)" in said


def test_a_cut_off_call_and_an_order_said_but_never_saved_are_told() -> None:
    cut = MidCall(killed=100.0, lines_said=2, caller_hung_up=146.0)
    said = caller_got(cut, _row() | {"heard": 1})
    assert said.startswith("silence from the kill on")
    assert "no BYE: the caller hung up 46 s after the kill" in said and "no order" in said
    said = caller_got(MidCall(killed=1.0, heard_again=1.5, lines_said=4),
                      _row(said_in=True) | {"heard": 4})
    assert "(4 in the script)" in said and "order confirmed but not in the database" in said
    assert caller_got(MidCall(notes=["the softphone could not register"]), _row()) == \
        "nothing killed: the softphone could not register"


def test_only_a_saved_or_queued_order_counts_as_confirmed() -> None:
    assert confirmed(["Order A7 placed, $5.25, ready at 12:20. Tell the caller, and ask"])
    assert confirmed(["Already done, nothing new saved. Order A7 placed."])
    assert not confirmed(["The caller only said 'mm-hmm' (listening), not yes: nothing is saved."])
    assert not confirmed([])


def test_the_wait_runs_from_the_kill_and_each_later_line_to_the_agents_next_audio() -> None:
    capture = RtpCapture(live=True)
    capture.close()
    # the kill at 100 (audio until 101.5 was on its way); the caller's line ends at 104;
    # the agent is heard again at 117
    capture.audible = [50.0, 101.5, 101.6, 117.0, 118.0]
    back = MidCall(killed=100.0, ended=130.0, line_ends=[90.0, 104.0])
    _summarise(back, capture, [])
    assert back.heard_again == 101.5
    assert back.longest_wait_s == 13.0  # 104 -> 117 (101 -> 101.5 was not waiting)
    capture.audible = [50.0]
    cut = MidCall(killed=100.0, ended=200.0, caller_hung_up=146.0, line_ends=[90.0])
    _summarise(cut, capture, [(150.0, "received", "BYE sip:1001@127.0.0.1 SIP/2.0")])
    assert cut.heard_again is None and cut.longest_wait_s == 45.0  # 101 -> the caller's BYE
    assert cut.bye_from_stack == 150.0


def test_the_table_has_a_row_per_service_with_its_figures() -> None:
    rows = [_row() | {"service": "agent", "caller_got": "x", "lost": 0, "doubled": 0,
                      "recovery": {"healthy": 14.2, "answered": 21.7}},
            _row() | {"service": "freeswitch", "caller_got": "y", "lost": 1, "doubled": 0,
                      "recovery": {"healthy": 12.0}}]
    table = markdown(rows).splitlines()
    assert table[2] == "| agent | x | 14 s | 22 s | 0 | 0 |"
    assert table[3] == "| freeswitch | y | 12 s | not in 300 s | 1 | 0 |"
