"""The caller's side of a SIP test call: speech as PCMU RTP in a pcap for SIPp, a UDP socket
that catches the RTP coming back, and a SIPp run with its message trace turned into a timeline.
"""

from __future__ import annotations

import bisect
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from fakes.audio import rms, ulaw_decode, ulaw_encode
from testkit.caller_audio import Line, on_the_line, say, to_array, to_pcm

SIPP_DIR = Path(__file__).resolve().parent / "sipp"
SCENARIO = SIPP_DIR / "freeswitch_bridge_uac.xml"
RATE = 8000
PTIME_S = 0.02
SAMPLES = int(RATE * PTIME_S)  # 160 samples = 160 PCMU bytes per packet
PHONE_LINE = Line(-60.0, jitter_ms=0.0, loss=0.0)  # the tests' line: a floor, mu-law


# --- the caller's speech --------------------------------------------------------------------


def caller_audio(lines: list[str], *, lead_in: float, gap: float, tail: float,
                 line: Line = PHONE_LINE) -> bytes:
    """linear16 at 8 kHz, as a caller on a phone line (issue 25): `lead_in` s of the line's
    noise, then each line said by Piper's neural voice with `gap` s between, all on `line`
    (a -60 dBFS noise floor and mu-law: never digital zero)."""
    speech = [np.zeros(int(lead_in * RATE))]
    for i, text in enumerate(lines):
        speech.append(to_array(say(text)))
        speech.append(np.zeros(int((gap if i < len(lines) - 1 else tail) * RATE)))
    rng = np.random.default_rng(len(lines))
    return to_pcm(on_the_line(np.concatenate(speech), line, rng))


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def write_pcap(path: Path, pcm: bytes, *, src_port: int = 16384, dst_port: int = 10000) -> int:
    """PCMU RTP packets (20 ms) over UDP/IPv4/Ethernet, as SIPp's play_pcap_audio expects.

    SIPp rewrites addresses and ports to the call's media; timing comes from the timestamps.
    Returns the number of packets.
    """
    payload = ulaw_encode(pcm)
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # DLT_EN10MB
    ssrc = 0x5EED1234
    src_ip, dst_ip = socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1")
    count = 0
    for n, offset in enumerate(range(0, len(payload) - SAMPLES + 1, SAMPLES)):
        rtp = struct.pack("!BBHII", 0x80, 0x80 if n == 0 else 0x00, n & 0xFFFF,
                          (n * SAMPLES) & 0xFFFFFFFF, ssrc) + payload[offset : offset + SAMPLES]
        udp_len = 8 + len(rtp)
        ip_header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, n & 0xFFFF, 0, 64, 17,
                                0, src_ip, dst_ip)
        ip_header = ip_header[:10] + struct.pack("!H", _checksum(ip_header)) + ip_header[12:]
        udp = struct.pack("!HHHH", src_port, dst_port, udp_len, 0) + rtp
        frame = b"\x00" * 6 + b"\x00" * 6 + b"\x08\x00" + ip_header + udp
        t = n * PTIME_S
        sec, usec = int(t), round((t - int(t)) * 1_000_000)
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
        count += 1
    path.write_bytes(b"".join(out))
    return count


# --- the audio coming back ------------------------------------------------------------------


LOUD = 300.0  # RMS of a packet that carries speech or the agent's voice, not line noise


@dataclass
class _Line:
    """A line a live RtpCapture is saying: PCMU still to send, and when it was loud."""

    payload: bytes
    offset: int = 0
    first_sent: float | None = None
    first_loud: float | None = None
    last_loud: float | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def take(self) -> bytes | None:
        if self.offset >= len(self.payload):
            return None
        chunk = self.payload[self.offset : self.offset + SAMPLES].ljust(SAMPLES, b"\xff")
        self.offset += SAMPLES
        return chunk

    def sent(self, chunk: bytes, at: float) -> None:
        self.first_sent = self.first_sent or at
        if rms(ulaw_decode(chunk)) >= LOUD:
            self.first_loud = self.first_loud or at
            self.last_loud = at


