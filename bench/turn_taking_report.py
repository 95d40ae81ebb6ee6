"""results.md's turn-taking section (issue 25 §2): the frontier on realistic caller audio
(bench/endpointing.py), the chosen setting end to end through SIP (bench/turn_taking.py), and
the table of turn kinds."""

from __future__ import annotations

from typing import Any

TARGET_OURS_P50_MS, TARGET_OURS_P95_MS = 300, 600  # at 1 call
TARGET_OURS_P95_4_CALLS_MS, TARGET_CUT_OFF_PCT = 700, 3.0


def _setting(r: dict[str, Any]) -> str:
    return f"floor {r['floor_s']:g} s / ceiling {r['ceiling_s']:g} s / threshold {r['threshold']:g}"


def _t(t: dict[str, Any] | None) -> str:
    if not t or not t.get("n"):
        return "n/a"
    return f"p50 {t['p50']:g} / p95 {t['p95']:g} ms (n={t['n']})"


def _held(d: dict[str, Any] | None) -> str:
    if not d or not d.get("predictions"):
        return "n/a"
    return f"{d['held']} of {d['predictions']} predictions (threshold {d['thresholds']})"


def _kind_table(rows: list[dict[str, Any]], live: bool) -> list[str]:
    head = "| Language | Kind | Turns | Held | Cut off (paused) | v2v p50 | v2v p95 |"
    if live:
        head = ("| Language | Kind | Turns | Missed | Cut off (paused) | v2v p50 | v2v p95 | "
                "ours p50 | ours p95 |")
    out = [head, "| " + " | ".join("---" for _ in range(head.count("|") - 1)) + " |"]
    for k in rows:
        cut = f"{k['cut_off']}/{k['paused_turns']}" if k["paused_turns"] else "-"
        if live:
            out.append(f"| {k['lang']} | {k['kind']} | {k['turns']} | {k['missed']} | {cut} | "
                       f"{k['p50_ms']} | {k['p95_ms']} | {k['ours_p50_ms']} | "
                       f"{k['ours_p95_ms']} |")
        else:
            out.append(f"| {k['lang']} | {k['kind']} | {k['turns']} | {k['held']} | {cut} | "
                       f"{k['p50_ms']} | {k['p95_ms']} |")
    return out


def offline_section(o: dict[str, Any]) -> list[str]:
    c, b = o["chosen"], o["current"]
    det = "; ".join(f"{lang}: real ends median {d['end_median']}, pauses median "
                    f"{d['pause_median']}, AUC {d.get('auc')}" for lang, d in o["detector"].items())
    lines = [
        "", "## Turn taking on realistic caller audio (issue 25)", "",
        f"Offline (bench/endpointing.py): {o['turns']} labelled turns ({o['paused_turns']} with "
        f"pauses), Piper and espeak-ng voices, English and Spanish, noise floor -65 to -50 dBFS, "
        f"café up to -38 dBFS, mu-law, jitter and lost packets; the detector run directly on the "
        f"audio; {o['settings_tried']} settings played over its scores. Detector: {det}.", "",
        "![frontier](endpointing_frontier.png)", "",
        "| Setting | Paused turns cut off | v2v p50 / p95 (model) | ours p50 / p95 (model) |",
        "| --- | --- | --- | --- |",
    ]
    for name, r in (("before: " + _setting(b), b), ("**chosen**: " + _setting(c), c)):
        lines.append(f"| {name} | {r['cut_off_pct']} % | {r['p50_ms']:g} / {r['p95_ms']:g} ms | "
                     f"{r['ours_p50_ms']:g} / {r['ours_p95_ms']:g} ms |")
    lines += ["", "Frontier (fewest cut-offs for each p95):", "",
              "| Setting | Cut off | v2v p95 (model) |", "| --- | --- | --- |"]
    lines += [f"| {_setting(r)} | {r['cut_off_pct']} % | {r['p95_ms']:g} ms |"
              for r in o["frontier"]]
    lines += ["", "Turn kinds under the chosen setting (offline; held = the real end scored "
                  "under the threshold and waited the ceiling):", ""]
    lines += _kind_table(o["by_kind"], live=False)
    lines += ["", "The same turns under the setting before (offline):", ""]
    return lines + _kind_table(o["by_kind_current"], live=False)


def live_section(live: dict[str, Any]) -> list[str]:
    lines = ["", "End to end through FreeSWITCH and LiveKit SIP (bench/turn_taking.py), "
                 "provider latencies 250/400/150 ms, the chain measured per turn from the "
                 "fakes' timestamps:", "",
             "| Run | Paused cut off | Missed | Detector held (waited the ceiling) | v2v | "
             "provider chain | ours | Target (ours) | Met |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in live["runs"]:
        ours = r["ours_ms"]
        if r["calls"] == 1:
            target = (f"p50 <= {TARGET_OURS_P50_MS}, p95 <= {TARGET_OURS_P95_MS} ms, "
                      f"cut off <= {TARGET_CUT_OFF_PCT:g} %")
            met = bool(ours.get("n")) and ours["p50"] <= TARGET_OURS_P50_MS and \
                ours["p95"] <= TARGET_OURS_P95_MS
        else:
            target = f"p95 <= {TARGET_OURS_P95_4_CALLS_MS} ms, cut off <= 3 %"
            met = bool(ours.get("n")) and ours["p95"] <= TARGET_OURS_P95_4_CALLS_MS
        met = met and r["cut_off_pct"] <= TARGET_CUT_OFF_PCT
        lines.append(
            f"| {r['setting']}, {r['calls']} call(s) ({r['measured_at']}; load average "
            f"{r['load_avg'][0]}-{r['load_avg'][1]}) | {r['cut_off']}/{r['paused_turns']} "
            f"({r['cut_off_pct']} %) | {r['missed']} | {_held(r.get('detector'))} | "
            f"{_t(r['voice_to_voice_ms'])} | "
            f"{_t(r['provider_chain_ms'])} | {_t(ours)} | {target} | "
            f"{'yes' if met else '**no**'} |")
    for r in live["runs"]:
        lines += ["", f"Turn kinds, {r['setting']}, {r['calls']} call(s), end to end:", ""]
        lines += _kind_table(r["by_kind"], live=True)
    return lines


def section(r: dict[str, Any]) -> str:
    lines: list[str] = []
    if r.get("turn_taking_offline"):
        lines += offline_section(r["turn_taking_offline"])
    if r.get("turn_taking_live"):
        lines += live_section(r["turn_taking_live"])
    return "\n".join(lines) + ("\n" if lines else "")
