"""Benchmark 6: N simultaneous calls against the real LiveKit server and the real worker.

scripts/devstack.py starts redis, the LiveKit server and the Firestore emulator (seeded), then
for each level the fake providers (fakes/, 0 ms latency) and `python main.py start` pointed
at them. Each simulated caller is a LiveKit Python SDK participant in its own room: it
publishes a microphone track carrying espeak-ng speech (silence between lines), subscribes
to the agent's audio, and the agent is dispatched to the room by name.

Every call is the standard pickup order of tests/telephony (classifier -> order ->
confirmation -> saved in Firestore -> goodbye), four caller turns. Callers speak in phases:
each phase every caller says its next line after a random pause, so turns overlap but the
fake STT (one script, lines handed out in order) gives every caller a line of that phase.
Each line carries a unique tag, so the call logs the worker writes say which call heard it.

Turn overhead of a turn = the agent starts speaking (its "lk.agent.state" attribute turns
"speaking" when the first audio frame of the answer goes into its audio source, as seen by
the caller) minus the moment the worker committed the caller's turn (its "user turn
committed" debug record, per room). The wait before the commit is the endpointing policy
(VAD, turn detector, endpointing delays), reported apart as final transcript -> commit, from
the fake Deepgram's log of when it sent each final transcript (time.time() on this machine).
Memory is the summed RSS (and PSS) of the worker and all its child processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import yaml
from livekit import api, rtc

from bench.stats import percentile
from fakes.audio import silence, speech_or_tone
from scripts.devstack import Ports, Stack, StackError, StackOptions, free_port
from testkit.clock import open_timezone

RATE = 48000
FRAME_MS = 100  # the load generator must stay cheap next to the worker on 2 cores
FRAME_SAMPLES = RATE * FRAME_MS // 1000
LOUD_RMS = 300.0
PROJECT = "demo-bench-concurrency"
ROOT = Path(__file__).resolve().parent.parent
RING_NEXT_AFTER_S = 5.0  # the next call rings when this one is greeted, or after this long

LINES = [
    "Hi, I'd like a large cappuccino please",
    "It's Sam Rivera",
    "Yes, that's right",
    "No, that's all, bye",
]
LLM_RULES = [
    {"when": "cappuccino", "steps": [
        {"tool_calls": [{"name": "start_order"}]},
        {"tool_calls": [{"name": "add_item",
                         "arguments": {"item": "cappuccino", "size": "large"}}]},
        {"text": "One large cappuccino. What name is the order under?"},
    ]},
    {"when": "Sam Rivera", "steps": [
        {"tool_calls": [{"name": "set_customer", "arguments": {"name": "Sam Rivera"}}]},
        {"tool_calls": [{"name": "review_order"}]},
    ]},
    {"when": "that's right", "steps": [
        {"tool_calls": [{"name": "confirm"}]},
        {"text": "Your order is in. Anything else?"},
    ]},
    {"when": "bye", "steps": [{"tool_calls": [{"name": "end_call"}]}]},
]


def tagged(line: str, n: int) -> str:
    return f"{line}, caller {n}"


# --------------------------------------------------------------------------- a caller


@dataclass
class Caller:
    index: int
    room_name: str
    phone: str
    room: rtc.Room = field(default_factory=rtc.Room)
    states: list[tuple[float, str]] = field(default_factory=list)  # lk.agent.state changes
    joined_at: float = 0.0
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    errors: list[str] = field(default_factory=list)
    _speech: bytes = b""
    _spoken: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def join(self, url: str, token: str) -> None:
        self.room.on("participant_attributes_changed", self._on_attributes)
        self.room.on("participant_connected", self._on_participant)
        self.room.on("disconnected", lambda *_: self.gone.set())
        self.joined_at = time.time()
        # Subscribed to the agent's audio (the agent waits for a listener before it speaks),
        # but not decoding it in Python: for 50 callers that would take a core from the
        # worker. The agent's state attribute says when its first audio frame went out.
        await self.room.connect(url, token, rtc.RoomOptions(auto_subscribe=True))
        self.source = rtc.AudioSource(RATE, 1, queue_size_ms=200)
        track = rtc.LocalAudioTrack.create_audio_track("mic", self.source)
        opts = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, opts)
        self._tasks.append(asyncio.create_task(self._feed()))

    async def _feed(self) -> None:
        quiet = silence(FRAME_MS / 1000, RATE)
        step = FRAME_SAMPLES * 2
        while not self.gone.is_set():
            if self._speech:
                chunk, self._speech = self._speech[:step], self._speech[step:]
                chunk = chunk.ljust(step, b"\x00")
                if not self._speech:
                    self._spoken.set()
            else:
                chunk = quiet
            await self.source.capture_frame(rtc.AudioFrame(chunk, RATE, 1, FRAME_SAMPLES))

    async def say(self, pcm: bytes, limit_s: float = 30.0) -> float:
        self._spoken.clear()
        self._speech = pcm
        await asyncio.wait_for(self._spoken.wait(), limit_s)
        return time.time()

    def _on_participant(self, participant: rtc.RemoteParticipant) -> None:
        state = participant.attributes.get("lk.agent.state")
        if state:
            self.states.append((time.time(), state))

    def _on_attributes(self, changed: dict[str, str], participant: rtc.Participant) -> None:
        if "lk.agent.state" in changed:
            self.states.append((time.time(), changed["lk.agent.state"]))

    @property
    def agent_state(self) -> str:
        return self.states[-1][1] if self.states else ""

    def speaking_since(self, since: float) -> float | None:
        return next((t for t, st in self.states if t > since and st == "speaking"), None)

    async def heard_since(self, since: float, limit_s: float) -> float | None:
        """When the agent next started speaking (its first audio frame went out)."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline and not self.gone.is_set():
            if (t := self.speaking_since(since)) is not None:
                return t
            await asyncio.sleep(0.05)
        return None

    async def until_listening(self, limit_s: float) -> bool:
        """The agent is listening again and has been for a moment (its reply is over)."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline and not self.gone.is_set():
            if self.states and self.states[-1][1] == "listening" and (
                    time.time() - self.states[-1][0] > 0.4):
                return True
            await asyncio.sleep(0.05)
        return False

    async def leave(self) -> None:
        self.gone.set()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(self.room.disconnect(), 10)
        except Exception as e:  # already gone: the agent hung up
            self.errors.append(f"disconnect: {e}")


# --------------------------------------------------------------------------- memory


class TreeSampler:
    """Samples the summed RSS of a process and its descendants until stopped."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.interval = interval
        self.max_rss = 0
        self.max_procs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")

    def tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        total = 0
        for p in self.tree():
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def pss(self) -> int:
        total = 0
        for p in self.tree():
            try:
                total += p.memory_full_info().pss
            except (psutil.Error, AttributeError):
                pass
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.max_rss = max(self.max_rss, self.rss())
            self.max_procs = max(self.max_procs, len(self.tree()))

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for name, pids in groups.items():
        times: dict[int, float] = {}
        for pid in pids:
            try:
                t = psutil.Process(pid).cpu_times()
                times[pid] = t.user + t.system
            except psutil.Error:
                pass
        out[name] = times
    return out