@dataclass
class RtpPacket:
    at: float
    seq: int
    payload_type: int
    payload: bytes

    @property
    def level(self) -> float:
        return rms(ulaw_decode(self.payload)) if self.payload_type == 0 else 0.0


@dataclass
class RtpCapture:
    """Listens on <ip>:<port> (the port our SDP offers) and keeps every RTP packet.

    With `speak`, it is also the caller's mouth, as a real phone's RTP socket is: from the
    first packet that arrives it sends `speak` (linear16, 8 kHz) as PCMU back to where that
    packet came from, from this same port (symmetric RTP). FreeSWITCH, unlike LiveKit SIP,
    drops RTP that does not come from the address the caller's SDP named.

    With `live`, the mouth keeps talking after `speak` (silence, as a phone does) and says
    each line given to `say()` when it is given, so a caller can answer what it hears; the
    arrival of every loud packet is kept in `audible` (for timing answers cheaply).

    A phone line (issue 25): with `idle` (linear16, 8 kHz, looped) the live mouth sends that
    between lines instead of digital zero (a line's noise floor, testkit/caller_audio.py);
    each packet goes out up to `jitter_ms` late (half-normal), and a share `loss` of them is
    never sent (its sequence number is skipped, as a lost packet's would be).
    """

    ip: str = "127.0.0.1"
    speak: bytes | None = None
    live: bool = False
    packets: list[RtpPacket] = field(default_factory=list)
    sources: set[tuple[str, int]] = field(default_factory=set)
    sent: int = 0
    audible: list[float] = field(default_factory=list)
    idle: bytes | None = None
    jitter_ms: float = 0.0
    loss: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.ip, 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self._stop = threading.Event()
        self._lines: list[_Line] = []  # live: lines still to say, the first one being said
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="rtp-capture", daemon=True)
        self._thread.start()
        self._speaker: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            if len(data) < 12 or data[0] >> 6 != 2:
                continue
            csrc = data[0] & 0x0F
            header = 12 + 4 * csrc
            packet = RtpPacket(time.time(), struct.unpack("!H", data[2:4])[0], data[1] & 0x7F,
                               data[header:])
            self.packets.append(packet)
            if self.live and packet.level >= LOUD:
                self.audible.append(packet.at)
            self.sources.add(addr)
            if self.speak is not None or self.live:
                self.talk_to(addr)

    def talk_to(self, to: tuple[str, int]) -> None:
        """Start talking to `to` (the far end's SDP address) without waiting to hear it first,
        as a phone behind NAT does: its first packets open the path the far end answers on."""
        with self._lock:
            if self._speaker is None:
                self._speaker = threading.Thread(target=self._talk, args=(to,),
                                                 name="rtp-speaker", daemon=True)
                self._speaker.start()

    def _talk(self, to: tuple[str, int]) -> None:
        payload = ulaw_encode(self.speak) if self.speak is not None else b""
        idle = ulaw_encode(self.idle) if self.idle and len(self.idle) >= 4 * SAMPLES else b""
        quiet = b"\xff" * SAMPLES  # PCMU silence
        rng = random.Random(self.seed)
        ssrc = 0x5EED4321
        start = time.monotonic()
        n = 0
        while True:
            late = abs(rng.gauss(0, self.jitter_ms / 1000)) if self.jitter_ms else 0.0
            delay = start + n * PTIME_S + late - time.monotonic()
            if self._stop.wait(max(delay, 0)):
                return
            offset = n * SAMPLES
            line: _Line | None = None
            if offset + SAMPLES <= len(payload):
                chunk = payload[offset : offset + SAMPLES]
            elif not self.live:
                return
            else:
                if idle:
                    at = (n * SAMPLES) % (len(idle) - SAMPLES + 1)
                    quiet = idle[at : at + SAMPLES]
                chunk, line = self._next_live_chunk(quiet)
            rtp = struct.pack("!BBHII", 0x80, 0x80 if n == 0 else 0x00, n & 0xFFFF,
                              (n * SAMPLES) & 0xFFFFFFFF, ssrc)
            try:
                if not (self.loss and rng.random() < self.loss):
                    self.sock.sendto(rtp + chunk, to)
            except OSError:
                return
            self.sent += 1
            n += 1
            if line is not None:
                line.sent(chunk, time.time())

    def _next_live_chunk(self, quiet: bytes) -> tuple[bytes, _Line | None]:
        with self._lock:
            while self._lines:
                line = self._lines[0]
                chunk = line.take()
                if chunk is not None:
                    return chunk, line
                self._lines.pop(0)
                line.done.set()
        return quiet, None

    def say(self, pcm: bytes, limit_s: float = 60.0) -> tuple[float, float]:
        """Live: say `pcm` (linear16, 8 kHz) after any line still being said; blocks until it
        is sent. Returns when the caller's speech began and ended: the first loud packet sent,
        and the end of the audio in the last loud one (its send time + 20 ms)."""
        assert self.live, "say() needs RtpCapture(live=True)"
        line = _Line(ulaw_encode(pcm))
        with self._lock:
            self._lines.append(line)
        if not line.done.wait(limit_s):
            raise TimeoutError(f"line not sent within {limit_s}s (is the call up?)")
        if line.first_loud is None or line.last_loud is None:
            raise ValueError("the line has no loud audio")
        return line.first_loud, line.last_loud + PTIME_S

    def say_at(self, pcm: bytes, limit_s: float = 60.0) -> float:
        """Live: like say(), but returns when the line's first packet was sent (times inside
        the line are then its own labels: testkit/caller_audio.py)."""
        line = _Line(ulaw_encode(pcm))
        with self._lock:
            self._lines.append(line)
        if not line.done.wait(limit_s) or line.first_sent is None:
            raise TimeoutError(f"line not sent within {limit_s}s (is the call up?)")
        return line.first_sent

    def audible_since(self, since: float) -> float | None:
        """Live: arrival of the first loud packet after `since`."""
        i = bisect.bisect_right(self.audible, since)
        return self.audible[i] if i < len(self.audible) else None

    def quiet_since(self, since: float) -> float:
        """Live: seconds since the last loud packet (or since `since`, if later)."""
        last = self.audible[-1] if self.audible else since
        return time.time() - max(last, since)

    def first_audible(self, threshold: float = LOUD, after: float = 0.0) -> float | None:
        """Arrival time of the first PCMU packet louder than `threshold` (after `after`)."""
        for p in list(self.packets):
            if p.at >= after and p.level >= threshold:
                return p.at
        return None

    def audible_seconds(self, threshold: float = LOUD) -> float:
        return sum(PTIME_S for p in list(self.packets) if p.level >= threshold)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        if self._speaker is not None:
            self._speaker.join(2)
        self.sock.close()


