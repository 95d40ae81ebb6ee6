"""bench/voice.py's clock and arithmetic, without servers: the caller's live RTP mouth and ear
(tests/telephony/caller.py), pooling runs, the capacity rule, and what --record writes."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from pathlib import Path

from bench import voice
from fakes.audio import silence, tone, ulaw_decode, ulaw_encode
from testkit.caller import LOUD, RATE, RtpCapture, rms


def _far_end(port: int, stop: threading.Event, answer_after: list[float]) -> socket.socket:
    """A stand-in for FreeSWITCH: sends 20 ms PCMU packets to the caller, silence except a
    loud tone starting `answer_after[0]` s after the caller's first loud packet arrived."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.005)
    quiet, loud = ulaw_encode(silence(0.02, RATE)), ulaw_encode(tone(0.02, RATE, amplitude=0.5))
    heard: list[float] = []

    def run() -> None:
        n = 0
        while not stop.is_set():
            try:
                data, _ = sock.recvfrom(2048)
                if rms(ulaw_decode(data[12:])) >= LOUD:
                    heard.append(time.time())
            except TimeoutError:
                pass
            speaking = heard and answer_after and time.time() - heard[-1] >= answer_after[0]
            payload = loud if speaking else quiet
            sock.sendto(struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, n * 160, 1) + payload,
                        ("127.0.0.1", port))
            n += 1
            time.sleep(0.02)

    threading.Thread(target=run, daemon=True).start()
    return sock


def test_live_caller_says_lines_on_demand_and_times_the_answer() -> None:
    capture = RtpCapture(live=True)
    stop = threading.Event()
    far = _far_end(capture.port, stop, [0.3])
    try:
        time.sleep(0.2)  # the far end's first packet starts the caller's mouth
        asked = time.time()
        began, ended = capture.say(silence(0.2, RATE) + tone(0.5, RATE, amplitude=0.5)
                                   + silence(0.3, RATE))
        assert 0.15 <= began - asked <= 0.4, began - asked  # after the line's leading quiet
        assert 0.45 <= ended - began <= 0.7, (began, ended)  # the loud part only, not the quiet
        deadline = time.time() + 3
        while capture.audible_since(ended) is None and time.time() < deadline:
            time.sleep(0.01)
        heard = capture.audible_since(ended)
        assert heard is not None
        # the far end answered 0.3 s after the caller's last loud packet reached it
        assert 0.2 <= heard - ended <= 0.6, heard - ended
        assert capture.sent > 20  # silence kept flowing before and after the line
    finally:
        stop.set()
        capture.close()
        far.close()


def _row(calls: int, mode: str, samples: list[float], **kw: object) -> dict:
    latency = voice.MODES[mode]
    return {"calls": calls, "mode": mode, "samples_ms": samples,
            "provider_latency_ms": {"stt_final": latency["stt_final_s"] * 1000,
                                    "llm_first_token": latency["llm_first_token_s"] * 1000,
                                    "tts_first_audio": latency["tts_first_audio_s"] * 1000,
                                    "stt_end_silence": 200},
            "turns": len(samples), "missed_turns": 0, "cut_offs": 0, "turns_held": 0,
            "calls_placed": 1,
            "failed_calls": 0, "errors": [], "load_avg": [1.0, 2.0],
            "measured_at": "2026-11-28 05:50 UTC", **kw}


def test_runs_pool_and_ours_subtracts_the_configured_latencies() -> None:
    rows = voice.pooled([_row(1, "realistic", [1000.0, 1200.0]),
                         _row(1, "realistic", [1400.0], load_avg=[0.5, 9.0]),
                         _row(1, "zero", [600.0])])
    realistic = next(r for r in rows if r["mode"] == "realistic")
    assert realistic["voice_to_voice_ms"] == {"p50": 1200.0, "p95": 1400.0, "max": 1400.0,
                                              "n": 3}
    assert realistic["ours_ms"]["p50"] == 400.0  # 1200 - (250 + 400 + 150)
    assert realistic["load_avg"] == [0.5, 9.0] and realistic["turns"] == 3
    assert next(r for r in rows if r["mode"] == "zero")["ours_ms"]["p50"] == 600.0


