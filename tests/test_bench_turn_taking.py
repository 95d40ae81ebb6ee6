"""bench/endpointing.py's model of a setting over detector scores, its choice, and
bench/turn_taking.py's per-turn arithmetic (cut-offs, the provider chain from the fakes'
timestamps), without servers."""

from __future__ import annotations

import itertools

from bench import endpointing as ep
from bench import turn_taking as tt
from bench.report import markdown


def _turn(end_prob: float, pauses: list[tuple[float, float]] = (), probs: list[float] = (),
          kind: str = "hesitation") -> dict:
    return {"kind": kind, "lang": "en", "pauses": [list(p) for p in pauses],
            "pause_probs": list(probs), "end_prob": end_prob}


def test_a_pause_longer_than_the_wait_is_cut_off_and_a_held_end_waits_the_ceiling() -> None:
    paused = _turn(0.9, [(1.0, 2.0)], [0.7])  # a 1 s pause the detector thinks is an end
    # at the floor (score over the threshold) the turn commits 0.3 s into a 1 s pause
    assert ep.play([paused], 0.3, 2.0, 0.5)[0]["cut_off"]
    # held (score under the threshold): the 2 s ceiling outlasts the pause
    held = ep.play([paused], 0.3, 2.0, 0.8)[0]
    assert not held["cut_off"] and not held["held"]  # its real end scored 0.9: the floor
    assert held["v2v_ms"] == round((ep.PROVIDER_CHAIN_S + ep.PATH_S) * 1000, 1)
    waited = ep.play([_turn(0.2)], 0.3, 2.0, 0.5)[0]
    assert waited["held"] and waited["v2v_ms"] == round((2.0 + ep.PATH_S) * 1000, 1)


def test_the_choice_is_the_fastest_setting_within_the_cut_off_target() -> None:
    # ends score high, pauses too (the detector cannot tell them apart); pauses of 0.8-1.4 s
    scored = [_turn(0.7, [(1.0, 1.0 + 0.8 + 0.015 * i)], [0.7]) for i in range(40)]
    scored += [_turn(0.7, kind="question") for _ in range(20)]
    study = ep.analyse(scored)
    chosen = study["chosen"]
    assert chosen["cut_off_pct"] <= ep.CUT_OFF_TARGET_PCT
    # the longest pause is 1.385 s, heard resumed 0.1 s later: a ceiling of 1.6 s (every turn
    # held) is the fastest that outlasts it; at 1.4 s the pauses over 1.3 s (6 of 40) are lost
    assert chosen["ceiling_s"] == 1.6 and chosen["threshold"] > 0.7
    faster = [r for r in study["settings"] if r["p95_ms"] < chosen["p95_ms"]]
    assert faster and all(r["cut_off_pct"] > ep.CUT_OFF_TARGET_PCT for r in faster)
    front = study["frontier"]
    assert all(a["cut_off_pct"] <= b["cut_off_pct"] and a["p95_ms"] > b["p95_ms"]
               for a, b in itertools.pairwise(front))


def _live(kind: str, ended: float, heard: float | None, paused: bool = False) -> tt.LiveTurn:
    return tt.LiveTurn(kind, "en", paused, began=ended - 2.0, ended=ended, heard=heard)


def test_the_provider_chain_is_what_that_turn_waited_for() -> None:
    turn = _live("question", 100.0, 101.5)
    logs = {
        "stt": {"emitted": [{"at": 90.0, "text": "earlier", "heard_end_at": 89.7},
                            {"at": 100.4, "text": "what time", "heard_end_at": 100.15}]},
        "llm": {"requests": [{"at": 100.45, "first_token_at": 100.85},
                             {"at": 101.6, "first_token_at": 102.0}]},  # after it was heard
        "tts": {"spoken": [{"opened_at": 100.9, "first_audio_at": 101.05}]},
    }
    assert tt.provider_chain_ms(turn, logs) == round(1000 * (0.25 + 0.40 + 0.15), 1)
    turn.chain_ms = tt.provider_chain_ms(turn, logs)
    s = tt.summarize_turns([turn, _live("list with pauses", 200.0, 199.5, paused=True),
                            _live("question", 300.0, None)])
    assert (s["cut_off"], s["paused_turns"], s["missed"]) == (1, 1, 1)
    assert s["voice_to_voice_ms"]["p50"] == 1500.0
    assert s["ours_ms"]["p50"] == 700.0  # 1.5 s heard minus the 0.8 s the providers took


def test_results_md_shows_the_frontier_and_the_kinds() -> None:
    scored = [_turn(0.7, [(1.0, 1.9)], [0.7]), _turn(0.3, kind="question")]
    study = ep.analyse(scored)
    study["settings_tried"] = len(study.pop("settings"))
    turn = _live("question", 10.0, 11.0)
    turn.chain_ms = 800.0
    run = {"setting": "chosen", "calls": 1, "measured_at": "now", "load_avg": [9.0, 12.0],
           **tt.summarize_turns([turn]), "by_kind": tt.by_kind([turn])}
    md = markdown({"turn_taking_offline": study, "turn_taking_live": {"runs": [run]}})
    assert "endpointing_frontier.png" in md and "**chosen**" in md
    assert "| en | question | 1 | 0 | - | 1000.0 | 1000.0 | 200.0 | 200.0 |" in md
    assert "load average 9.0-12.0" in md
