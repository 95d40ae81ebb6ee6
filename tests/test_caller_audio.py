"""testkit/caller_audio.py, the realistic caller (issue 25 §1): the line's levels, never a run
of digital zero, and labels that match the sound (a pause is quiet, the end is where the last
word stops)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from testkit import caller_audio as ca
from testkit.caller_audio import FRAME, LOUD_RMS, RATE, Line, Voice


def frame_rms(pcm: bytes, start_s: float, end_s: float) -> np.ndarray:
    x = ca.to_array(pcm)[int(start_s * RATE): int(end_s * RATE)]
    n = len(x) // FRAME
    return np.sqrt(np.mean(x[: n * FRAME].reshape(n, FRAME) ** 2, axis=1))


@pytest.mark.parametrize("floor", [-65.0, -58.0, -50.0])
def test_the_noise_floor_is_at_its_level_and_never_digital_zero(floor: float) -> None:
    quiet = ca.bed(2.0, Line(floor, jitter_ms=0, loss=0))
    assert abs(ca.dbfs(ca.to_array(quiet)) - floor) < 1.5
    # mu-law rounds the quietest samples to zero now and then; a phone's silence would be
    # one long run of them
    assert ca.longest_zero_run(quiet) < 16


def test_a_cafe_is_at_its_level_behind_the_floor() -> None:
    busy = ca.bed(3.0, Line(-60.0, -44.0))
    assert abs(ca.dbfs(ca.to_array(busy)) - -44.0) < 1.5
    assert ca.longest_zero_run(busy) < 16
    # babble comes and goes: its 20 ms frames are not all alike, as steady noise's are
    spread = frame_rms(busy, 0, 3.0)
    assert np.percentile(spread, 90) > 1.5 * np.percentile(spread, 10)


def test_lost_packets_are_concealed_not_zeroed() -> None:
    t = np.arange(RATE) / RATE
    speechlike = 3000 * np.sin(2 * np.pi * 220 * t)
    heard, lost = ca.lose_packets(speechlike, Line(jitter_ms=30, loss=0.1),
                                  np.random.default_rng(1))
    assert 5 <= lost <= 25  # 10 % lost plus those later than the 40 ms jitter buffer
    assert ca.longest_zero_run(ca.to_pcm(heard)) < 4
    assert not np.array_equal(heard, speechlike)


def test_a_turn_is_labelled_where_it_pauses_and_where_it_ends() -> None:
    kind = next(k for k in ca.TURN_SET if k.kind == "hesitation" and k.lang == "en")
    turn = ca.render(kind, Voice("piper", 1.0, 0.0), Line(-58.0), random.Random(3))
    assert turn.kind == "hesitation" and turn.paused and len(turn.pauses) == 1
    (a, b), lo, hi = turn.pauses[0], *kind.pause_s
    # loud to loud: the drawn pause plus the 40 ms kept either side of each phrase's sound
    assert lo <= b - a <= hi + 0.15
    assert turn.start_s < a < b < turn.end_s
    assert frame_rms(turn.pcm, a + 0.06, b - 0.06).max() < LOUD_RMS  # the pause is quiet
    assert frame_rms(turn.pcm, turn.end_s - 0.2, turn.end_s).max() >= LOUD_RMS  # words here
    assert frame_rms(turn.pcm, turn.end_s + 0.06, turn.end_s + 2.0).max() < LOUD_RMS
    assert ca.longest_zero_run(turn.pcm) < 16
    assert turn.label()["pauses"] == [[round(a, 3), round(b, 3)]]


def test_a_complete_turn_has_no_pause_and_the_set_covers_every_kind() -> None:
    kinds = {(k.lang, k.kind) for k in ca.TURN_SET}
    for lang in ("en", "es"):
        assert {kind for lg, kind in kinds if lg == lang} == {
            "complete request", "question", "list with pauses", "number read slowly",
            "hesitation", "correction"}
    question = next(k for k in ca.TURN_SET if k.kind == "question" and k.lang == "en")
    turn = ca.render(question, Voice("piper", 1.15, 3.0), Line(-65.0), random.Random(1))
    assert not turn.paused and turn.end_s - turn.start_s > 0.8


@pytest.mark.skipif(not ca.have_espeak(), reason="espeak-ng and sox")
def test_spanish_turns_are_said_by_espeak() -> None:
    kind = next(k for k in ca.TURN_SET if k.kind == "correction" and k.lang == "es")
    turn = ca.render(kind, ca.ES_VOICES[0], Line(-60.0), random.Random(2))
    assert turn.lang == "es" and turn.voice.startswith("espeak-es")
    assert len(turn.pauses) == 1 and turn.end_s > turn.pauses[0][1]


def _crossings(x: np.ndarray) -> float:
    return float(np.mean(np.abs(np.diff(np.sign(x))) > 0))


def test_voices_differ_in_rate_and_pitch() -> None:
    text = "What time do you close today?"
    slow = ca.to_array(ca.say(text, Voice("piper", 0.85, 0)))
    fast = ca.to_array(ca.say(text, Voice("piper", 1.3, 0)))
    assert len(slow) > 1.1 * len(fast)  # Piper stretches phonemes, not everything
    low = ca.to_array(ca.say(text, Voice("piper", 1.0, -3)))
    high = ca.to_array(ca.say(text, Voice("piper", 1.0, 3)))
    assert abs(len(low) - len(high)) < 0.05 * len(low)  # the same speed,
    assert _crossings(high) > 1.1 * _crossings(low)  # higher
