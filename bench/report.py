"""results.json -> the markdown table of bench/results.md (figure, value, target, met?)."""

from __future__ import annotations

from typing import Any

from bench.turn_taking_report import section as turn_taking_section


def _get(results: dict[str, Any], path: str) -> Any:
    value: Any = results
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _ms(t: dict[str, Any] | None, *keys: str) -> str:
    if not t:
        return "n/a"
    parts = [f"{k} {t[k]:g}" for k in keys if k in t]
    tail = f" (n={t['n']})" if "n" in t else ""
    return " / ".join(parts) + " ms" + tail


def _mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def _le(value: Any, limit: float) -> bool | None:
    return None if value is None else value <= limit


def markdown(r: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str]] = []
    t = r.get("turn_overhead_ms")
    rows.append(("Turn overhead: final transcript -> first audio frame (in-process)",
                 _ms(t, "p50", "p95", "max"), "p95 <= 30 ms",
                 _mark(_le(t and t["p95"], 30))))
    gen = r.get("handoff_llm_generations")
    rows.append(("Handoff: LLM generations before the receiving agent is heard",
                 "n/a" if gen is None else f"{gen} (by tool: "
                 + ", ".join(f"{k} {v}" for k, v in r["handoff_llm_generations_by_tool"].items())
                 + ")", "1", _mark(None if gen is None else gen <= 1)))
    h = r.get("handoff_overhead_ms")
    rows.append(("Handoff overhead: handoff tool call -> receiving agent's request or audio",
                 _ms(h, "p50", "p95") + (f"; plain tool step p50 {r['tool_step_ms']['p50']:g} ms"
                                         if h else ""), "-", "-"))
    g = r.get("greeting_ms")
    rows.append(("Greeting: session start -> first greeting audio frame", _ms(g, "p50", "p95"),
                 "<= 100 ms", _mark(_le(g and g["p95"], 100))))
    calls = r.get("greeting_llm_calls")
    rows.append(("Greeting: LLM calls before it", "n/a" if calls is None else str(calls), "0",
                 _mark(None if calls is None else calls == 0)))
    lag = r.get("loop_lag_ms")
    setup = r.get("loop_lag_setup") or {}
    rows.append((f"Event-loop lag, p99 ({setup.get('concurrent_calls', '?')} concurrent calls "
                 "with Firestore on one loop)", _ms(lag, "p99"), "<= 10 ms",
                 _mark(_le(lag and lag["p99"], 10))))
    rows.append(("Event-loop lag, max", _ms(lag, "max"), "<= 50 ms",
                 _mark(_le(lag and lag["max"], 50))))
    o = r.get("order_commit_ms")
    trips = r.get("order_commit_round_trips")
    rows.append(("Order commit (emulator)", _ms(o, "p50", "p95"), "-", "-"))
    rows.append(("Order commit: Firestore round trips", "n/a" if trips is None else str(trips),
                 "1 commit", _mark(None if trips is None else trips == 1)))
    b = r.get("booking_commit_ms")
    rows.append(("Booking commit (emulator, transaction)", _ms(b, "p50", "p95"), "-", "-"))
    btrips = r.get("booking_commit_round_trips")
    rows.append(("Booking commit: Firestore round trips",
                 "n/a" if btrips is None else f"{btrips} ({_rpcs(r.get('booking_commit_rpcs'))})",
                 "-", "-"))
    for level in r.get("concurrency") or []:
        ok = None
        if level["calls"] == 25:
            p95 = level.get("turn_overhead_p95_ms")
            ok = (p95 is not None and p95 <= 100 and level["rss_mb"] <= 4096
                  and level.get("completed_turns", 0) >= level.get("expected_turns", 0))
        cores = level.get("cpu_cores_during_turns") or {}
        rows.append((
            f"Concurrency: {level['calls']} calls (real LiveKit, worker `main.py start`)",
            f"turn p50 {_num(level.get('turn_overhead_p50_ms'))} / p95 "
            f"{_num(level.get('turn_overhead_p95_ms'))} ms; final transcript -> commit p95 "
            f"{_num(level.get('final_transcript_to_commit_p95_ms'))} ms; RSS "
            f"{level['rss_mb']:g} MB (PSS {_num(level.get('pss_mb'))} MB); job processes "
            f"{_num(cores.get('worker: job processes'))} cores; turns "
            f"{level.get('completed_turns')}/{level.get('expected_turns')}"
            + _stalls(level.get("call_loop_stalls")),
            "25 calls: p95 <= 100 ms in <= 4 GB" if level["calls"] == 25 else "-", _mark(ok)))
    rows += cores_rows(r)
    rows += voice_rows(r)
    plugin = r.get("turn_overhead_openai_plugin_ms")
    if plugin:
        rows.append(("Turn overhead through the real OpenAI plugin + HTTP (in-process fake)",
                     _ms(plugin, "p50", "p95", "max"), "-", "-"))
    for name in ("tokens_order_call", "tokens_reservation_call"):
        tk = r.get(name)
        if tk:
            rows.append((f"Tokens, standard {name.split('_')[1]} call",
                         f"prompt {tk['prompt']}, completion {tk['completion']}, "
                         f"{tk['llm_requests']} requests", "-", "-"))
    cost = r.get("cost_3min_call_usd")
    if cost is not None:
        bd = r.get("cost_3min_call_breakdown_usd", {})
        rows.append(("Estimated provider cost of a 3-minute call",
                     f"${cost:.4f} (LLM ${bd.get('llm', 0):.4f}, STT ${bd.get('stt', 0):.4f}, "
                     f"TTS ${bd.get('tts', 0):.4f})", "-", "-"))
    m = r.get("machine", {})
    head = (f"# Benchmark results ({r.get('mode', '?')} run)\n\n"
            f"Machine: {m.get('cpus')} CPUs, Python {m.get('python')}, livekit-agents "
            f"{m.get('livekit_agents')}; other load at start: {m.get('busy_cpu_pct_at_start')}% "
            f"CPU (load average {m.get('load_avg_at_start')}). Providers are local fakes with "
            "0 ms latency, so every figure is ours. How each is measured: bench/README.md.\n\n")
    lines = ["| Figure | Result | Target | Met |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return (head + "\n".join(lines) + "\n" + by_kind(r) + turn_taking_section(r)
            + turn_paths(r))