# --- SIPp -----------------------------------------------------------------------------------


@dataclass
class SippCall:
    process: subprocess.Popen[bytes]
    workdir: Path
    message_log: Path

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(5)

    def output(self) -> str:
        log = self.workdir / "sipp.out"
        return log.read_text(errors="replace") if log.exists() else ""

    def messages(self) -> list[tuple[float, str, str]]:
        """(time, "sent"|"received", first line) for each SIP message SIPp traced."""
        if not self.message_log.exists():
            return []
        text = self.message_log.read_text(errors="replace")
        out = []
        pattern = re.compile(
            r"-{10,} (\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d(?:\.\d+)?)\s*\n"
            r"\S+ message (sent|received)[^\n]*\n+\s*([^\n]+)"
        )
        for m in pattern.finditer(text):
            stamp = datetime.strptime(m.group(1).replace("  ", " "), "%Y-%m-%d %H:%M:%S.%f")
            out.append((stamp.timestamp(), m.group(2), m.group(3).strip()))
        return out


ENDING = re.compile(r"<!-- ending:.*?<!-- /ending -->", re.DOTALL)
PLAY_PCAP = re.compile(r"<nop>\s*<action>\s*<exec play_pcap_audio=[^>]*/>\s*</action>\s*</nop>")
CALLER_HANGS_UP = """<!-- ending: the caller hangs up after -d ms -->
  <pause/>
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      Max-Forwards: 70
      [last_From:]
      [last_To:]
      [routes]
      Call-ID: [call_id]
      CSeq: 10 BYE
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" timeout="10000"/>
  <!-- /ending -->"""


