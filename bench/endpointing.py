"""The endpointing trade-off on realistic caller audio (issue 25 §2), scored offline.

    .venv/bin/python -m bench.endpointing --turns 216 --out /tmp/eot.json   # score + sweep
    .venv/bin/python -m bench.endpointing --scores /tmp/eot.json --record   # results + plot

The turns are testkit/caller_audio.py's labelled set (Piper and espeak-ng voices, English
and Spanish, on lines with a noise floor, a café, mu-law, jitter and lost packets). At every
place a turn stops sounding — each pause inside it and its real end — the local turn detector
(`livekit.local_inference.EOT`, the v1-mini model `inference.TurnDetector` runs in the job)
scores the last 1.2 s of audio as the job has it when the VAD reports the end of speech
(VAD_SILENCE_S later), resampled to 16 kHz. That is the issue's own method, run directly.

Each setting (floor = min endpointing delay, ceiling = max delay, detector threshold) is then
played over those scores, as LiveKit's audio recognition does: a score under the threshold
waits the ceiling, else the floor, counted from the end of speech; a turn is not committed
before the final transcript (STT_FINAL_S). A pause inside a turn is cut off when the commit
falls before the caller resumes (plus RESUME_S for the VAD to hear it). At a real end the
caller hears the answer at max(commit, PROVIDER_CHAIN_S) + PATH_S: with preemptive generation
the reply is drafted from the final transcript while endpointing waits, so it is ready once
the providers' serial chain is done. Ours = that minus the provider chain. The model's
constants are the issue's figures; bench/voice.py checks the chosen setting end to end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.stats import timing
from testkit.caller_audio import RATE, TURN_SET, LabelledTurn, _resample, to_array, turn_sample

ROOT = Path(__file__).resolve().parent.parent
VAD_SILENCE_S = 0.25  # inference.VAD's min_silence_duration: end of speech is reported then
WINDOW_S = 1.2  # the detector's receptive field
STT_FINAL_S = 0.25  # the fake Deepgram's final, after the end of speech (fakes/latency.py)
PROVIDER_CHAIN_S = 0.80  # final 0.25 + LLM first token 0.40 + TTS first audio 0.15
PATH_S = 0.28  # FreeSWITCH -> LiveKit SIP -> the job and back (the figure)
RESUME_S = 0.10  # the VAD's start of speech after the caller resumes
FLOORS = (0.3, 0.5, 0.8, 1.0)
CEILINGS = (0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2, 2.5, 3.0)
THRESHOLDS = (0.0, 0.2, 0.36, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.01)  # 0: never hold,
# 1.01: always hold (a fixed delay: the floor or the ceiling)
CURRENT = {"floor_s": 0.8, "ceiling_s": 1.2, "threshold": 0.36}  # before this issue
CUT_OFF_TARGET_PCT = 3.0


def score_turns(turns: list[LabelledTurn]) -> list[dict[str, Any]]:
    """Each turn's labels, with the detector's probability at each pause and at its end."""
    from livekit.local_inference import EOT

    eot = EOT()

    def prob(pcm: bytes, at_s: float) -> float:
        x = to_array(pcm)
        end = int((at_s + VAD_SILENCE_S) * RATE)
        window = x[max(end - int(WINDOW_S * RATE), 0): end]
        wide = np.clip(np.round(_resample(window, RATE, 16000)), -32768, 32767)
        return round(float(eot.predict(wide.astype(np.int16))), 4)

    out = []
    for t in turns:
        out.append({**t.label(), "pause_probs": [prob(t.pcm, a) for a, _ in t.pauses],
                    "end_prob": prob(t.pcm, t.end_s)})
    return out


def commit_after(p: float, floor: float, ceiling: float, threshold: float) -> float:
    """Seconds from the end of speech to the commit, for a detector score `p`."""
    delay = ceiling if p < threshold else floor
    return max(delay, STT_FINAL_S, VAD_SILENCE_S)


def play(scored: list[dict[str, Any]], floor: float, ceiling: float, threshold: float
         ) -> list[dict[str, Any]]:
    """Each turn's outcome under one setting: cut off (committed inside a pause), held (its
    real end scored under the threshold), and the silence the caller hears after it."""
    out = []
    for t in scored:
        cut = any(commit_after(p, floor, ceiling, threshold) + 0 < (b - a) + RESUME_S
                  and (b - a) > VAD_SILENCE_S
                  for p, (a, b) in zip(t["pause_probs"], t["pauses"], strict=True))
        commit = commit_after(t["end_prob"], floor, ceiling, threshold)
        v2v = max(commit, PROVIDER_CHAIN_S) + PATH_S
        out.append({"kind": t["kind"], "lang": t["lang"], "paused": bool(t["pauses"]),
                    "cut_off": cut, "held": t["end_prob"] < threshold,
                    "v2v_ms": None if cut else round(v2v * 1000, 1)})
    return out


def summary(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    paused = [o for o in outcomes if o["paused"]]
    v2v = [o["v2v_ms"] for o in outcomes if o["v2v_ms"] is not None]
    return {
        "turns": len(outcomes), "paused_turns": len(paused),
        "cut_off": sum(o["cut_off"] for o in paused),
        "cut_off_pct": round(100 * sum(o["cut_off"] for o in paused) / max(len(paused), 1), 1),
        "held": sum(o["held"] for o in outcomes),
        "v2v_ms": timing(v2v, digits=1),
        "ours_ms": timing([v - PROVIDER_CHAIN_S * 1000 for v in v2v], digits=1),
    }


def sweep(scored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for floor in FLOORS:
        for ceiling in CEILINGS:
            if ceiling < floor:
                continue
            for threshold in THRESHOLDS:
                s = summary(play(scored, floor, ceiling, threshold))
                rows.append({"floor_s": floor, "ceiling_s": ceiling, "threshold": threshold,
                             "cut_off_pct": s["cut_off_pct"],
                             "held_pct": round(100 * s["held"] / max(s["turns"], 1), 1),
                             "p50_ms": s["v2v_ms"]["p50"],
                             "p95_ms": s["v2v_ms"]["p95"], "ours_p50_ms": s["ours_ms"]["p50"],
                             "ours_p95_ms": s["ours_ms"]["p95"]})
    return rows


def frontier(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The settings no other beats on both cut-offs and p95 (lowest p95 per cut-off rate)."""
    best: list[dict[str, Any]] = []
    for r in sorted(rows, key=lambda r: (r["cut_off_pct"], r["p95_ms"], r["p50_ms"])):
        if not best or r["p95_ms"] < best[-1]["p95_ms"]:
            best.append(r)
    return best


