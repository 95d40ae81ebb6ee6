"""The composed stack's call once more with a real softphone: baresip (issue 28 §2).

`python scripts/compose_ci.py --softphone baresip` (needs Debian's `baresip-core`): baresip,
a real user agent with its own registration, digest auth, jitter buffer and G.711, registers
with FreeSWITCH as 1001 and dials 5000 over the compose network (this host's address on it to
FreeSWITCH's: baresip sends its RTP to the address FreeSWITCH's SDP gives, which is that
network's, so it cannot sit on 127.0.0.1 as SIPp does); it speaks the order call's four lines
from a WAV file (Piper's voice on a phone line, scripts/compose_call.py's lines and timing)
and records what it hears. The order must land in the database and on the board, and the
agent's BYE must end baresip's call. Traffic only to 127.0.0.1 and the compose network.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np

from fakes.script import Script
from scripts.compose_call import SCRIPT, Board, ComposedCall, _orders, _watch
from testkit.caller import caller_audio, free_udp_port

RATE = 8000
AUDIBLE_RMS = 300  # a 20 ms frame louder than this is the agent talking (the line is ~30)


def _config(folder: Path, call: ComposedCall, wav: Path, local_ip: str, registrar: str
            ) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rec").mkdir(exist_ok=True)
    (folder / "accounts").write_text(
        f"<sip:1001@{registrar}>;auth_pass={call.phone_password};regint=300;"
        "audio_codecs=PCMU\n")
    (folder / "config").write_text("\n".join([
        "poll_method epoll",
        f"net_interface {local_ip}",  # this address only: SDP, SIP and RTP on it
        f"sip_listen {local_ip}:{free_udp_port(local_ip)}",
        f"audio_source aufile,{wav}",  # the caller's mouth
        "audio_player aufile,none",  # no sound card: what it hears is in rec/ (sndfile)
        "audio_alert aufile,none",
        f"snd_path {folder / 'rec'}",
        "module_path /usr/lib/baresip/modules",
        "module g711.so", "module aufile.so", "module sndfile.so",
        "module_app account.so", "module_app menu.so", ""]))


def _first_audible(folder: Path) -> float | None:
    """Seconds into the call when the agent was first heard (baresip's decoded recording)."""
    heard = next((folder / "rec").glob("dump-*-dec.wav"), None)
    if heard is None:
        return None
    with wave.open(str(heard)) as f:
        rate = f.getframerate()
        samples = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16)
    step = rate // 50  # 20 ms frames
    for i in range(0, len(samples) - step, step):
        if np.sqrt(np.mean(samples[i:i + step].astype(np.float64) ** 2)) > AUDIBLE_RMS:
            return i / rate
    return None


def place_baresip_call(call: ComposedCall, local_ip: str, registrar: str
                       ) -> list[tuple[float, str]]:
    """The order call from baresip at `local_ip` (this host's address on the compose network)
    to FreeSWITCH at `registrar` (host:port on that network); its timeline as (time, event).
    AssertionError on failure."""
    binary = shutil.which("baresip")
    assert binary, "baresip is not installed (Debian: apt-get install baresip-core)"
    board = Board(call.board_url, call.board_ca)
    board.sign_in(*call.board_owner)
    folder = call.workdir / "baresip"
    lines = list(Script.load(SCRIPT).caller)[:4]
    wav = folder / "caller.wav"
    folder.mkdir(parents=True, exist_ok=True)
    with wave.open(str(wav), "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(RATE)
        f.writeframes(caller_audio(lines, lead_in=5.0, gap=8.0, tail=40.0))
    _config(folder, call, wav, local_ip, registrar)
    events: list[tuple[float, str]] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(call, board, stop), daemon=True)
    watcher.start()
    started = time.time()
    phone = subprocess.Popen([binary, "-f", str(folder), "-t", "150",
                              "-e", f"/dial sip:5000@{registrar}"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert phone.stdout is not None
        for raw in phone.stdout:
            line = re.sub(r"\x1b\[[0-9;]*m", "", raw).strip()
            said = _event(line)
            if said:
                events.append((time.time(), f"baresip: {said}"))
            if said and said.startswith("call closed"):
                break
        watcher.join(30)
    finally:
        stop.set()
        phone.terminate()
        phone.wait(10)
    established = next((t for t, e in events if "established" in e), None)
    if established is not None and (audible := _first_audible(folder)) is not None:
        events.append((established + audible, "first audible agent audio (baresip's recording)"))
    events += [(call.seen[k], label) for k, label in (
        ("order", "order in the database"), ("board", "order on the board (HTTPS, Caddy)"))
        if k in call.seen]
    events.sort()
    (folder / "timeline.txt").write_text(
        "\n".join(f"{t - started:8.2f} s  {e}" for t, e in events) + "\n")
    assert established is not None, f"baresip's call was never established: {events}"
    assert not any("audio ended" in e for _, e in events), \
        "the caller's WAV ran out before the agent hung up"
    assert any("closed" in e for _, e in events), "the agent's BYE never ended baresip's call"
    orders = _orders(call.firestore_port)
    assert len(orders) == 1, orders
    assert orders[0]["customer_name"] == "Sam Rivera", orders[0]
    assert "board" in call.seen, "the order never showed on the board"
    return events


def _event(line: str) -> str | None:
    """The lines of baresip's console that mark the call's steps."""
    low = line.lower()
    if "200 ok" in low and "binding" in low:
        return "registered as 1001 (200 OK)"
    if "call: connecting to" in low:
        return "dialling 5000 (INVITE)"
    if "sip progress" in low:
        return f"progress: {line.split('Progress:', 1)[-1].strip()}"
    if "call established" in low:
        return "call established (200 OK)"
    if "audio error" in low:  # baresip hangs up when its WAV ends: not the agent's BYE
        return "the caller's audio ended (baresip hangs up itself)"
    if "terminated" in low:
        return f"call closed: {line[:160]}"
    return None