def start_sipp(
    *,
    workdir: Path,
    pcm: bytes | None,
    target: str,
    number: str,
    caller: str,
    rtp_port: int,
    timeout_s: int = 300,
    scenario: Path = SCENARIO,
    local_ip: str = "127.0.0.1",
    hangup_after_s: float | None = None,
    user: str = "",
    password: str = "",
) -> SippCall:
    """One SIPp call to `target` for `number`, its media answered to `local_ip:rtp_port` (an
    RtpCapture). SIPp plays `pcm` (from its own media port, not the SDP's: only LiveKit SIP
    accepts that); with `pcm=None` SIPp sends no RTP and an RtpCapture(speak=...) talks. With
    `hangup_after_s` the caller hangs up (BYE) that long after the answer, instead of waiting
    for the far end's BYE. `user`/`password` answer digest challenges (softphone_uac.xml)."""
    sipp = shutil.which("sipp")
    if sipp is None:
        raise FileNotFoundError("sipp")
    workdir.mkdir(parents=True, exist_ok=True)
    text = scenario.read_text()
    if hangup_after_s is not None:
        assert ENDING.search(text), f"{scenario.name} has no replaceable ending"
        text = ENDING.sub(lambda _: CALLER_HANGS_UP, text)
    if pcm is None:
        assert PLAY_PCAP.search(text), f"{scenario.name} plays no pcap"
        text = PLAY_PCAP.sub("", text)
    else:
        write_pcap(workdir / "caller.pcap", pcm)
    (workdir / scenario.name).write_text(text)
    message_log = workdir / "sipp_messages.log"
    argv = [
        sipp, target, "-sf", scenario.name, "-s", number, "-key", "caller", caller,
        "-key", "rtp_port", str(rtp_port), "-i", local_ip, "-p", str(free_udp_port(local_ip)),
        "-mi", local_ip, "-mp", str(free_udp_port(local_ip)), "-m", "1", "-l", "1", "-nostdin",
        "-timeout", f"{timeout_s}s", "-timeout_error", "-trace_msg", "-message_file",
        str(message_log), "-trace_err", "-error_file", str(workdir / "sipp_errors.log"),
    ]
    if hangup_after_s is not None:
        argv += ["-d", str(int(hangup_after_s * 1000))]
    if user:
        argv += ["-key", "user", user, "-au", user, "-ap", password]
    return _spawn(argv, workdir, message_log)


def register(*, workdir: Path, target: str, user: str, password: str,
             local_ip: str = "127.0.0.1", timeout_s: int = 20,
             contact_port: int | None = None) -> SippCall:
    """Register `user` with FreeSWITCH (sipp/register.xml); returns once SIPp has exited.
    `contact_port`: calls for `user` go there (a SIPp answering them) instead."""
    sipp = shutil.which("sipp")
    if sipp is None:
        raise FileNotFoundError("sipp")
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = SIPP_DIR / "register.xml"
    text = scenario.read_text()
    if contact_port is not None:
        contact = "Contact: <sip:[service]@[local_ip]:[local_port];"
        assert contact in text
        text = text.replace(contact, f"Contact: <sip:[service]@[local_ip]:{contact_port};")
    (workdir / scenario.name).write_text(text)
    message_log = workdir / "sipp_messages.log"
    argv = [
        sipp, target, "-sf", scenario.name, "-s", user, "-au", user, "-ap", password,
        "-i", local_ip, "-p", str(free_udp_port(local_ip)), "-m", "1", "-nostdin",
        "-timeout", f"{timeout_s}s", "-timeout_error", "-trace_msg", "-message_file",
        str(message_log),
    ]
    call = _spawn(argv, workdir, message_log)
    call.wait(timeout_s + 10)
    return call