def cores_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """bench/cores.py's figures (merged into results.json by `python -m bench.cores --record`)."""
    rows: list[tuple[str, str, str, str]] = []
    c = r.get("cores_per_call")
    if c and c.get("before") and c.get("after"):
        b, a = c["before"], c["after"]
        n, when = c["concurrent_calls"], c["measured_at"]
        la = a.get("load_avg") or [None, None]
        load = f"load average {_num(la[0])}-{_num(la[1])}"
        rows.append((f"Cores per call, worker ({n} concurrent calls, {when}; {load})",
                     f"before {b['worker_cores_per_call']:g} -> after "
                     f"{a['worker_cores_per_call']:g} ({b['worker_cpu_s_per_call']:g} -> "
                     f"{a['worker_cpu_s_per_call']:g} "
                     "CPU-s a call)", "<= 0.10", _mark(a["worker_cores_per_call"] <= 0.10)))
        rows.append((f"PSS per call, worker ({n} concurrent calls)",
                     f"before {b['pss_per_call_mb']:g} -> after {a['pss_per_call_mb']:g} MB "
                     f"(fixed {b['pss_fixed_mb']:g} -> {a['pss_fixed_mb']:g} MB)", "<= 60 MB",
                     _mark(a["pss_per_call_mb"] <= 60)))
        rows.append(("LiveKit server CPU per call",
                     f"before {b['livekit_server_cpu_s_per_call']:g} -> after "
                     f"{a['livekit_server_cpu_s_per_call']:g} CPU-s", "-", "-"))
    t = r.get("turn_taking")
    if t and t.get("livekit_defaults") and t.get("tuned"):
        for name in ("livekit_defaults", "tuned"):
            x = t[name]
            la = x.get("load_avg") or [None, None]
            rows.append((f"Turn taking, {name.replace('_', ' ')} ({t['concurrent_calls']} calls, "
                         f"varied speech; load average {_num(la[0])}-{_num(la[1])})",
                         f"turns held {_num(x.get('turns_held_per_100'))} / 100; final "
                         "transcript -> commit p50 "
                         f"{_num(x.get('final_transcript_to_commit_p50_ms'))}"
                         f" / p95 {_num(x.get('final_transcript_to_commit_p95_ms'))} ms; cut-offs "
                         f"{_num(x.get('cut_offs_per_100'))} / 100; end of speech -> answer p50 "
                         f"{_num(x.get('speech_end_to_answer_p50_ms'))} / p95 "
                         f"{_num(x.get('speech_end_to_answer_p95_ms'))} ms", "-", "-"))
    return rows


