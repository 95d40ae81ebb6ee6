"""Audio helpers shared by the fake providers and the telephony tests.

Linear16 (signed 16-bit little-endian mono) is the lingua franca here: the Deepgram fake
receives it, the Cartesia fake returns it, and the tests turn it into G.711 (PCMU) for RTP.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

# --- synthesis ------------------------------------------------------------------------------


def tone(duration: float, sample_rate: int, freq: float = 440.0, amplitude: float = 0.3) -> bytes:
    """A sine tone with 10 ms fades, as linear16."""
    n = max(int(duration * sample_rate), 1)
    t = np.arange(n) / sample_rate
    wave = np.sin(2 * np.pi * freq * t) * amplitude
    fade = min(n // 2, int(0.01 * sample_rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        wave[:fade] *= ramp
        wave[-fade:] *= ramp[::-1]
    return (wave * 32767).astype("<i2").tobytes()


def silence(duration: float, sample_rate: int) -> bytes:
    return b"\x00\x00" * int(duration * sample_rate)


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def speak(
    text: str, sample_rate: int, *, words_per_minute: int = 175, pitch: int = 50,
    timeout: float = 20.0,
) -> bytes:
    """Speech for `text` as linear16 at `sample_rate`: espeak-ng (pitch 0-99, its default
    50), resampled by sox."""
    espeak = subprocess.run(
        ["espeak-ng", "--stdout", "-v", "en-us", "-s", str(words_per_minute), "-p", str(pitch),
         text],
        capture_output=True, check=True, timeout=timeout,
    )
    converted = subprocess.run(
        ["sox", "-q", "-t", "wav", "-", "-t", "raw", "-r", str(sample_rate), "-e", "signed",
         "-b", "16", "-c", "1", "-L", "-"],
        input=espeak.stdout, capture_output=True, check=True, timeout=timeout,
    )
    return converted.stdout


def speech_or_tone(text: str, sample_rate: int) -> bytes:
    """espeak-ng speech when available, else a tone about as long as the words would take."""
    if have_espeak():
        return speak(text, sample_rate)
    return tone(min(0.06 * max(len(text), 5), 4.0), sample_rate)


# --- G.711 mu-law ---------------------------------------------------------------------------

_BIAS = 0x84
_CLIP = 32635


def ulaw_encode(pcm: bytes) -> bytes:
    """linear16 -> G.711 mu-law (PCMU), the ITU-T reference algorithm, vectorised."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
    sign = np.where(samples < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(samples), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    encoded = ~(sign | (exponent << 4) | mantissa) & 0xFF
    return encoded.astype(np.uint8).tobytes()


def _ulaw_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


_ULAW_TO_LINEAR = _ulaw_table()


def ulaw_decode(data: bytes) -> bytes:
    return _ULAW_TO_LINEAR[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes()


def rms(pcm: bytes) -> float:
    if len(pcm) < 2:
        return 0.0
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples * samples)))


# --- speech segmentation --------------------------------------------------------------------


@dataclass(frozen=True)
class SpeechEdge:
    kind: str  # "start" | "end"
    at: float  # seconds of audio received when the edge was decided
    speech_start: float  # where the segment began
    speech_end: float | None = None


class EnergySegmenter:
    """Finds speech segments in a linear16 stream by frame energy.

    Speech starts after `start_frames` loud frames in a row and ends after `hangover` seconds
    of quiet, so the pauses between words of one utterance do not split it.
    """

    def __init__(
        self,
        sample_rate: int,
        *,
        threshold: float = 400.0,
        frame_ms: int = 20,
        start_frames: int = 3,
        hangover: float = 0.7,
    ) -> None:
        self.sample_rate = sample_rate
        self.threshold = threshold
        self.frame_bytes = sample_rate * frame_ms // 1000 * 2
        self.frame_s = frame_ms / 1000
        self.start_frames = start_frames
        self.end_frames = max(int(hangover / self.frame_s), 1)
        self._buf = b""
        self._pos = 0.0
        self._loud_run = 0
        self._quiet_run = 0
        self._in_speech = False
        self._seg_start = 0.0
        self._last_loud_end = 0.0

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def position(self) -> float:
        return self._pos

    @property
    def last_loud_end(self) -> float:
        """Where the last loud frame ended (seconds of audio)."""
        return self._last_loud_end

    def speech_so_far(self) -> float:
        return self._pos - self._seg_start if self._in_speech else 0.0

    def feed(self, pcm: bytes) -> Iterator[SpeechEdge]:
        self._buf += pcm
        while len(self._buf) >= self.frame_bytes:
            frame, self._buf = self._buf[: self.frame_bytes], self._buf[self.frame_bytes :]
            loud = rms(frame) >= self.threshold
            frame_start = self._pos
            self._pos += self.frame_s
            if loud:
                self._loud_run += 1
                self._quiet_run = 0
                self._last_loud_end = self._pos
            else:
                self._loud_run = 0
                self._quiet_run += 1
            if not self._in_speech and self._loud_run >= self.start_frames:
                self._in_speech = True
                self._seg_start = frame_start - (self.start_frames - 1) * self.frame_s
                yield SpeechEdge("start", self._pos, self._seg_start)
            elif self._in_speech and self._quiet_run >= self.end_frames:
                self._in_speech = False
                yield SpeechEdge("end", self._pos, self._seg_start, self._last_loud_end)

    def flush(self) -> Iterator[SpeechEdge]:
        if self._in_speech:
            self._in_speech = False
            yield SpeechEdge("end", self._pos, self._seg_start, self._last_loud_end)
