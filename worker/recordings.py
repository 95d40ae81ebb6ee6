"""Call recordings a restaurant opted into: kept on a volume, linked from the call log, deleted
when the restaurant's retention period is over.

LiveKit's session recorder (`AgentSession.start(record=...)`) writes the call's audio, caller
and agent, to `audio.ogg` (Opus) in the job's temporary folder, which LiveKit deletes when the
job ends. At the end of the call the worker hands that file to `keep`, which re-encodes it as
FLAC (16 kHz, the caller on the left channel, the agent on the right) into `RECORDINGS_DIR`:
lossless for telephone audio at a quarter of 48 kHz WAV, and playable by sox and every
player (Debian's sox has no Opus reader). `sweep` deletes what is past its date.

No LiveKit here: the worker passes paths and times in.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from models import DEFAULT_RESTAURANT_ID

logger = logging.getLogger("restaurant.recordings")
RATE = 16000  # telephone audio is 8 kHz; 16 kHz keeps the agent's voice intact
_SAFE = re.compile(r"[^A-Za-z0-9_.+-]")


class RecordingIndex(Protocol):
    """Where the call logs link their recordings (store.FirebaseManager)."""

    async def link_recording(self, call_id: str, path: str, expires_at: datetime) -> None: ...
    async def expired_recordings(self, now: datetime) -> list[tuple[str, str]]: ...
    async def forget_recording(self, call_id: str, now: datetime) -> None: ...


@dataclass(frozen=True)
class KeptRecording:
    path: str  # relative to the recordings directory: what the call log links
    expires_at: datetime
    seconds: float


def restaurant_dir(root: Path, restaurant_id: str) -> Path:
    """Where one restaurant's recordings go: its own folder under `root` (the default
    restaurant keeps `root` itself, where a single-restaurant deployment's files already are).
    A restaurant's sweep deletes only what its own call logs link, inside its own folder."""
    return root if restaurant_id == DEFAULT_RESTAURANT_ID else root / "restaurants" / restaurant_id


def recording_name(call_id: str, started_at: datetime) -> str:
    """`2026-11-20/call-_+16175550199_Ab12.flac`: one folder a day, one file a call."""
    return f"{started_at.date().isoformat()}/{_SAFE.sub('_', call_id)}.flac"


def keep(
    source: Path, root: Path, call_id: str, started_at: datetime, retention_days: int
) -> KeptRecording | None:
    """Re-encode LiveKit's recording into the recordings directory (blocking: run it in a
    thread). None when the recorder left no audio."""
    if not source.exists() or source.stat().st_size == 0:
        logger.warning("no recording to keep", extra={"call_id": call_id})
        return None
    name = recording_name(call_id, started_at)
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    seconds = _transcode(source, partial)
    os.replace(partial, target)  # a reader never sees half a file
    return KeptRecording(
        path=name, expires_at=started_at + timedelta(days=retention_days), seconds=seconds
    )


def _transcode(source: Path, target: Path) -> float:
    samples = 0
    with av.open(str(source)) as src, av.open(str(target), mode="w", format="flac") as dst:
        stream = dst.add_stream("flac", rate=RATE, layout="stereo")
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=RATE)
        for frame in src.decode(audio=0):
            for out in resampler.resample(frame):
                samples += out.samples
                for packet in stream.encode(out):
                    dst.mux(packet)
        for out in resampler.resample(None):
            samples += out.samples
            for packet in stream.encode(out):
                dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    return samples / RATE


def channel_levels(path: Path) -> tuple[float, float]:
    """RMS of the left (caller) and right (agent) channels: which side spoke."""
    with av.open(str(path)) as f:
        chunks = [_planar(frame) for frame in f.decode(audio=0)]
    if not chunks:
        return 0.0, 0.0
    audio = np.concatenate(chunks, axis=1).astype(np.float64)
    left, right = (np.sqrt(np.mean(ch**2)) for ch in audio[:2])
    return float(left), float(right)


def _planar(frame: av.AudioFrame) -> np.ndarray:
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_packed and channels > 1:  # interleaved L R L R ...
        return data.reshape(-1, channels).T
    return data


def sweep_files(root: Path, expired: list[str]) -> list[str]:
    """Delete the expired recordings (relative paths) that still exist; the ones deleted."""
    deleted = []
    for rel in expired:
        path = (root / rel).resolve()
        if root.resolve() not in path.parents:
            logger.error("refusing to delete outside the recordings directory: %s", rel)
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        else:
            deleted.append(rel)
        try:
            path.parent.rmdir()  # the day's folder, once empty
        except OSError:
            pass
    return deleted


async def keep_call_recording(
    source: Path, root: Path, index: RecordingIndex, *, call_id: str, started_at: datetime,
    retention_days: int,
) -> KeptRecording | None:
    """At the end of a recorded call: keep the file, link it from the call log. A failure is
    logged, never raised: the call is over and its log already written."""
    try:
        kept = await asyncio.to_thread(keep, source, root, call_id, started_at, retention_days)
        if kept is not None:
            await index.link_recording(call_id, kept.path, kept.expires_at)
            logger.info("recording kept", extra={"call_id": call_id, "seconds": kept.seconds})
        return kept
    except Exception:
        logger.exception("recording not kept", extra={"call_id": call_id})
        return None


async def sweep(root: Path, index: RecordingIndex, now: datetime) -> list[str]:
    """Delete every recording past its date and unlink it from its call log; the paths
    deleted. Safe to run from several workers at once (a file already gone is skipped)."""
    expired = await index.expired_recordings(now)
    deleted = await asyncio.to_thread(sweep_files, root, [path for _, path in expired])
    for call_id, path in expired:
        if not (root / path).exists():
            await index.forget_recording(call_id, now)
    if deleted:
        logger.info("recordings past retention deleted", extra={"count": len(deleted)})
    return deleted
