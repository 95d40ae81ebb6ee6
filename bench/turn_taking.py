"""Turn-taking end to end on realistic caller audio, through SIP (issue 25 §2).

    .venv/bin/python -m bench.turn_taking --turns 36 --out /tmp/tt.json \
        --worker-env '{"ENDPOINTING_FLOOR_S": "0.3"}'
    .venv/bin/python -m bench.turn_taking --record /tmp/tt.json [/tmp/tt-before.json ...]

bench/voice.py's stack and SIPp calls (FreeSWITCH -> LiveKit SIP -> `main.py start`, the fake
providers at realistic latencies), with testkit/caller_audio.py's labelled turns as the
caller: Piper and espeak-ng voices, English and Spanish, on a line with a noise floor or a
quiet café, sent as PCMU with jitter and an occasional lost packet, and the line's noise —
never digital zero — between turns.

Per turn: voice-to-voice from where the turn really ends (its label, from when its first
packet was sent) to the first loud packet of the answer; cut off when the answer began before
that end (the turn was committed inside a pause); missed when no answer came. The fakes say
when the final transcript went out (and when its end of speech had arrived), when the LLM's
first token and the TTS's first audio went out: that turn's provider chain is the sum of the
three providers' own waits, and ours = voice-to-voice minus it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bench.stats import timing
from bench.voice import (
    ANSWER_LIMIT_S,
    MODES,
    PROVIDER_IP,
    RESTAURANT_NUMBER,
    SCENARIO,
    TURN_CYCLE_S,
    VoiceBench,
    load_avg,
)
from testkit.caller import RtpCapture, start_sipp
from testkit.caller_audio import LIVE_LINES, RATE, LabelledTurn, Line, bed, turn_sample

ROOT = Path(__file__).resolve().parent.parent
ANSWER = "Certainly, one moment please."
TAIL_S = 0.6  # of the turn's own line noise after its end; the idle noise follows
LINE_JITTER_MS, LINE_LOSS = 10.0, 0.01


@dataclasses.dataclass
class LiveTurn:
    kind: str
    lang: str
    paused: bool
    began: float  # when its first packet was sent (epoch s)
    ended: float  # where it really ends (epoch s)
    heard: float | None  # the answer's first loud packet
    chain_ms: float | None = None

    @property
    def cut_off(self) -> bool:
        return self.heard is not None and self.heard < self.ended

    @property
    def v2v_ms(self) -> float | None:
        if self.heard is None or self.cut_off or self.heard - self.ended > ANSWER_LIMIT_S:
            return None
        return round((self.heard - self.ended) * 1000, 1)


class LiveTurns(VoiceBench):
    """A VoiceBench whose caller says labelled realistic turns."""

    def __init__(self, workdir: Path, worker_env: dict[str, str], total_turns: int,
                 seed: str = "bench.turn_taking") -> None:
        self.turns: list[LabelledTurn] = turn_sample(total_turns, seed, lines=LIVE_LINES)
        script = {"caller": [p for t in self.turns for p in t.text] * 3,
                  "llm": [{"when": "", "steps": [ANSWER] * 5000}]}
        super().__init__(workdir, worker_env, speech="flat", total_turns=1)
        (workdir / "script.yaml").write_text(yaml.safe_dump(script, sort_keys=False,
                                                            allow_unicode=True))
        self.idle = bed(9.7, Line(-60.0), seed=7)
        self.said: list[LiveTurn] = []

    async def call(self, line: int, call_s: float, tally: Any, wanted: int,
                   rng: random.Random) -> None:
        ports = self.stack.options.ports.freeswitch
        capture = RtpCapture(ip=PROVIDER_IP, live=True, idle=self.idle,
                             jitter_ms=LINE_JITTER_MS, loss=LINE_LOSS, seed=line)
        workdir = self.workdir / "calls" / f"{line}-{tally.calls}-{os.urandom(2).hex()}"
        tally.calls += 1
        sipp = start_sipp(workdir=workdir, pcm=None, target=f"127.0.0.1:{ports.external_sip}",
                          number=RESTAURANT_NUMBER, caller=f"+1617555{line:04d}",
                          rtp_port=capture.port, scenario=SCENARIO, local_ip=PROVIDER_IP,
                          hangup_after_s=call_s, timeout_s=int(call_s) + 60)
        try:
            greeting = await self._heard(capture, time.time(), 30.0)
            if greeting is None:
                tally.failed_calls.append(f"line {line}: no greeting within 30 s")
                return
            await self._until_quiet(capture, greeting)
            while (time.time() - greeting < call_s - 2 * TURN_CYCLE_S
                   and tally.started_turns < wanted and sipp.process.poll() is None):
                await self._one_turn(capture, tally, rng)
            rc = await asyncio.to_thread(sipp.wait, call_s + 60)
            if rc != 0:
                tally.failed_calls.append(f"line {line}: SIPp rc {rc}")
        except Exception as e:  # a level reports what broke, it does not stop the others
            tally.failed_calls.append(f"line {line}: {type(e).__name__}: {e}"[:300])
        finally:
            sipp.kill()
            capture.close()

    async def _one_turn(self, capture: RtpCapture, tally: Any, rng: random.Random) -> None:
        turn = self.turns[self.turn_no % len(self.turns)]
        self.turn_no += 1
        tally.started_turns += 1
        await asyncio.sleep(rng.uniform(0.2, 0.5))
        pcm = turn.pcm[: int((turn.end_s + TAIL_S) * RATE) * 2]
        began = await asyncio.to_thread(capture.say_at, pcm)
        ended = began + turn.end_s
        heard = await self._heard(capture, began + turn.start_s,
                                  turn.end_s - turn.start_s + ANSWER_LIMIT_S)
        said = LiveTurn(turn.kind, turn.lang, turn.paused, began, ended, heard)
        self.said.append(said)
        if heard is not None:
            await self._until_quiet(capture, max(heard, ended))

    async def provider_logs(self) -> dict[str, Any]:
        import aiohttp

        fakes = self.stack.fakes
        assert fakes is not None
        out = {}
        async with aiohttp.ClientSession() as s:
            for name, url in (("stt", fakes.stt), ("llm", fakes.llm), ("tts", fakes.tts)):
                async with s.get(f"{url}/_fake/log") as r:
                    out[name] = await r.json()
        return out


def provider_chain_ms(turn: LiveTurn, logs: dict[str, Any]) -> float | None:
    """The three providers' own waits for the answer `turn` heard: STT end of speech to
    final, LLM request to first token, TTS first text to first audio (the last of each
    before the answer was heard)."""
    if turn.heard is None:
        return None
    heard = turn.heard
    finals = [e for e in logs["stt"]["emitted"] if e.get("text") and e.get("heard_end_at")
              and turn.began <= e["at"] <= heard]
    if not finals:
        return None
    final = finals[-1]
    asks = [r for r in logs["llm"]["requests"] if r.get("first_token_at")
            and r["at"] >= final["at"] - 0.05 and r["first_token_at"] <= heard]
    if not asks:
        return None
    ask = asks[-1]
    audio = [t for t in logs["tts"]["spoken"] if t.get("first_audio_at")
             and t["opened_at"] >= ask["at"] and t["first_audio_at"] <= heard]
    if not audio:
        return None
    first = audio[-1]
    return round(1000 * ((final["at"] - final["heard_end_at"])
                         + (ask["first_token_at"] - ask["at"])
                         + (first["first_audio_at"] - first["opened_at"])), 1)


def _timing(samples: list[float]) -> dict[str, Any]:
    return timing(samples, digits=1) if samples else {"n": 0}


def summarize_turns(turns: list[LiveTurn]) -> dict[str, Any]:
    answered = [t for t in turns if t.v2v_ms is not None]
    paused = [t for t in turns if t.paused]
    ours = [t.v2v_ms - t.chain_ms for t in answered
            if t.v2v_ms is not None and t.chain_ms is not None]
    return {
        "turns": len(turns), "paused_turns": len(paused),
        "cut_off": sum(t.cut_off for t in paused),
        "cut_off_pct": round(100 * sum(t.cut_off for t in paused) / max(len(paused), 1), 1),
        "missed": sum(t.heard is None or (t.v2v_ms is None and not t.cut_off) for t in turns),
        "voice_to_voice_ms": _timing([t.v2v_ms for t in answered if t.v2v_ms is not None]),
        "provider_chain_ms": _timing([t.chain_ms for t in answered if t.chain_ms is not None]),
        "ours_ms": _timing(ours),
    }


def by_kind(turns: list[LiveTurn]) -> list[dict[str, Any]]:
    table = []
    for lang, kind in sorted({(t.lang, t.kind) for t in turns}):
        s = summarize_turns([t for t in turns if t.kind == kind and t.lang == lang])
        table.append({"lang": lang, "kind": kind, "turns": s["turns"], "cut_off": s["cut_off"],
                      "paused_turns": s["paused_turns"], "missed": s["missed"],
                      "p50_ms": s["voice_to_voice_ms"].get("p50"),
                      "p95_ms": s["voice_to_voice_ms"].get("p95"),
                      "ours_p50_ms": s["ours_ms"].get("p50"),
                      "ours_p95_ms": s["ours_ms"].get("p95")})
    return table


async def level(bench: LiveTurns, n: int, turns: int, limit_s: float) -> dict[str, Any]:
    """`n` calls side by side until `turns` turns are said (or `limit_s`)."""
    from bench.voice import Tally

    await bench.set_mode("realistic")
    log_offset = bench.worker_log().stat().st_size
    tally, rng, t0, load_start = Tally(), random.Random(f"tt-{n}"), time.monotonic(), load_avg()
    first = len(bench.said)

    async def line(i: int) -> None:
        await asyncio.sleep(i * 0.7)
        while tally.started_turns < turns and time.monotonic() - t0 < limit_s:
            share = math.ceil((turns - tally.started_turns) / n)
            call_s = min(max(10 + share * 2 * TURN_CYCLE_S, 30), 240)
            await bench.call(i, call_s, tally, turns, rng)

    await asyncio.gather(*(line(i) for i in range(n)))
    said = bench.said[first:]
    logs = await bench.provider_logs()
    for t in said:
        t.chain_ms = provider_chain_ms(t, logs)
    predictions = bench.predictions(log_offset)
    return {
        "calls": n, "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "provider_latency_ms": {k: round(v * 1000) for k, v in MODES["realistic"].items()},
        **summarize_turns(said), "by_kind": by_kind(said),
        "by_language": {lang: summarize_turns([t for t in said if t.lang == lang])
                        for lang in sorted({t.lang for t in said})},
        "detector": {"predictions": len(predictions),
                     "held": sum(p["threshold"] is not None and p["probability"] < p["threshold"]
                                 for p in predictions),
                     "thresholds": sorted({p["threshold"] for p in predictions
                                           if p["threshold"] is not None}),
                     "delays": sorted({p["delay"] for p in predictions if p["delay"]})},
        "calls_placed": tally.calls, "failed_calls": len(tally.failed_calls),
        "errors": tally.failed_calls[:5], "seconds": round(time.monotonic() - t0, 1),
        "load_avg": [load_start, load_avg()],
        "samples": [dataclasses.asdict(t) for t in said],
    }


def measure(levels: list[int], turns: int, worker_env: dict[str, str], out: Path,
            label: str, limit_s: float) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-turns-"))
    bench = LiveTurns(workdir, worker_env, total_turns=turns * len(levels) + 10)
    rows: list[dict[str, Any]] = []
    try:
        bench.start()
        print(f"bench.turn_taking: stack up in {workdir} (load {load_avg()})", file=sys.stderr)
        for n in levels:
            row = asyncio.run(level(bench, n, turns, limit_s))
            row["setting"] = label
            row["worker_env"] = worker_env
            rows.append(row)
            out.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
            v = row["voice_to_voice_ms"]
            print(f"bench.turn_taking [{label}] {n} calls: v2v p50 {v.get('p50')} p95 "
                  f"{v.get('p95')}; ours {row['ours_ms'].get('p50')}/"
                  f"{row['ours_ms'].get('p95')}; cut off "
                  f"{row['cut_off']}/{row['paused_turns']}; missed {row['missed']}; "
                  f"load {row['load_avg']}", file=sys.stderr, flush=True)
    finally:
        bench.stop()
    return rows


def record(rows: list[dict[str, Any]], results_path: Path) -> None:
    """Into results.json (`turn_taking_live`, without the per-turn samples) and results.md."""
    from bench.report import markdown

    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results["turn_taking_live"] = {
        "how": __doc__.split("\n\n")[2].replace("\n", " "),
        "runs": [{k: v for k, v in r.items() if k != "samples"} for r in rows],
    }
    results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    results_path.with_name("results.md").write_text(markdown(results))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[1])
    ap.add_argument("--turns", type=int, default=36, help="turns per level")
    ap.add_argument("--limit-s", type=float, default=600.0)
    ap.add_argument("--label", default="default", help="the setting's name in the results")
    ap.add_argument("--worker-env", default="{}", help="JSON of extra worker variables")
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-turn-taking.json"))
    ap.add_argument("--record", type=Path, nargs="+", help="runs (--out files) to record")
    args = ap.parse_args()
    if args.record:
        record([r for f in args.record for r in json.loads(f.read_text())],
               ROOT / "bench" / "results.json")
        return
    measure(args.levels, args.turns, json.loads(args.worker_env), args.out, args.label,
            args.limit_s)


if __name__ == "__main__":
    main()