def voice_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """bench/voice.py's figures (merged by `python -m bench.voice --record`)."""
    v = r.get("voice_to_voice_ms")
    if not v:
        return []
    rows: list[tuple[str, str, str, str]] = []
    levels = v["levels"]
    one = next((lv for lv in levels if lv["calls"] == 1), {})
    base = (one.get("realistic") or {}).get("voice_to_voice_ms") or {}
    for lv in levels:
        for mode, label in (("realistic", "provider latencies 250/400/150 ms"),
                            ("zero", "providers at 0 ms")):
            x = lv.get(mode)
            if not x:
                continue
            t, ours = x["voice_to_voice_ms"], x["ours_ms"]
            la = x.get("load_avg") or [None, None]
            target, ok = "-", None
            if mode == "realistic" and lv["calls"] == 1:
                target = "p50 <= 1000, p95 <= 1400 ms"
                ok = bool(t["n"]) and t["p50"] <= 1000 and t["p95"] <= 1400
            elif mode == "realistic" and base.get("n") and t["n"]:
                target = f"p95 <= 1-call p95 + 15 % ({base['p95'] * 1.15:.0f} ms)"
                ok = t["p95"] <= base["p95"] * 1.15
            rows.append((
                f"Voice-to-voice through SIP, {lv['calls']} call{'s' if lv['calls'] > 1 else ''}"
                f", {label} ({x.get('measured_at')}; load average {_num(la[0])}-{_num(la[1])})"
                + (f" [{x['note']}]" if x.get("note") else ""),
                f"p50 {t['p50']:g} / p95 {t['p95']:g} / max {t['max']:g} ms over {t['n']} turns;"
                f" ours p50 {ours['p50']:g} / p95 {ours['p95']:g} ms; held by the turn detector "
                f"{_num(x.get('turns_held'))}, missed {x['missed_turns']}, cut-offs "
                f"{x['cut_offs']}, failed calls "
                f"{x['failed_calls']}/{x['calls_placed']}", target, _mark(ok)))
    cap = v.get("capacity") or {}
    if cap:
        rows.append(("Voice-to-voice: highest level whose p95 stays within target",
                     f"{cap['highest_level_within_15pct_of_1_call']} calls within 15 % of the "
                     f"1-call p95; {cap['highest_level_within_1400ms']} calls within 1400 ms",
                     "-", "-"))
    return rows


def _stalls(stalls: dict[str, Any] | None) -> str:
    if not stalls:
        return ""
    return (f"; call-loop stalls >= 100 ms: {stalls['count']} (max {stalls['max_ms']:g} ms, "
            f"importing modules {stalls['importing_max_ms']:g} ms)")


def by_kind(r: dict[str, Any]) -> str:
    kinds = r.get("turn_overhead_by_kind_ms")
    if not kinds:
        return ""
    lines = ["", "In-process turn overhead by kind of turn:", "",
             "| Turn | p50 ms | p95 ms | n |", "| --- | --- | --- | --- |"]
    lines += [f"| {k} | {v['p50']:g} | {v['p95']:g} | {v['n']} |" for k, v in kinds.items()]
    saves = r.get("confirm_turn_firestore_ms")
    if saves:
        lines += ["", f"Of which inside Firestore (save_order / book_reservation) in confirm "
                  f"turns: p50 {saves['p50']:g} / p95 {saves['p95']:g} ms (n={saves['n']})."]
    return "\n".join(lines) + "\n"


def _num(v: Any) -> str:
    return "n/a" if v is None else f"{v:g}"


def _rpcs(rpcs: dict[str, int] | None) -> str:
    return ", ".join(f"{k} {v}" for k, v in (rpcs or {}).items())


def turn_paths(r: dict[str, Any]) -> str:
    """bench/paths.py: cores, memory and calls for the local and the Flux turn-taking path."""
    t = r.get("turn_paths")
    if not t:
        return ""
    lines = ["", f"## Turn-taking paths: cores, memory and calls (bench/paths.py, "
             f"{t['measured_at']}; load average {t['load_avg'][0]:g}-{t['load_avg'][1]:g})", "",
             "| Path | cores / call | CPU-s / call | PSS / call MB | calls within 15 % of "
             "1 call's p95 | p95 by calls (ms) |", "| --- | --- | --- | --- | --- | --- |"]
    for name in ("local", "flux"):
        p = t.get(name) or {}
        levels = ", ".join(f"{n}: {v['answer_ms']['p95']:g} (n={v['answer_ms']['n']})"
                           for n, v in (p.get("by_level") or {}).items() if v.get("answer_ms"))
        lines.append(f"| {name} | {_num(p.get('worker_cores_per_call'))} | "
                     f"{_num(p.get('worker_cpu_s_per_call'))} | {_num(p.get('pss_per_call_mb'))}"
                     f" | {_num(p.get('calls_within_15pct'))} (one call's p95 "
                     f"{_num(p.get('one_call_p95_ms'))} ms) | {levels} |")
    targets = t.get("targets") or {}
    lines += ["", f"Targets (streaming path): <= {targets.get('cores_per_call')} cores and <= "
              f"{targets.get('pss_per_call_mb')} MB PSS a call; >= "
              f"{targets.get('calls_on_2_cores')} calls on 2 cores within 15 % of one call's "
              "p95. Costs at " + str((t.get('flux') or {}).get('cost_level')) + " concurrent "
              "calls; how: bench/README.md §6d."]
    return "\n".join(lines) + "\n"
