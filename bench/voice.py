"""Voice-to-voice as the caller hears it, through SIP (issue 13 §1).

    .venv/bin/python -m bench.voice --levels 1 4 8 --turns 100 --out /tmp/v2v.json
    .venv/bin/python -m bench.voice --runs realistic:8 zero:8 realistic:1 --deadline 05:58 ...
    .venv/bin/python -m bench.voice --record /tmp/v2v.json     # into results.json/md + the plot

One stack (scripts/devstack.py): LiveKit server, LiveKit SIP, the real FreeSWITCH, the
Firestore emulator, the fake providers and `python main.py start`, all on loopback. Each
simulated caller is SIPp placing a call on FreeSWITCH's provider port (as a carrier does,
from PROVIDER_IP), FreeSWITCH bridges it to LiveKit SIP and the agent answers. The caller's
mouth and ear is the RTP socket its SDP names (tests/telephony/caller.py, `RtpCapture(live=
True)`): it sends PCMU speech (espeak-ng) and silence in between, and hears the agent's RTP.

A turn: the caller waits for the agent to be quiet, pauses 0.2-0.6 s, says a question; the
clock runs from the end of its speech (the end of the last loud packet it sent) to the first
loud packet of the agent's answer it receives. That is the silence the caller hears. Every
turn is a question the agent answers in one sentence (one LLM request, no tool), so the
provider latencies a turn waits for are exactly one of each.

Provider latencies (fakes/latency.py) are switched on the running fakes between blocks of
calls: `realistic` (final transcript 250 ms after the end of speech, LLM first token 400 ms,
TTS first audio 150 ms) and `zero`. The fake STT needs `END_SILENCE_S` of quiet to know the
caller stopped, in both modes. "Ours" is voice-to-voice minus the configured latencies.

Calls at a level run side by side, each line placing calls one after another until the
level has its turns; a call lasts as long as its share of the turns needs (SIPp hangs up).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bench.concurrency import open_timezone
from bench.stats import timing
from fakes.audio import speech_or_tone
from fakes.latency import REALISTIC
from scripts.devstack import Ports, Stack, StackOptions
from tests.telephony.caller import RATE, RtpCapture, start_sipp

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "telephony" / "sipp" / "freeswitch_bridge_uac.xml"
RESTAURANT_NUMBER = "+15550100"
PROVIDER_IP = "127.0.0.3"
PROJECT = "demo-bench-voice"
END_SILENCE_S = 0.2  # the fake STT's end of speech: no line below has a pause this long
MODES: dict[str, dict[str, float]] = {
    "realistic": dict(REALISTIC),
    "zero": {"stt_final_s": 0.0, "llm_first_token_s": 0.0, "tts_first_audio_s": 0.0},
}
# A caller's questions and the agent's one-sentence answers (one LLM request, one TTS context,
# a tone of 0.04 s a character): a conversation that makes sense, for LiveKit's turn detector
# reads it. Callers ask them in this order; the fake STT hands them out in this order too.
QA = [
    ("Do you have oat milk?", "Yes, we have oat milk."),
    ("What time do you close today?", "We close at nine tonight."),
    ("How much is a large latte?", "A large latte is five dollars."),
    ("Is the almond croissant vegan?", "No, it is made with butter."),
    ("Can I pay by card?", "Yes, we take every card."),
    ("Is there parking nearby?", "Yes, there is a lot behind us."),
    ("Do you have any gluten free cakes?", "Yes, the orange almond cake."),
    ("Do you take reservations for six?", "Yes, we can seat six."),
]
QUESTIONS = [q for q, _ in QA]
ANSWER_LIMIT_S = 8.0  # no answer by then: a missed turn
QUIET_S = 0.4  # the agent's answer is over after this long without a loud packet
TURN_CYCLE_S = 5.0  # a turn's length, for sizing calls: pause + line + answer + quiet
TARGETS = {"p50_1_call_ms": 1000, "p95_1_call_ms": 1400, "p95_growth_8_calls": 0.15}


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def ports() -> Ports:
    """Free ports, and UDP ranges of their own (not tests' nor bench.concurrency's)."""
    p = Ports.ephemeral()
    return dataclasses.replace(p, livekit_udp=(47000, 47199), sip_rtp=(47200, 47399),
                               freeswitch=dataclasses.replace(p.freeswitch, rtp=(47400, 47598)))


def script() -> dict[str, Any]:
    """The STT hears the questions in turn; each is answered with its answer, every time it
    is asked (a rule's steps serve the requests answering the same text one after another)."""
    return {"caller": QUESTIONS * 400,
            "llm": [{"when": re.escape(q), "steps": [a] * 2000} for q, a in QA]}


@dataclasses.dataclass
class Turn:
    v2v_ms: float | None  # None: no answer within ANSWER_LIMIT_S
    cut_off: bool  # the answer began before the caller's line had ended
    at: float


@dataclasses.dataclass
class Tally:
    turns: list[Turn] = dataclasses.field(default_factory=list)
    calls: int = 0
    failed_calls: list[str] = dataclasses.field(default_factory=list)
    started_turns: int = 0


class VoiceBench:
    def __init__(self, workdir: Path, worker_env: dict[str, str]) -> None:
        self.workdir = workdir
        self.speech = [speech_or_tone(q, RATE) for q in QUESTIONS]
        path = workdir / "script.yaml"
        path.write_text(yaml.safe_dump(script(), sort_keys=False))
        self.stack = Stack(StackOptions(
            ports=ports(), workdir=workdir, numbers=(RESTAURANT_NUMBER,),
            allow=("127.0.0.1",), project=PROJECT, fakes_script=path, tts_voice="tone",
            worker="start", freeswitch=True, provider_cidrs=f"{PROVIDER_IP}/32",
            dialer=False,
            # LiveKit SIP takes calls whatever this shared machine's CPU: admission is the
            # worker's (main.py worker_limits), which is what the levels measure.
            ignore_load=True,
            worker_env={"RESTAURANT_TIMEZONE": open_timezone(), "AGENT_INIT_TIMEOUT_S": "60",
                        "AGENT_MAX_CALLS": "",
                        # the turn detector's predictions are debug records: turns held
                        "LIVEKIT_LOG_LEVEL": "DEBUG", **worker_env},
        ))

    def start(self) -> None:
        self.stack.start()

    def stop(self) -> None:
        self.stack.stop()

    async def set_mode(self, mode: str) -> dict[str, float]:
        import aiohttp

        assert self.stack.fakes is not None
        body = {**MODES[mode], "stt_end_silence_s": END_SILENCE_S}
        async with aiohttp.ClientSession() as s, s.post(
                f"{self.stack.fakes.llm}/_fake/latency", json=body) as r:
            r.raise_for_status()
            return dict(await r.json())

    # --- one call -------------------------------------------------------------------------

    async def call(self, line: int, call_s: float, tally: Tally, wanted: int,
                   rng: random.Random) -> None:
        ports = self.stack.options.ports.freeswitch
        capture = RtpCapture(ip=PROVIDER_IP, live=True)
        workdir = self.workdir / "calls" / f"{line}-{tally.calls}-{os.urandom(2).hex()}"
        tally.calls += 1
        sipp = start_sipp(workdir=workdir, pcm=None, target=f"127.0.0.1:{ports.external_sip}",
                          number=RESTAURANT_NUMBER, caller=f"+1617555{line:04d}",
                          rtp_port=capture.port, scenario=SCENARIO, local_ip=PROVIDER_IP,
                          hangup_after_s=call_s, timeout_s=int(call_s) + 60)
        try:
            placed = time.time()
            greeting = await self._heard(capture, placed, 30.0)
            if greeting is None:
                tally.failed_calls.append(f"line {line}: no greeting within 30 s "
                                          f"(SIPp rc {sipp.process.poll()})")
                return
            await self._until_quiet(capture, greeting)
            answered = greeting
            while (time.time() - answered < call_s - TURN_CYCLE_S - 2
                   and tally.started_turns < wanted and sipp.process.poll() is None):
                # the level's n-th question: with one call, the very line the fake STT hands out
                question = self.speech[tally.started_turns % len(self.speech)]
                tally.started_turns += 1
                await asyncio.sleep(rng.uniform(0.2, 0.5))
                began, ended = await asyncio.to_thread(capture.say, question)
                heard = await self._heard(capture, began, ended - began + ANSWER_LIMIT_S)
                if heard is None or heard - ended > ANSWER_LIMIT_S:
                    tally.turns.append(Turn(None, False, ended))
                    continue
                if heard < ended:  # the agent spoke over the caller: no silence to time
                    tally.turns.append(Turn(None, True, ended))
                else:
                    tally.turns.append(Turn(round((heard - ended) * 1000, 1), False, ended))
                await self._until_quiet(capture, heard)
            rc = await asyncio.to_thread(sipp.wait, call_s + 60)
            if rc != 0:
                tally.failed_calls.append(f"line {line}: SIPp rc {rc}: "
                                          + sipp.output()[-300:].replace("\n", " "))
        except Exception as e:  # a level reports what broke, it does not stop the others
            tally.failed_calls.append(f"line {line}: {type(e).__name__}: {e}"[:300])
        finally:
            sipp.kill()
            capture.close()

    @staticmethod
    async def _heard(capture: RtpCapture, since: float, limit_s: float) -> float | None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if (t := capture.audible_since(since)) is not None:
                return t
            await asyncio.sleep(0.01)
        return None

    @staticmethod
    async def _until_quiet(capture: RtpCapture, since: float, limit_s: float = 15.0) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:  # polled: the packets arrive on another thread
            if capture.quiet_since(since) >= QUIET_S:
                return
            await asyncio.sleep(0.05)

    # --- a level in one mode -------------------------------------------------------------

    def worker_log(self) -> Path:
        return self.stack.procs["worker"].log_path

    def held_turns(self, offset: int) -> tuple[int, int]:
        """End-of-turn predictions in the worker log since `offset`: (held, all). Held: the
        turn detector thought the caller unfinished and waited the maximum delay."""
        held = total = 0
        with open(self.worker_log(), "rb") as f:
            f.seek(offset)
            for raw in f:
                if b'"eot prediction"' not in raw:
                    continue
                try:
                    rec = json.loads(raw)
                except ValueError:
                    continue
                total += 1
                held += (rec.get("endpointing_delay") or 0) >= 1.0
        return held, total

    async def level(self, n: int, mode: str, turns: int, limit_s: float) -> dict[str, Any]:
        latency = await self.set_mode(mode)
        log_offset = self.worker_log().stat().st_size
        tally = Tally()
        rng = random.Random(f"{n}-{mode}")
        load_start = load_avg()
        t0 = time.monotonic()

        async def line(i: int) -> None:
            await asyncio.sleep(i * 0.7)  # calls ring one after another, not in one instant
            while tally.started_turns < turns and time.monotonic() - t0 < limit_s:
                share = math.ceil((turns - tally.started_turns) / n)
                left = limit_s - (time.monotonic() - t0)
                call_s = min(max(8 + share * TURN_CYCLE_S, 20), 150, max(left + 8, 20))
                await self.call(i, call_s, tally, turns, rng)

        await asyncio.gather(*(line(i) for i in range(n)))
        answered = [t.v2v_ms for t in tally.turns if t.v2v_ms is not None]
        provider_ms = 1000 * (latency["stt_final_s"] + latency["llm_first_token_s"]
                              + latency["tts_first_audio_s"])
        out: dict[str, Any] = {
            "calls": n, "mode": mode,
            "provider_latency_ms": {
                "stt_final": round(latency["stt_final_s"] * 1000),
                "llm_first_token": round(latency["llm_first_token_s"] * 1000),
                "tts_first_audio": round(latency["tts_first_audio_s"] * 1000),
                "stt_end_silence": round(latency["stt_end_silence_s"] * 1000)},
            "samples_ms": answered,
            "voice_to_voice_ms": timing(answered, digits=1),
            "ours_ms": timing([v - provider_ms for v in answered], digits=1),
            "turns": len(tally.turns),
            "missed_turns": sum(t.v2v_ms is None and not t.cut_off for t in tally.turns),
            "cut_offs": sum(t.cut_off for t in tally.turns),
            "turns_held": self.held_turns(log_offset)[0],
            "calls_placed": tally.calls, "failed_calls": len(tally.failed_calls),
            "errors": tally.failed_calls[:5],
            "seconds": round(time.monotonic() - t0, 1),
            "load_avg": [load_start, load_avg()],
        }
        return out


def measure(runs: list[tuple[str, int]], turns: int, out: Path, limit_s: float,
            worker_env: dict[str, str], deadline: float | None = None) -> list[dict[str, Any]]:
    """Each (mode, level) of `runs`, in order, on one stack; `out` is rewritten after each, so
    a run cut short keeps what it measured. Past `deadline` (epoch seconds) no level starts,
    and a level running stops placing calls."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    bench = VoiceBench(workdir, worker_env)
    rows: list[dict[str, Any]] = []
    try:
        bench.start()
        print(f"bench.voice: stack up in {workdir} (load average {load_avg()})",
              file=sys.stderr, flush=True)
        for mode, n in runs:
            limit = limit_s
            if deadline is not None:
                limit = min(limit_s, deadline - time.time() - 20)  # 20 s: the calls' ends
                if limit < 30:
                    print(f"bench.voice: {n} calls {mode}: not run (deadline)",
                          file=sys.stderr, flush=True)
                    continue
            row = asyncio.run(bench.level(n, mode, turns, limit))
            row["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            rows.append(row)
            out.write_text(json.dumps(rows, indent=2) + "\n")
            v = row["voice_to_voice_ms"]
            print(f"bench.voice: {n} calls {mode}: v2v p50 {v['p50']} p95 {v['p95']} max "
                  f"{v['max']} ms over {v['n']} turns (missed {row['missed_turns']}, failed "
                  f"calls {row['failed_calls']}); load average {row['load_avg']}",
                  file=sys.stderr, flush=True)
    finally:
        bench.stop()
    return rows


# --- results.json / results.md / the plot ----------------------------------------------------


def capacity(rows: list[dict[str, Any]], mode: str = "realistic") -> dict[str, Any]:
    """The highest level whose p95 stays within target: p95 at most the 1-call p95 + 15 %
    (the issue's scaling target), and, reported beside it, within the absolute 1.4 s."""
    by_level = {r["calls"]: r["voice_to_voice_ms"]["p95"] for r in rows
                if r["mode"] == mode and r["voice_to_voice_ms"]["n"] and not r["failed_calls"]}
    base = by_level.get(1)
    scaled = absolute = 0
    for n in sorted(by_level):
        if base is not None and by_level[n] <= base * (1 + TARGETS["p95_growth_8_calls"]):
            scaled = n
        if by_level[n] <= TARGETS["p95_1_call_ms"]:
            absolute = n
    return {"mode": mode, "p95_by_level_ms": by_level,
            "highest_level_within_15pct_of_1_call": scaled,
            "highest_level_within_1400ms": absolute}


def pooled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs of the same level and mode (e.g. from two sessions) as one: turns pooled."""
    out: dict[tuple[int, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["calls"], r["mode"])
        if key not in out:
            out[key] = {**r, "samples_ms": list(r["samples_ms"]), "errors": list(r["errors"]),
                        "load_avg": list(r["load_avg"])}
            continue
        p = out[key]
        p["samples_ms"] += r["samples_ms"]
        for k in ("turns", "missed_turns", "cut_offs", "turns_held", "calls_placed",
                  "failed_calls"):
            p[k] = (p.get(k) or 0) + (r.get(k) or 0)
        p["errors"] += r["errors"]
        p["load_avg"] = [min(p["load_avg"][0], r["load_avg"][0]),
                         max(p["load_avg"][1], r["load_avg"][1])]
        p["measured_at"] = max(p["measured_at"], r["measured_at"])
    for p in out.values():
        provider = sum(v for k, v in p["provider_latency_ms"].items() if k != "stt_end_silence")
        p["voice_to_voice_ms"] = timing(p["samples_ms"], digits=1)
        p["ours_ms"] = timing([v - provider for v in p["samples_ms"]], digits=1)
    return [out[k] for k in sorted(out)]


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    rows = pooled(rows)
    levels: dict[int, dict[str, Any]] = {}
    for r in rows:
        entry = levels.setdefault(r["calls"], {"calls": r["calls"]})
        entry[r["mode"]] = {k: r[k] for k in (
            "voice_to_voice_ms", "ours_ms", "provider_latency_ms", "turns", "missed_turns",
            "cut_offs", "turns_held", "calls_placed", "failed_calls", "load_avg",
            "measured_at", "note") if k in r}
    return {
        "how": "bench/voice.py: SIPp calls on FreeSWITCH's provider port -> LiveKit SIP -> "
               "main.py start; end of the caller's speech in the RTP it sends -> first loud "
               "packet of the agent's answer in the RTP it receives; ours = voice-to-voice "
               "minus the configured provider latencies (STT final + LLM first token + TTS "
               "first audio)",
        "targets": TARGETS,
        "levels": [levels[n] for n in sorted(levels)],
        "capacity": capacity(rows),
    }


def plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for mode, style, color, label in (
            ("realistic", "o-", "tab:blue", "with provider latencies (800 ms)"),
            ("zero", "s--", "tab:orange", "providers at 0 ms")):
        done = [lv for lv in summary["levels"] if mode in lv and lv[mode]["voice_to_voice_ms"]["n"]]
        xs = [lv["calls"] for lv in done]
        p50 = [lv[mode]["voice_to_voice_ms"]["p50"] for lv in done]
        if xs:
            ax.plot(xs, p50, style, color=color, alpha=0.35, lw=1, ms=4,
                    label=f"p50, {label}")
        pts = [(lv["calls"], lv[mode]["voice_to_voice_ms"]["p95"]) for lv in done]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, style, color=color, label=f"p95, {label}")
            for x, y in pts:
                ax.annotate(f"{y:.0f}", (x, y), textcoords="offset points", xytext=(4, 6),
                            fontsize=8)
    ax.axhline(TARGETS["p95_1_call_ms"], color="grey", lw=0.8, ls=":")
    ax.text(0.02, TARGETS["p95_1_call_ms"], " target at 1 call: p95 1400 ms", fontsize=8,
            color="grey", va="bottom", transform=ax.get_yaxis_transform())
    ax.set_xlabel("concurrent calls")
    ax.set_ylabel("voice-to-voice (ms)")
    ax.set_title("Silence after the caller stops, through FreeSWITCH and LiveKit SIP")
    ax.set_ylim(bottom=0)
    ax.set_xticks(sorted({lv["calls"] for lv in summary["levels"]}))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def record(rows: list[dict[str, Any]], results_path: Path) -> dict[str, Any]:
    from bench.report import markdown

    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results["voice_to_voice_ms"] = summarize(rows)
    results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    results_path.with_name("results.md").write_text(markdown(results))
    plot(results["voice_to_voice_ms"], results_path.with_name("voice_to_voice_p95.png"))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 4, 8])
    ap.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    ap.add_argument("--turns", type=int, default=100, help="turns per level and mode")
    ap.add_argument("--limit-s", type=float, default=900.0,
                    help="stop placing calls at a level after this long")
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-voice.json"))
    ap.add_argument("--worker-env", default="{}", help="JSON of extra worker variables")
    ap.add_argument("--deadline", help="HH:MM UTC: start nothing after it (a shared machine)")
    ap.add_argument("--runs", nargs="+", metavar="MODE:CALLS",
                    help="the order to run in, e.g. realistic:8 zero:8 realistic:1 (default: "
                         "every mode at every level, levels first)")
    ap.add_argument("--record", type=Path, nargs="+",
                    help="runs (--out files) to merge into bench/results.json/md and the plot")
    args = ap.parse_args()
    if args.record:
        rows = [r for f in args.record for r in json.loads(f.read_text())]
        record(rows, ROOT / "bench" / "results.json")
        return
    deadline = None
    if args.deadline:
        hh, mm = map(int, args.deadline.split(":"))
        deadline = datetime.now(UTC).replace(hour=hh, minute=mm, second=0).timestamp()
    runs = [(m, n) for m in args.modes for n in args.levels]
    if args.runs:
        runs = []
        for item in args.runs:
            mode, _, calls = item.partition(":")
            if mode not in MODES or not calls.isdigit():
                ap.error(f"--runs {item!r}: expected MODE:CALLS with MODE one of {list(MODES)}")
            runs.append((mode, int(calls)))
    measure(runs, args.turns, args.out, args.limit_s, json.loads(args.worker_env), deadline)


if __name__ == "__main__":
    main()
