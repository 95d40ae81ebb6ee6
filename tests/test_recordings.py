"""Recordings: LiveKit's recorder file (Ogg/Opus, caller left, agent right) is kept as FLAC in
the recordings directory, plays in sox, is linked from the call log in the real emulator, and
is deleted by the sweep once the restaurant's retention period is over, not before."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from models import CallLog
from worker import recordings

STARTED = datetime(2026, 11, 20, 18, 5, tzinfo=UTC)
CALL_ID = "call-_+16175550199_Ab12"


def livekit_style_recording(path: Path, seconds: float = 3.0) -> None:
    """What RecorderIO writes: 48 kHz stereo Opus in Ogg; here a tone on the caller's side
    and a quieter one, later, on the agent's."""
    rate = 48000
    t = np.arange(int(rate * seconds)) / rate
    caller = 0.5 * np.sin(2 * np.pi * 440 * t)
    agent = np.where(t > seconds / 2, 0.2 * np.sin(2 * np.pi * 660 * t), 0.0)
    pcm = (np.stack([caller, agent]) * 32767).astype(np.int16)
    with av.open(str(path), mode="w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=rate, layout="stereo")
        step = 960
        for i in range(0, pcm.shape[1], step):
            chunk = np.ascontiguousarray(pcm[:, i:i + step]).reshape(1, -1, order="F")
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="stereo")
            frame.sample_rate = rate
            frame.pts = i
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def sox_seconds(path: Path) -> float:
    """Decode the whole file with sox (what "it plays" means without a speaker)."""
    done = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True,
                          timeout=30, check=True)
    return float(re.search(r"Length \(seconds\):\s+([\d.]+)", done.stderr).group(1))


@pytest.fixture
def sox() -> None:
    if shutil.which("sox") is None:
        pytest.skip("sox is installed by scripts/install_deps.sh")


async def test_a_recording_is_kept_plays_and_is_deleted_after_retention(db, tmp_path, sox):
    job_tmp = tmp_path / "job"
    job_tmp.mkdir()
    livekit_style_recording(job_tmp / "audio.ogg")
    root = tmp_path / "recordings"
    await db.write_call_log(CallLog(call_id=CALL_ID, started_at=STARTED), STARTED.date())

    kept = await recordings.keep_call_recording(
        job_tmp / "audio.ogg", root, db, call_id=CALL_ID, started_at=STARTED, retention_days=7)

    assert kept is not None
    path = root / kept.path
    assert path.exists() and path.suffix == ".flac" and not list(root.rglob("*.part"))
    assert abs(sox_seconds(path) - 3.0) < 0.2
    caller, agent = recordings.channel_levels(path)
    assert caller > 2 * agent > 0  # both sides kept, each on its own channel
    log = (await db.db.document(f"call_logs/{CALL_ID}").get()).to_dict()
    assert log["recording"] == kept.path and "+16175550199" in kept.path
    assert log["recording_expires_at"] == STARTED + timedelta(days=7)
    assert log["transcript"] == []  # linking merged into the log, did not replace it

    # A day before the end of retention: kept. After it: gone, and the log says so.
    assert await recordings.sweep(root, db, STARTED + timedelta(days=6)) == []
    assert path.exists()
    deleted = await recordings.sweep(root, db, STARTED + timedelta(days=7, minutes=1))
    assert deleted == [kept.path] and not path.exists() and not path.parent.exists()
    log = (await db.db.document(f"call_logs/{CALL_ID}").get()).to_dict()
    assert log["recording"] is None and log["recording_deleted_at"] is not None
    assert await recordings.sweep(root, db, STARTED + timedelta(days=8)) == []


async def test_no_audio_from_the_recorder_keeps_nothing(db, tmp_path):
    kept = await recordings.keep_call_recording(
        tmp_path / "missing.ogg", tmp_path / "rec", db, call_id=CALL_ID, started_at=STARTED,
        retention_days=7)
    assert kept is None and not (tmp_path / "rec").exists()


def test_the_sweep_never_deletes_outside_the_recordings_directory(tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    (tmp_path / "rec").mkdir()
    assert recordings.sweep_files(tmp_path / "rec", ["../precious.txt"]) == []
    assert outside.exists()