def cpu_cores(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]],
              seconds: float) -> dict[str, float]:
    """CPU cores each group used between two snapshots (processes alive at the end)."""
    cores = {}
    for name, times in after.items():
        used = sum(t - before.get(name, {}).get(pid, 0.0) for pid, t in times.items())
        cores[name] = round(used / max(seconds, 1e-6), 2)
    return cores


# --------------------------------------------------------------------------- one level


def _p(samples: list[float], p: float) -> float:
    return round(percentile(samples, p), 1)


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


class Bench:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        ports = Ports(redis=free_port(), livekit=free_port(), livekit_tcp=free_port(),
                      livekit_udp=(17000, 17999), sip=free_port(), sip_rtp=(18000, 18099),
                      sip_health=free_port(), firestore=free_port())
        self.stack = Stack(StackOptions(ports=ports, workdir=workdir, project=PROJECT,
                                        worker=None, seed_menu=True))
        self.speech = {line: speech_or_tone(line, RATE) for line in LINES}

    def start(self) -> None:
        s = self.stack
        s.start_redis()
        s.start_livekit()
        s.start_firestore()
        s.seed_menu()

    def stop(self) -> None:
        self.stack.stop()

    def _restart_providers(self, level: int) -> None:
        s = self.stack
        for name in ("worker", "fakes"):
            proc = s.procs.pop(name, None)
            if proc is not None:
                s._terminate(proc)
        logs = self.workdir / "logs"
        for name in ("worker", "fakes"):
            log = logs / f"{name}.log"
            if log.exists():
                log.rename(logs / f"{name}-before-{level}.log")
        script = {
            "caller": [tagged(line, i) for line in LINES for i in range(level)],
            "llm": LLM_RULES,
        }
        path = self.workdir / f"script-{level}.yaml"
        path.write_text(yaml.safe_dump(script, sort_keys=False))
        s.options.fakes_script = path
        s.options.worker = "start"
        s.options.worker_env = {
            # Admit by call count: with CPU load (the default) the LiveKit server stops
            # dispatching to a worker that reports 1.0, which 2 busy cores do in bursts.
            "AGENT_MAX_CALLS": "64",
            "RESTAURANT_TIMEZONE": open_timezone(),
            # "user turn committed" (with its room) is a debug record: the start of a turn
            "LIVEKIT_LOG_LEVEL": "DEBUG",
            # a configuration under test (bench/cores.py): JSON of extra worker variables
            **json.loads(os.environ.get("BENCH_WORKER_ENV") or "{}"),
        }
        s.start_fakes()
        for attempt in range(3):  # the health port can be taken between choosing and binding
            s.options.worker_env["AGENT_HTTP_PORT"] = str(free_port())
            try:
                s.start_worker()
                break
            except StackError:
                proc = s.procs.pop("worker", None)
                if proc is not None:
                    s._terminate(proc)
                    proc.log_path.rename(proc.log_path.with_name(f"worker-failed-{attempt}.log"))
                if attempt == 2:
                    raise

    async def level(self, n: int, limit_s: float) -> dict[str, Any]:
        self._restart_providers(n)
        # The callers stand for the outside world: they must keep up when the worker saturates
        # the CPUs (the LiveKit SDK aborts a process whose loop misses an FFI deadline). Set
        # after the stack started, so no server inherits it.
        try:
            os.nice(-10)
        except OSError:
            pass
        worker_pid = self.stack.procs["worker"].popen.pid
        callers = [Caller(i, f"bench-{n}-{i}-{os.urandom(3).hex()}", f"+1617555{i:04d}")
                   for i in range(n)]
        result: dict[str, Any] = {"calls": n, "expected_turns": 4 * n}
        psutil.cpu_percent()  # start the system CPU window
        me = psutil.Process()
        me.cpu_percent()
        t_start = time.time()
        with TreeSampler(worker_pid) as sampler:
            try:
                await asyncio.wait_for(self._run_calls(callers, result, sampler), limit_s)
            except TimeoutError:
                result["error"] = f"level did not finish within {limit_s:.0f}s"
            finally:
                result["system_cpu_pct"] = psutil.cpu_percent()
                result["callers_process_cpu_pct"] = me.cpu_percent()  # the load generator
                await asyncio.gather(*(c.leave() for c in callers), return_exceptions=True)
        result["rss_mb"] = round(sampler.max_rss / 2**20, 1)
        result["worker_processes"] = sampler.max_procs
        result["seconds"] = round(time.time() - t_start, 1)
        await self._score(callers, result)
        return result

    async def _run_calls(self, callers: list[Caller], result: dict[str, Any],
                         sampler: TreeSampler) -> None:
        s = self.stack
        lkapi = api.LiveKitAPI(s.livekit_http, s.api_key, s.api_secret)
        greetings: list[float] = []
        redispatched = 0

        # Calls ring one after another: the next as soon as this one is greeted, or after
        # RING_NEXT_AFTER_S at most, so a slow line gets calls faster than it answers them.
        ring = [asyncio.Event() for _ in callers]
        if ring:
            ring[0].set()

        async def connect(c: Caller, i: int) -> None:
            nonlocal redispatched
            await ring[i].wait()
            try:
                token = (api.AccessToken(s.api_key, s.api_secret)
                         .with_identity(f"caller-{c.index}")
                         .with_attributes({"sip.phoneNumber": c.phone})
                         .with_grants(api.VideoGrants(room_join=True, room=c.room_name))
                         .to_jwt())
                await c.join(s.livekit_url, token)
                dispatch = api.CreateAgentDispatchRequest(agent_name=s.options.agent_name,
                                                          room=c.room_name)
                await lkapi.agent_dispatch.create_dispatch(dispatch)
                heard = await c.heard_since(c.joined_at, RING_NEXT_AFTER_S)
            finally:
                if i + 1 < len(ring):
                    ring[i + 1].set()
            if heard is None:
                heard = await c.heard_since(c.joined_at, 30 - RING_NEXT_AFTER_S)
            if heard is None and not c.states:  # no agent joined: dispatch once more
                redispatched += 1
                await lkapi.agent_dispatch.create_dispatch(dispatch)
                heard = await c.heard_since(c.joined_at, 30)
            if heard is None:
                c.errors.append("no greeting within 60 s")
            else:
                greetings.append((heard - c.joined_at) * 1000)

        async def connect_or_note(c: Caller, i: int) -> None:
            try:
                await connect(c, i)
            except Exception as e:  # e.g. the server refusing rooms when its node is starved
                c.errors.append(f"could not connect: {type(e).__name__}: {e}"[:200])

        try:
            await asyncio.gather(*(connect_or_note(c, i) for i, c in enumerate(callers)))
        finally:
            await lkapi.aclose()
        cpu_before = cpu_snapshot(self._pids(sampler))
        t_phases = time.monotonic()
        result["accepted_calls"] = sum(1 for c in callers if c.speaking_since(0) is not None)
        result["redispatched_calls"] = redispatched
        result["join_to_greeting_p95_ms"] = round(percentile(greetings, 95), 1)
        spread = min(0.05 * len(callers), 2.0)

        async def speak(c: Caller, phase: int) -> None:
            if c.gone.is_set() or c.speaking_since(0) is None:
                return
            if not await c.until_listening(30):
                c.errors.append(f"phase {phase}: agent not listening")
                return
            await asyncio.sleep(random.uniform(0, spread))
            ended = await c.say(self.speech[LINES[phase]])
            if await c.heard_since(ended, 30) is None and phase < len(LINES) - 1:
                c.errors.append(f"phase {phase}: no answer within 30 s")

        async def speak_or_note(c: Caller, phase: int) -> None:
            try:
                await speak(c, phase)
            except Exception as e:
                c.errors.append(f"phase {phase}: {type(e).__name__}: {e}"[:200])

        for phase in range(len(LINES)):
            await asyncio.gather(*(speak_or_note(c, phase) for c in callers))
            if phase == 1:
                result["pss_mb"] = round(await asyncio.to_thread(sampler.pss) / 2**20, 1)
        result["cpu_cores_during_turns"] = cpu_cores(
            cpu_before, cpu_snapshot(self._pids(sampler)), time.monotonic() - t_phases)
        # the goodbye, then the agent hangs up (end_call deletes the room)
        await asyncio.gather(*(asyncio.wait_for(c.gone.wait(), 20) for c in callers),
                             return_exceptions=True)

    def _pids(self, sampler: TreeSampler) -> dict[str, list[int]]:
        procs = self.stack.procs
        tree = [p.pid for p in sampler.tree()]
        jobs = set(self._job_pids())
        return {
            "worker: job processes": [pid for pid in tree if pid in jobs],
            "worker: main, inference, forkserver": [pid for pid in tree if pid not in jobs],
            "livekit_server": [procs["livekit"].popen.pid],
            "fake_providers": [procs["fakes"].popen.pid],
            "firestore_emulator": [procs["firestore"].popen.pid],
            "callers (this process)": [os.getpid()],
        }

    async def _score(self, callers: list[Caller], result: dict[str, Any]) -> None:
        """Match each final transcript to its call (via the call logs) and time the answer."""
        try:
            stt_log = _get_json(f"{self.stack.fakes.stt}/_fake/log")["emitted"]
        except (OSError, ValueError, KeyError):
            stt_log = []
        sent_at = {e["text"]: e["at"] for e in stt_log if e["text"]}
        by_room = {c.room_name: c for c in callers}
        heard_by: dict[str, Caller] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            logs = await asyncio.to_thread(self._call_logs, list(by_room))
            for room, log in logs.items():
                for line in log.get("transcript") or []:
                    if line.get("role") == "user" and line.get("text") in sent_at:
                        heard_by[line["text"]] = by_room[room]
            if len(logs) >= len(callers):
                break
            await asyncio.sleep(1)
        result["call_logs"] = len(logs)
        result["orders_saved"] = sum(1 for log in logs.values() if log.get("outcome") == "order")
        commits, holds = self._worker_turns()
        overhead_ms: list[float] = []  # turn committed -> the agent's first audio frame
        final_to_commit_ms: list[float] = []  # final transcript sent -> turn committed
        final_to_speaking_ms: list[float] = []  # final transcript sent -> first audio frame
        for text, caller in heard_by.items():
            t1 = caller.speaking_since(sent_at[text])
            if t1 is not None and t1 - sent_at[text] < 30:
                final_to_speaking_ms.append((t1 - sent_at[text]) * 1000)
        for room, times in commits.items():
            caller = by_room.get(room)
            if caller is None:
                continue
            for t0 in times:
                t1 = caller.speaking_since(t0)
                if t1 is not None and t1 - t0 < 30:
                    overhead_ms.append((t1 - t0) * 1000)
                finals = [t for text, t in sent_at.items()
                          if heard_by.get(text) is caller and t <= t0 + 0.001]
                if finals:
                    final_to_commit_ms.append((t0 - max(finals)) * 1000)
        result["completed_turns"] = len(overhead_ms)
        result["turns_held_by_turn_detector"] = holds
        result["call_loop_stalls"] = {
            "count": len(self.stalls),
            "max_ms": round(max((ms for ms, _ in self.stalls), default=0.0), 1),
            "importing_max_ms": round(max((ms for ms, imp in self.stalls if imp), default=0.0), 1),
        }
        result["turn_overhead_p50_ms"] = _p(overhead_ms, 50) if overhead_ms else None
        result["turn_overhead_p95_ms"] = _p(overhead_ms, 95) if overhead_ms else None
        result["turn_overhead_max_ms"] = round(max(overhead_ms), 1) if overhead_ms else None
        if final_to_commit_ms:
            result["final_transcript_to_commit_p50_ms"] = _p(final_to_commit_ms, 50)
            result["final_transcript_to_commit_p95_ms"] = _p(final_to_commit_ms, 95)
        if final_to_speaking_ms:
            result["final_transcript_to_answer_p95_ms"] = _p(final_to_speaking_ms, 95)
        errors = [f"caller {c.index}: {e}" for c in callers for e in c.errors
                  if not e.startswith("disconnect")]
        if errors:
            result["errors"] = errors[:10] + ([f"... {len(errors) - 10} more"]
                                              if len(errors) > 10 else [])

    def _job_pids(self) -> list[int]:
        pids = []
        for line in self.stack.procs["worker"].log_path.read_text(errors="replace").splitlines():
            if '"initializing process"' in line:
                try:
                    pids.append(int(json.loads(line)["pid"]))
                except (json.JSONDecodeError, KeyError, ValueError):
                    pass
        return pids

    def _worker_turns(self) -> tuple[dict[str, list[float]], int]:
        """From the worker's JSON log: when each room's user turns were committed, and how many
        end-of-turn predictions held the turn for the maximum endpointing delay. Also keeps the
        job processes' "event loop blocked" reports (LiveKit's loop monitor) in self.stalls."""
        commits: dict[str, list[float]] = {}
        holds = 0
        self.stalls: list[tuple[float, bool]] = []  # (ms, while importing a module)
        log = self.stack.procs["worker"].log_path
        for line in log.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            msg = rec.get("message")
            if msg == "user turn committed" and rec.get("room"):
                at = datetime.fromisoformat(rec["timestamp"]).timestamp()
                commits.setdefault(rec["room"], []).append(at)
            elif msg == "eot prediction" and (rec.get("endpointing_delay") or 0) >= 1.0:
                holds += 1
            elif str(msg).startswith("event loop blocked") and rec.get("room"):
                self.stalls.append((float(rec.get("duration") or 0) * 1000, " importing " in msg))
        return commits, holds

    def _call_logs(self, rooms: list[str]) -> dict[str, dict[str, Any]]:
        from config import FirestoreSettings
        from store import close_sync_client, make_sync_client
        from store.scope import scoped

        client = make_sync_client(FirestoreSettings(
            firestore_emulator_host=self.stack.firestore_host, google_cloud_project=PROJECT))
        try:
            found = {}
            for room in rooms:
                doc = scoped(client).collection("call_logs").document(room).get()
                if doc.exists:
                    found[room] = doc.to_dict()
            return found
        finally:
            close_sync_client(client)