def _spawn(argv: list[str], workdir: Path, message_log: Path) -> SippCall:
    out = open(workdir / "sipp.out", "wb")  # the child keeps its own copy
    process = subprocess.Popen(argv, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    out.close()
    return SippCall(process, workdir, message_log)


def free_udp_port(ip: str = "127.0.0.1") -> int:
    # SIPp also binds port+2 (and the media port +2 for RTCP-ish use); pick an even port whose
    # neighbours are free too.
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((ip, 0))
            port = int(s.getsockname()[1])
        if port % 2 or port > 65000:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                a.bind((ip, port))
                b.bind((ip, port + 2))
            return port
        except OSError:
            continue
    raise RuntimeError("no free UDP port pair")


# --- one raw SIP request --------------------------------------------------------------------


def sip_final_status(*, from_ip: str, target_port: int, number: str, caller: str,
                     target_ip: str = "127.0.0.1", timeout_s: float = 15.0) -> str:
    """Send one INVITE (PCMU offer, no credentials) from `from_ip` to target_ip:target_port for
    `number`; return the first final status line (e.g. "SIP/2.0 407 Proxy Authentication
    Required"), or "no answer". Retransmits every 2 s like a UA would."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((from_ip, 0))
        port = sock.getsockname()[1]
        call_id = os.urandom(8).hex()
        sdp = (f"v=0\r\no=- 1 1 IN IP4 {from_ip}\r\ns=-\r\nc=IN IP4 {from_ip}\r\nt=0 0\r\n"
               f"m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        invite = (
            f"INVITE sip:{number}@{target_ip}:{target_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {from_ip}:{port};branch=z9hG4bK{call_id[:10]};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:{caller}@{from_ip}>;tag=t{call_id[:6]}\r\n"
            f"To: <sip:{number}@{target_ip}>\r\nCall-ID: {call_id}\r\n"
            f"CSeq: 1 INVITE\r\nContact: <sip:{caller}@{from_ip}:{port}>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
        )
        sock.settimeout(2.0)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            sock.sendto(invite.encode(), (target_ip, target_port))
            try:
                while True:
                    status = sock.recv(4096).decode(errors="replace").split("\r\n", 1)[0]
                    code = int(status.split()[1]) if status.startswith("SIP/2.0") else 0
                    if code >= 200:
                        return status
            except TimeoutError:
                continue
        return "no answer"
    finally:
        sock.close()


def answer_calls(*, workdir: Path, rtp_port: int, local_ip: str = "127.0.0.1",
                 timeout_s: int = 180, port: int | None = None,
                 scenario: Path = SIPP_DIR / "staff_phone_uas.xml") -> tuple[SippCall, int]:
    """A SIPp phone (sipp/staff_phone_uas.xml) answering one call; and its SIP port (`port`,
    or a free one)."""
    sipp = shutil.which("sipp")
    if sipp is None:
        raise FileNotFoundError("sipp")
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(scenario, workdir / scenario.name)
    port = port or free_udp_port(local_ip)
    message_log = workdir / "sipp_messages.log"
    argv = [
        sipp, "-sf", scenario.name, "-key", "rtp_port", str(rtp_port), "-i", local_ip,
        "-p", str(port), "-mi", local_ip, "-m", "1", "-nostdin", "-timeout", f"{timeout_s}s",
        "-timeout_error", "-trace_msg", "-message_file", str(message_log),
    ]
    return _spawn(argv, workdir, message_log), port