def choose(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """The lowest p95, then p50, with at most CUT_OFF_TARGET_PCT of paused turns cut off;
    among equals the fewest cut-offs, then the fewest real ends held (answered at the floor).
    When no setting gets there: the fewest cut-offs."""
    ok = [r for r in rows if r["cut_off_pct"] <= CUT_OFF_TARGET_PCT]
    if ok:
        return (min(ok, key=lambda r: (r["p95_ms"], r["p50_ms"], r["cut_off_pct"], r["held_pct"])),
                f"the lowest p95 with at most {CUT_OFF_TARGET_PCT:g} % of paused turns cut off")
    return (min(rows, key=lambda r: (r["cut_off_pct"], r["p95_ms"])),
            f"no setting cuts off at most {CUT_OFF_TARGET_PCT:g} %: the fewest cut-offs")


def by_kind(scored: list[dict[str, Any]], setting: dict[str, Any]) -> list[dict[str, Any]]:
    """The table of turn kinds under `setting`: held, cut off, p50/p95 voice-to-voice."""
    outcomes = play(scored, setting["floor_s"], setting["ceiling_s"], setting["threshold"])
    table = []
    kinds = sorted({(k.lang, k.kind) for k in TURN_SET})
    for lang, kind in kinds:
        rows = [o for o in outcomes if o["kind"] == kind and o["lang"] == lang]
        if not rows:
            continue
        s = summary(rows)
        answered = s["v2v_ms"]["n"] > 0
        table.append({"lang": lang, "kind": kind, "turns": s["turns"], "held": s["held"],
                      "paused_turns": s["paused_turns"], "cut_off": s["cut_off"],
                      "p50_ms": s["v2v_ms"]["p50"] if answered else None,
                      "p95_ms": s["v2v_ms"]["p95"] if answered else None})
    return table


def probabilities(scored: list[dict[str, Any]]) -> dict[str, Any]:
    """The detector's scores at real ends and at pauses, per language (medians)."""
    out = {}
    for lang in sorted({t["lang"] for t in scored}):
        ends = [t["end_prob"] for t in scored if t["lang"] == lang]
        pauses = [p for t in scored if t["lang"] == lang for p in t["pause_probs"]]
        # AUC: the chance that a real end scores above a pause (0.5: no better than a coin)
        auc = np.mean([(e > q) + 0.5 * (e == q) for e in ends for q in pauses]) if pauses \
            else None
        out[lang] = {"ends": len(ends), "end_median": round(float(np.median(ends)), 3),
                     "pauses": len(pauses),
                     "pause_median": round(float(np.median(pauses)), 3) if pauses else None,
                     "auc": None if auc is None else round(float(auc), 3)}
    return out


def analyse(scored: list[dict[str, Any]]) -> dict[str, Any]:
    rows = sweep(scored)
    chosen, why = choose(rows)
    current = next(r for r in rows if all(r[k] == v for k, v in CURRENT.items()))
    langs = {}
    for lang in sorted({t["lang"] for t in scored}):
        part = [t for t in scored if t["lang"] == lang]
        langs[lang] = summary(play(part, chosen["floor_s"], chosen["ceiling_s"],
                                   chosen["threshold"]))
    return {"how": __doc__.split("\n\n")[2].replace("\n", " "),
            "model": {"vad_silence_s": VAD_SILENCE_S, "stt_final_s": STT_FINAL_S,
                      "provider_chain_s": PROVIDER_CHAIN_S, "path_s": PATH_S,
                      "resume_s": RESUME_S},
            "turns": len(scored), "paused_turns": sum(bool(t["pauses"]) for t in scored),
            "detector": probabilities(scored), "settings": rows,
            "frontier": frontier(rows), "current": current, "chosen": chosen,
            "chosen_because": why, "by_language": langs,
            "by_kind": by_kind(scored, chosen), "by_kind_current": by_kind(scored, current)}


def plot(study: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.6), dpi=110)
    rows = study["settings"]
    ax.scatter([r["cut_off_pct"] for r in rows], [r["p95_ms"] for r in rows], s=9,
               color="lightgrey", label=f"{len(rows)} settings (floor, ceiling, threshold)")
    front = study["frontier"]
    ax.plot([r["cut_off_pct"] for r in front], [r["p95_ms"] for r in front], "o-",
            color="tab:blue", ms=4, label="frontier")
    for r in front[:: max(len(front) // 8, 1)]:
        ax.annotate(f"{r['floor_s']:g}/{r['ceiling_s']:g}/{r['threshold']:g}",
                    (r["cut_off_pct"], r["p95_ms"]), textcoords="offset points",
                    xytext=(4, 4), fontsize=7, color="tab:blue")
    for key, color, label in (("current", "tab:red", "before"), ("chosen", "tab:green",
                                                                  "chosen default")):
        r = study[key]
        ax.plot(r["cut_off_pct"], r["p95_ms"], "D", color=color, ms=8,
                label=f"{label}: floor {r['floor_s']:g} s, ceiling {r['ceiling_s']:g} s, "
                      f"threshold {r['threshold']:g}")
    ax.axvline(CUT_OFF_TARGET_PCT, color="grey", lw=0.8, ls=":")
    target = (PROVIDER_CHAIN_S + 0.6) * 1000
    ax.axhline(target, color="grey", lw=0.8, ls=":")
    ax.text(0.99, target, "target: ours p95 0.60 s ", fontsize=7, color="grey", ha="right",
            va="bottom", transform=ax.get_yaxis_transform())
    ax.set_xlabel("paused turns cut off (%)")
    ax.set_ylabel("voice-to-voice p95 (ms), providers 0.8 s")
    ax.set_title(f"Endpointing frontier on realistic caller audio ({study['turns']} turns, "
                 "offline)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def record(study: dict[str, Any], results_path: Path) -> None:
    """Into results.json (`turn_taking_offline`, settings beyond the frontier dropped),
    results.md and bench/endpointing_frontier.png."""
    from bench.report import markdown

    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    kept = {k: v for k, v in study.items() if k != "settings"}
    kept["settings_tried"] = len(study["settings"])
    results["turn_taking_offline"] = kept
    results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    results_path.with_name("results.md").write_text(markdown(results))
    plot(study, results_path.with_name("endpointing_frontier.png"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--turns", type=int, default=216)
    ap.add_argument("--seed", default="bench.endpointing")
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-endpointing.json"),
                    help="the scored turns (labels and detector scores)")
    ap.add_argument("--scores", type=Path, help="score nothing: use these scored turns")
    ap.add_argument("--record", action="store_true",
                    help="write bench/results.json/md and bench/endpointing_frontier.png")
    args = ap.parse_args()
    if args.scores:
        scored = json.loads(args.scores.read_text())
    else:
        t0 = time.monotonic()
        scored = score_turns(turn_sample(args.turns, args.seed))
        args.out.write_text(json.dumps(scored, indent=1, ensure_ascii=False) + "\n")
        print(f"bench.endpointing: {len(scored)} turns scored in "
              f"{time.monotonic() - t0:.0f} s -> {args.out}", file=sys.stderr)
    study = analyse(scored)
    for key in ("current", "chosen"):
        print(key, json.dumps(study[key]), file=sys.stderr)
    print("because:", study["chosen_because"], file=sys.stderr)
    print(json.dumps(study["detector"]), file=sys.stderr)
    if args.record:
        record(study, ROOT / "bench" / "results.json")


if __name__ == "__main__":
    main()