def level_limit(n: int) -> float:
    """Seconds a level may take: enough for n calls that work, bounded for those that do not."""
    return min(60 + 6 * n, 150)


def run_level(n: int, workdir: Path, out: Path) -> None:
    """One level in this process with its own stack; every process group it starts is listed
    in workdir/pgids.txt first, so the parent can stop them even if this process dies."""
    bench = Bench(workdir)
    spawn = bench.stack.spawn

    def recorded_spawn(*args: Any, **kwargs: Any) -> Any:
        proc = spawn(*args, **kwargs)
        with open(workdir / "pgids.txt", "a") as f:
            f.write(f"{proc.popen.pid}\n")
        return proc

    bench.stack.spawn = recorded_spawn  # type: ignore[method-assign]
    try:
        bench.start()
        result = asyncio.run(bench.level(n, limit_s=level_limit(n)))
        out.write_text(json.dumps(result))
    finally:
        bench.stop()


def _stop_groups(pgids_file: Path) -> None:
    if not pgids_file.exists():
        return
    for line in pgids_file.read_text().split():
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(int(line), sig)
            except (ProcessLookupError, PermissionError, ValueError):
                break
            time.sleep(0.5)


def measure(levels: tuple[int, ...]) -> dict[str, Any]:
    """Each level in a child process (`python -m bench.concurrency N`) with a fresh stack: the
    LiveKit SDK aborts its process when a starved event loop misses an FFI deadline, and one
    level's crash must not lose the others or leave servers behind."""
    out: list[dict[str, Any]] = []
    for n in levels:
        print(f"bench: concurrency {n} calls ...", flush=True, file=sys.stderr)
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-concurrency-{n}-"))
        result_file = workdir / "result.json"
        limit = level_limit(n) + 150  # the level's own limit plus stack start and scoring
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.concurrency", str(n), str(workdir)],
            cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _, err = child.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            _, err = child.communicate(timeout=30)
            err = (err or b"") + f"\nlevel killed after {limit} s".encode()
        finally:
            _stop_groups(workdir / "pgids.txt")
        if result_file.exists():
            out.append(json.loads(result_file.read_text()))
        else:
            tail = (err or b"").decode(errors="replace").strip().splitlines()[-3:]
            out.append({"calls": n, "expected_turns": 4 * n, "completed_turns": 0,
                        "rss_mb": 0.0, "turn_overhead_p95_ms": None,
                        "error": f"level crashed (exit {child.returncode}): " + " | ".join(tail)})
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"bench: concurrency logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return {"concurrency": out}


if __name__ == "__main__":
    run_level(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[2]) / "result.json")