def test_capacity_is_the_highest_level_within_15_percent_of_one_call() -> None:
    rows = [_row(1, "realistic", [1000.0] * 20), _row(4, "realistic", [1100.0] * 20),
            _row(8, "realistic", [1200.0] * 20), _row(8, "zero", [100.0] * 20)]
    cap = voice.capacity(voice.pooled(rows))
    assert cap["highest_level_within_15pct_of_1_call"] == 4  # 1200 > 1150
    assert cap["highest_level_within_1400ms"] == 8
    failed = voice.pooled([*rows[:2], _row(8, "realistic", [1000.0] * 20, failed_calls=1)])
    # a level that lost calls is not a level the worker can take, however fast its turns
    assert voice.capacity(failed)["highest_level_within_15pct_of_1_call"] == 4


def test_record_writes_results_markdown_and_the_plot(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"cores_per_call": {"kept": True}}))
    rows = [_row(n, mode, [900.0 + 50 * n, 1000.0 + 60 * n])
            for n in (1, 4, 8) for mode in ("realistic", "zero")]
    voice.record(rows, results)
    saved = json.loads(results.read_text())
    assert saved["cores_per_call"] == {"kept": True}  # other benchmarks' figures stay
    levels = saved["voice_to_voice_ms"]["levels"]
    assert [lv["calls"] for lv in levels] == [1, 4, 8]
    assert levels[2]["realistic"]["voice_to_voice_ms"]["p95"] == 1480.0
    md = (tmp_path / "results.md").read_text()
    assert "Voice-to-voice" in md and "1480" in md
    png = (tmp_path / "voice_to_voice_p95.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_varied_speech_pauses_inside_a_third_of_the_sentences_and_the_stt_script_follows() -> None:
    turns = voice.plan("varied", 300, seed="t")
    assert turns == voice.plan("varied", 300, seed="t")  # every run says the same
    split = [t for t in turns if t.pause_s is not None]
    assert 70 <= len(split) <= 130
    assert {t.wpm for t in turns} == set(voice.RATES_WPM)
    assert all(t.pause_s is None and t.wpm == 175 for t in voice.plan("flat", 50, seed="t"))
    # the fake STT hears a paused sentence as two segments, in the order they are said
    script = voice.script(turns[:20])
    expected = [seg for t in turns[:20] for seg in (
        voice.QA[t.question][:2] if t.pause_s is not None
        else (f"{voice.QA[t.question][0]} {voice.QA[t.question][1]}",))]
    assert script["caller"] == expected


def test_the_llm_answers_a_whole_question_even_when_it_arrived_in_two_halves() -> None:
    from fakes.script import Script

    rules = Script.from_dict(voice.script(voice.plan("varied", 8, seed="t"))).rules
    first, rest, answer = voice.QA[6]

    def reply(text: str) -> str:
        rule = next(r for r in rules if r.matches(text))
        return rule.steps[0].text

    assert reply(f"{first} {rest}") == answer  # held through the pause: one turn
    assert reply(first) == "Go on."  # committed inside the pause: the cut-off case
    assert reply(rest) == "Yes."


def test_each_prediction_is_counted_under_the_segment_it_judged() -> None:
    turns = [voice.Turn(900.0, False, 10.0, True, ((8.5, "fragment"), (10.0, "complete"))),
             voice.Turn(None, True, 20.0, False, ((20.0, "complete"),))]
    predictions = [{"at": t, "probability": p} for t, p in
                   ((8.8, 0.05), (10.3, 0.6), (20.2, 0.3), (30.0, 0.9))]  # 30.0: no segment
    assert voice.VoiceBench.attribute(predictions, turns) == {
        "complete": [0.6, 0.3], "fragment": [0.05]}


def test_threshold_study_counts_sentences_held_and_first_halves_let_through() -> None:
    study = voice.threshold_study([{"eot": {"complete": [0.1, 0.3, 0.5, 0.9],
                                            "fragment": [0.01, 0.2]}}], thresholds=(0.15, 0.36))
    assert study["by_threshold"] == [
        {"threshold": 0.15, "complete_held_pct": 25.0, "first_halves_committed_pct": 50.0},
        {"threshold": 0.36, "complete_held_pct": 50.0, "first_halves_committed_pct": 0.0}]
    assert voice.threshold_study([{"eot": {"predictions": 3}}]) == {}  # levels above 1 call
