"""The caller's side of a SIP test call: speech as PCMU RTP in a pcap for SIPp, a UDP socket
that catches the RTP coming back, and a SIPp run with its message trace turned into a timeline.
"""

from __future__ import annotations

import os
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

from fakes.audio import rms, silence, speech_or_tone, ulaw_decode, ulaw_encode

SIPP_DIR = Path(__file__).resolve().parent / "sipp"
SCENARIO = SIPP_DIR / "freeswitch_bridge_uac.xml"
RATE = 8000
PTIME_S = 0.02
SAMPLES = int(RATE * PTIME_S)  # 160 samples = 160 PCMU bytes per packet


# --- the caller's speech --------------------------------------------------------------------


def caller_audio(lines: list[str], *, lead_in: float, gap: float, tail: float) -> bytes:
    """linear16 at 8 kHz: `lead_in` s of silence, then each line spoken with `gap` s between."""
    pcm = silence(lead_in, RATE)
    for i, line in enumerate(lines):
        pcm += speech_or_tone(line, RATE)
        pcm += silence(gap if i < len(lines) - 1 else tail, RATE)
    return pcm


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
    """Listens on 127.0.0.1:<port> (the port our SDP offers) and keeps every RTP packet."""

    packets: list[RtpPacket] = field(default_factory=list)
    sources: set[tuple[str, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rtp-capture", daemon=True)
        self._thread.start()

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
            self.packets.append(RtpPacket(time.time(), struct.unpack("!H", data[2:4])[0],
                                          data[1] & 0x7F, data[header:]))
            self.sources.add(addr)

    def first_audible(self, threshold: float = 300.0, after: float = 0.0) -> float | None:
        """Arrival time of the first PCMU packet louder than `threshold` (after `after`)."""
        for p in list(self.packets):
            if p.at >= after and p.level >= threshold:
                return p.at
        return None

    def audible_seconds(self, threshold: float = 300.0) -> float:
        return sum(PTIME_S for p in list(self.packets) if p.level >= threshold)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
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


def start_sipp(
    *,
    workdir: Path,
    pcm: bytes,
    target: str,
    number: str,
    caller: str,
    rtp_port: int,
    timeout_s: int = 300,
) -> SippCall:
    sipp = shutil.which("sipp")
    if sipp is None:
        raise FileNotFoundError("sipp")
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(SCENARIO, workdir / SCENARIO.name)
    write_pcap(workdir / "caller.pcap", pcm)
    message_log = workdir / "sipp_messages.log"
    media_port = _free_udp_port()
    argv = [
        sipp, target, "-sf", SCENARIO.name, "-s", number, "-key", "caller", caller,
        "-key", "rtp_port", str(rtp_port), "-i", "127.0.0.1", "-p", str(_free_udp_port()),
        "-mi", "127.0.0.1", "-mp", str(media_port), "-m", "1", "-l", "1", "-nostdin",
        "-timeout", f"{timeout_s}s", "-timeout_error", "-trace_msg", "-message_file",
        str(message_log), "-trace_err", "-error_file", str(workdir / "sipp_errors.log"),
    ]
    out = open(workdir / "sipp.out", "wb")  # the child keeps its own copy
    process = subprocess.Popen(argv, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    out.close()
    return SippCall(process, workdir, message_log)


def _free_udp_port() -> int:
    # SIPp also binds port+2 (and the media port +2 for RTCP-ish use); pick an even port whose
    # neighbours are free too.
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port % 2 or port > 65000:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 2))
            return port
        except OSError:
            continue
    raise RuntimeError("no free UDP port pair")
