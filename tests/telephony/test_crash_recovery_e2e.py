"""Crashes during a live SIP call, on the real stack: the caller is never stranded.

The native stack of `make dev` (scripts/devstack.py: redis, LiveKit server, LiveKit SIP, the
Firestore emulator, the fake AI providers, the real worker `python main.py start` and the call
watcher), SIPp calling as FreeSWITCH does. During an order call the test SIGKILLs:

* the job process handling the call (as an OOM kill does), mid-order: a new agent must speak
  within 2 s and the cart must be intact (the order saved at the end is the one begun);
* the job process right after the caller's "yes" (as soon as the order is in Firestore):
  exactly one order, the right one, and the caller is told it is placed;
* the whole worker, while a second worker runs: the second takes the call within 5 s;
* the job process after the "yes" with its saved state lost too: the new agent starts over,
  and the caller's next order, whose id collides with the saved one's, is saved as a second
  order and announced with its own number (never a wrong "already saved");
* every worker: the caller hears a short apology and the call ends with a BYE soon after
  (NO_WORKER_APOLOGY_S, NO_WORKER_BYE_S); its log, marked crashed, says what was said and
  where the caller was, from the state the dead agent saved, which is then deleted;
* every worker, with one restarting (as compose's agent container does) and the watcher
  told to wait for it (CALL_WORKER_WAIT_S): the caller hears the watcher's hold line where
  the apology would come, then the restarted worker's agent resumes the order.

After every call, whatever the crash, no saved state of the call is left in Firestore.

The silences are measured on the RTP coming back to the caller (kill -> first audible packet)
and printed as a table with what the caller heard next and what Firestore holds.
CRASH_RUNS (default 1) repeats the first three crash points.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import statistics
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from livekit import api

from actions.reservations import spell
from fakes.audio import silence, speech_or_tone
from scripts.devstack import Ports, Stack, StackOptions
from store.scope import scoped
from testkit.caller import RATE, RtpCapture, start_sipp
from testkit.clock import open_timezone
from testkit.emulator import EMULATOR_JAR
from tests.conftest import seed_menu_file
from tests.telephony.helpers import require
from tests.telephony.test_sip_call_e2e import _binaries_present

log = logging.getLogger("telephony.crash")
HERE = Path(__file__).resolve().parent
RESTAURANT_NUMBER = "+15550100"
CALLER = "+16175550199"
PROJECT = "demo-crash"
RUNS = int(os.environ.get("CRASH_RUNS", "1"))
JOB_BOUND_S = 2.0  # the bounds: a new agent speaks within 2 s of a job's death ...
WORKER_BOUND_S = 5.0  # ... and within 5 s of a whole worker's death
# Every worker dead: the watcher's apology starts (a re-dispatch nobody takes is given 2 s),
# and the BYE follows its 4.8 s (measured before: 5.2 s and 13.9 s with a 9 s apology).
NO_WORKER_APOLOGY_S, NO_WORKER_BYE_S = 3.5, 9.0
# The bounds; a CI box shared with other jobs (as this 2-core one is) gets
# this much slack before the test calls it a failure. CRASH_BOUND_SLACK=1 asserts them as is.
SLACK = float(os.environ.get("CRASH_BOUND_SLACK", "1.5"))
AUDIBLE = 300.0
# What a job asked for or sent just before its SIGKILL may still arrive this long after it;
# no new agent can be up that soon (a dispatch, a job start and a room connection).
IN_FLIGHT_S = 0.25
GAP_S = 11.0  # between the caller's lines: room for a reply, a crash and the resumed agent

MID_ORDER, AFTER_YES, LOST_STATE, WORKER, NO_WORKER, RESTART = (
    "job process killed mid-order", "job process killed after 'yes'",
    "killed after 'yes', state lost, 2nd order", "whole worker killed, 2nd worker running",
    "every worker killed", "every worker killed, one restarts")
WORKER_WAIT_S = 30.0  # CALL_WORKER_WAIT_S for RESTART, as compose sets it
RESTART_GAP_S = 40.0  # after RESTART's first line: the worker's restart, then the resumption
# The collision case: the state is lost with the job, so the new agent starts its order
# counter over and its order (a BLT) gets the id of the cappuccino already saved.
BLT_RULE = {"when": "BLT", "steps": [
    {"tool_calls": [{"name": "start_order"}]},
    {"tool_calls": [{"name": "add_item", "arguments": {"item": "blt", "options": ["rye"]}}]},
    {"text": "One BLT on rye. What name is the order under?"}]}


def lines(tag: str) -> list[str]:
    said = [f"Hi, I'd like a large cappuccino please, call {tag}", f"It's Sam Rivera, call {tag}",
            f"Yes, that's right, call {tag}"]
    if tag.startswith("e"):  # LOST_STATE: a second order after the crash
        said += [f"And a BLT on rye please, call {tag}", f"It's Sam Rivera again, call {tag}",
                 f"Yes, that's right again, call {tag}"]
    return [*said, f"No, that's all, bye, call {tag}"]


def plan() -> list[tuple[str, str]]:
    runs = [(point, f"{code}{n}") for point, code in
            ((MID_ORDER, "a"), (AFTER_YES, "b"), (WORKER, "c")) for n in range(RUNS)]
    # The collision case through the real stack (CRASH_LOST_STATE=0 leaves it out).
    lost = [(LOST_STATE, "e0")] if os.environ.get("CRASH_LOST_STATE", "1") == "1" else []
    restart = [(RESTART, "f0")] if os.environ.get("CRASH_RESTART", "1") == "1" else []
    return [*runs, *lost, (NO_WORKER, "d0"), *restart]


@dataclass
class Outcome:
    point: str
    tag: str
    room: str = ""
    silence_s: float | None = None  # kill -> first audible audio back to the caller
    hold_s: float | None = None  # RESTART: kill -> the watcher's hold line
    held: bool = False  # RESTART: the watcher said the hold line and replaced the dispatch
    dead_air_s: float | None = None  # last audio before the kill -> first audio after it
    heard_next: str = ""
    bye: bool = False
    bye_s: float | None = None  # kill -> the BYE the caller received
    state_left: bool = False  # the call's saved state (call_snapshots) still there after it
    orders: list[dict[str, Any]] = field(default_factory=list)
    call_log: dict[str, Any] | None = None
    confirmations: list[str] = field(default_factory=list)  # what confirm told the model


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def _firestore(room: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    from google.cloud import firestore  # FIRESTORE_EMULATOR_HOST is set by the fixture

    client = scoped(firestore.Client(project=PROJECT))  # the default restaurant's data
    try:
        orders = [d.to_dict() | {"id": d.id} for d in client.collection("orders")
                  .where(filter=firestore.FieldFilter("call_id", "==", room)).stream()]
        snap = client.document(f"call_logs/{room}").get()
        return orders, (snap.to_dict() if snap.exists else None)
    finally:
        client.client.close()


def _snapshot(room: str) -> dict[str, Any]:
    from google.cloud import firestore

    client = scoped(firestore.Client(project=PROJECT))  # the default restaurant's data
    try:
        snap = client.document(f"call_snapshots/{room}").get()
        return snap.to_dict() or {} if snap.exists else {}
    finally:
        client.client.close()


def _forget_state(room: str) -> None:
    from google.cloud import firestore

    client = scoped(firestore.Client(project=PROJECT))  # the default restaurant's data
    try:
        client.document(f"call_snapshots/{room}").delete()
    finally:
        client.client.close()


def _job_process(stack: Stack, job_id: str) -> tuple[str, int] | None:
    """(worker name, pid of the job process) from the worker's "call started" log line."""
    for name in [n for n in stack.procs if n.startswith("worker")]:
        text = stack.procs[name].log_path.read_text(errors="replace")
        for line in text.splitlines():
            if "call started" in line and job_id in line:
                m = re.search(r'"job_pid"\s*[:=]\s*(\d+)', line)
                if m:
                    return name, int(m.group(1))
    return None


class Caller:
    """One SIPp call plus the views the test needs while it runs."""

    def __init__(self, stack: Stack, tag: str, workdir: Path, pcm: bytes) -> None:
        self.stack, self.tag = stack, tag
        self.capture = RtpCapture()
        self.sipp = start_sipp(workdir=workdir, pcm=pcm,
                               target=f"127.0.0.1:{stack.options.ports.sip}",
                               number=RESTAURANT_NUMBER, caller=CALLER,
                               rtp_port=self.capture.port, timeout_s=200)
        self.lk = api.LiveKitAPI(stack.livekit_http, stack.api_key, stack.api_secret)

    async def room(self, known: set[str], within: float = 30) -> str:
        async with asyncio.timeout(within):
            while True:
                try:
                    rooms = (await self.lk.room.list_rooms(api.ListRoomsRequest())).rooms
                except api.TwirpError as e:
                    log.info("LiveKit API: %s", e)
                    rooms = []
                for r in rooms:
                    if r.name.startswith("call-") and r.name not in known:
                        return r.name
                await asyncio.sleep(0.2)

    async def job(self, room: str, within: float = 30) -> tuple[str, int]:
        """The worker and the job process of the agent in the call now."""
        async with asyncio.timeout(within):
            while True:
                try:
                    people = (await self.lk.room.list_participants(
                        api.ListParticipantsRequest(room=room))).participants
                    dispatches = await self.lk.agent_dispatch.list_dispatch(room)
                except api.TwirpError as e:  # an overloaded server answers 503 at times
                    log.info("LiveKit API: %s", e)
                    await asyncio.sleep(0.2)
                    continue
                agents = {p.identity for p in people if p.kind == api.ParticipantInfo.Kind.AGENT}
                jobs = [j.id for d in dispatches for j in d.state.jobs
                        if j.state.participant_identity in agents]
                if len(jobs) == 1 and (found := _job_process(self.stack, jobs[0])):
                    return found
                await asyncio.sleep(0.2)

    async def heard(self, text: str, within: float = 60) -> float:
        """When the fake STT heard the caller say `text`."""
        async with asyncio.timeout(within):
            while True:
                for e in _get_json(f"{self.stack.fakes.stt}/_fake/log")["emitted"]:
                    if e["text"] == text:
                        return float(e["at"])
                await asyncio.sleep(0.1)

    async def agent_quiet_after(self, since: float, quiet_s: float = 1.0,
                                within: float = 30) -> None:
        """Wait until the agent spoke after `since` and then went quiet for `quiet_s`."""
        async with asyncio.timeout(within):
            while True:
                loud = [p.at for p in list(self.capture.packets)
                        if p.at > since and p.level >= AUDIBLE]
                if loud and time.time() - loud[-1] >= quiet_s:
                    return
                await asyncio.sleep(0.05)

    async def snapshot_has_cart(self, room: str, within: float = 20) -> None:
        async with asyncio.timeout(within):
            while True:
                if (await asyncio.to_thread(_snapshot, room)).get("cart"):
                    return
                await asyncio.sleep(0.05)

    async def state_outlives(self, room: str, within: float = 5) -> bool:
        """Whether the call's saved state is still there `within` s after the call's end (it
        is deleted right after the log is written, as the job shuts down)."""
        deadline = time.monotonic() + within
        while await asyncio.to_thread(_snapshot, room):
            if time.monotonic() > deadline:
                return True
            await asyncio.sleep(0.2)
        return False

    async def order_saved(self, room: str, within: float = 60) -> None:
        async with asyncio.timeout(within):
            while True:
                if (await asyncio.to_thread(_firestore, room))[0]:
                    return
                await asyncio.sleep(0.03)

    def said_at(self, killed_at: float, audible_at: float) -> str:
        """The new agent's first utterance (all its chunks): the last the TTS got before its
        audio reached the caller, not counting what a dying job asked for in its last moment."""
        spoken = [s for s in _get_json(f"{self.stack.fakes.tts}/_fake/log")["spoken"]
                  if killed_at + IN_FLIGHT_S < s["at"] <= audible_at]
        if not spoken:
            return ""
        context = spoken[-1]["context_id"]
        if context is None:
            return str(spoken[-1]["text"])
        every = _get_json(f"{self.stack.fakes.tts}/_fake/log")["spoken"]
        return " ".join(str(s["text"]).strip() for s in every if s["context_id"] == context)

    async def close(self) -> None:
        self.sipp.kill()
        self.capture.close()
        await self.lk.aclose()


def _next_burst(capture: RtpCapture, after: float) -> float | None:
    """When the first audio at or after `after` reached the caller."""
    return capture.first_audible(AUDIBLE, after=after)


def _kill(stack: Stack, point: str, worker: str, pid: int) -> None:
    if point in (MID_ORDER, AFTER_YES, LOST_STATE):
        os.kill(pid, signal.SIGKILL)  # the job process only, as the OOM killer would
    elif point == WORKER:
        os.killpg(stack.procs[worker].popen.pid, signal.SIGKILL)  # the worker and its jobs
    else:
        for name in [n for n in stack.procs if n.startswith("worker")]:
            os.killpg(stack.procs[name].popen.pid, signal.SIGKILL)


async def _one_call(stack: Stack, point: str, tag: str, workdir: Path, pcm: bytes,
                    known: set[str]) -> Outcome:
    out = Outcome(point, tag)
    said = lines(tag)
    caller = Caller(stack, tag, workdir, pcm)
    try:
        out.room = await caller.room(known)
        known.add(out.room)
        first = await caller.heard(said[0])
        if point in (AFTER_YES, LOST_STATE):
            await caller.heard(said[2])
            await caller.order_saved(out.room)
        else:
            await caller.agent_quiet_after(first)  # the reply to the first line was heard
            await caller.snapshot_has_cart(out.room)  # what the new agent will pick up
        worker, pid = await caller.job(out.room)
        killed_at = time.time()
        _kill(stack, point, worker, pid)
        if point == RESTART:  # as a supervisor (compose's restart policy) brings it back
            restarted = asyncio.ensure_future(asyncio.to_thread(stack.start_worker, "worker"))
        if point == LOST_STATE:
            await asyncio.to_thread(_forget_state, out.room)
        log.info("%s: killed %s (pid %d) at %.3f", point, worker, pid, killed_at)
        rc = await asyncio.to_thread(caller.sipp.wait, 200)
        if point == RESTART:
            await restarted
        messages = caller.sipp.messages()
        byes = [at for at, d, f in messages if d == "received" and f.startswith("BYE")]
        out.bye = rc == 0 and bool(byes)
        out.bye_s = byes[0] - killed_at if byes else None
        # The new agent's first words: a TTS request no dead job can have made (they are
        # dead for IN_FLIGHT_S), and the audio that reached the caller from then on.
        spoken = [e for e in _get_json(f"{stack.fakes.tts}/_fake/log")["spoken"]
                  if e["at"] > killed_at + IN_FLIGHT_S]
        back = _next_burst(caller.capture, spoken[0]["at"]) if spoken else None
        if point == NO_WORKER:  # the watcher's apology is not synthesised by the TTS
            back = _next_burst(caller.capture, killed_at + IN_FLIGHT_S)
        if point == RESTART:  # nor is its hold line, which comes first
            hold = _next_burst(caller.capture, killed_at + IN_FLIGHT_S)
            out.hold_s = hold - killed_at if hold is not None else None
            watch = stack.procs["call-watch"].log_path.read_text(errors="replace")
            out.held = "call hold" in watch and "call waiting for a worker" in watch
        agent_spoke = [p.at for p in list(caller.capture.packets)
                       if p.at < (back or killed_at) - IN_FLIGHT_S and p.level >= AUDIBLE]
        caller_spoke = [float(e["at"]) for e in
                        _get_json(f"{stack.fakes.stt}/_fake/log")["emitted"]
                        if e["text"] in said and e["at"] < killed_at]
        if back is not None:
            out.silence_s = back - killed_at
            # what the caller lived through: from the last thing anyone said before the crash
            out.dead_air_s = back - max([*agent_spoke, *caller_spoke, killed_at - 60])
            out.heard_next = caller.said_at(killed_at, back)
        if point == NO_WORKER:
            watch = stack.procs["call-watch"].log_path.read_text(errors="replace")
            out.heard_next = "(watcher) apology" if "call apology" in watch else "(nothing)"
        await asyncio.sleep(1.0)  # the call log is completed as the agent's job ends
        out.orders, out.call_log = await asyncio.to_thread(_firestore, out.room)
        out.state_left = await caller.state_outlives(out.room)
        out.confirmations = [r["tool_results"]["confirm"] for r in
                             _get_json(f"{stack.fakes.llm}/_fake/log")["requests"]
                             if r["user"] in said and "confirm" in r["tool_results"]]
        return out
    finally:
        await caller.close()


def _table(outcomes: list[Outcome]) -> str:
    rows = ["crash point | runs | silence p50 / max (s) | dead air p50 / max (s) | heard next "
            "| orders | call log (status, outcome, resumed) | kill -> BYE max (s)"]
    for point in (MID_ORDER, AFTER_YES, LOST_STATE, WORKER, NO_WORKER, RESTART):
        mine = [o for o in outcomes if o.point == point]
        if not mine:
            continue
        s = [o.silence_s for o in mine if o.silence_s is not None]
        d = [o.dead_air_s for o in mine if o.dead_air_s is not None]

        def fmt(v: list[float]) -> str:
            return f"{statistics.median(v):.2f} / {max(v):.2f}" if v else "none"

        logs = sorted({(o.call_log or {}).get("status", "-") + ", " +
                       str((o.call_log or {}).get("outcome", "-")) + ", " +
                       str((o.call_log or {}).get("resumed", "-")) for o in mine})
        byes = [o.bye_s for o in mine if o.bye_s is not None]
        bye = f"{max(byes):.2f}" if byes else "none"
        hold = [f"hold line at {o.hold_s:.1f} s, then " for o in mine if o.hold_s is not None]
        rows.append(f"{point} | {len(mine)} | {fmt(s)} | {fmt(d)} | "
                    f"{(hold or [''])[0]}{mine[0].heard_next[:70]!r}"
                    f" | {sorted({len(o.orders) for o in mine})} | {'; '.join(logs)} | {bye}")
    return "\n".join(rows)


def _watcher_waits_for_a_worker(stack: Stack) -> None:
    """The call watcher again, with CALL_WORKER_WAIT_S (its default, 0, is NO_WORKER's)."""
    stack._terminate(stack.procs.pop("call-watch"))
    stack.options.worker_env["CALL_WORKER_WAIT_S"] = str(WORKER_WAIT_S)
    # On a loaded box (make test's two halves at once) the fresh worker's first agent can come
    # after the first-join deadline, and that re-dispatch spends one of the default 3 before
    # the crash; CI once gave up 0.9 s before the restarted worker registered (19 s after the
    # kill). The cap is for a job that keeps crashing, not what this point measures.
    stack.options.worker_env["CALL_MAX_REDISPATCHES"] = "6"
    stack.start_watcher()


def _no_worker_left(o: Outcome) -> None:
    """Every worker dead: a short apology, a quick BYE, and a log that says what happened."""
    assert o.heard_next == "(watcher) apology", o
    assert o.silence_s is not None and o.silence_s <= NO_WORKER_APOLOGY_S * SLACK, o
    assert o.bye_s is not None and o.bye_s <= NO_WORKER_BYE_S * SLACK, o
    assert o.orders == [], o.orders
    log_ = o.call_log
    assert log_ is not None and (log_["status"], log_["restaurant_id"]) == ("crashed", "main")
    said = [t["text"] for t in log_["transcript"] if t["role"] == "user"]
    assert said == [lines(o.tag)[0]], log_["transcript"]  # from the dead agent's snapshot
    assert "order_agent" in log_["agents_visited"], log_["agents_visited"]


async def test_crashes_never_strand_the_caller(firestore_emulator, tmp_path, capsys):
    _binaries_present()
    require(EMULATOR_JAR.exists() or bool(firestore_emulator.host), "the Firestore emulator")
    from config import FirestoreSettings

    await asyncio.to_thread(firestore_emulator.reset, PROJECT)
    await asyncio.to_thread(seed_menu_file, FirestoreSettings(
        firestore_emulator_host=firestore_emulator.host, google_cloud_project=PROJECT))
    runs = plan()
    rules = [*yaml.safe_load((HERE / "order_call.yaml").read_text())["llm"], BLT_RULE]
    script = tmp_path / "crash_script.yaml"
    script.write_text(yaml.safe_dump(
        # NO_WORKER's caller is heard only up to the kill: no agent listens after it
        {"caller": [line for point, tag in runs
                    for line in lines(tag)[:1 if point == NO_WORKER else None]], "llm": rules},
        sort_keys=False))

    def audio(tag: str) -> bytes:
        pcm = silence(4.0, RATE)
        for n, line in enumerate(lines(tag)):
            gap = RESTART_GAP_S if n == 0 and (RESTART, tag) in runs else GAP_S
            pcm += speech_or_tone(line, RATE) + silence(gap, RATE)
        return pcm + silence(20.0, RATE)

    pcms = {tag: await asyncio.to_thread(audio, tag) for _, tag in runs}
    stack = Stack(StackOptions(
        ports=Ports.ephemeral(), workdir=tmp_path / "stack", numbers=(RESTAURANT_NUMBER,),
        allow=("127.0.0.1",), firestore_host=firestore_emulator.host, project=PROJECT,
        seed_menu=False, fakes_script=script, tts_voice="tone", worker="start", ignore_load=True,
        # noon wherever the restaurant is: orders are taken at any hour the test runs
        worker_env={"CALL_REAP_EVERY_S": "2", "CALL_REAP_MIN_AGE_S": "5",
                    "RESTAURANT_TIMEZONE": open_timezone()},
    ))
    outcomes: list[Outcome] = []
    known: set[str] = set()
    try:
        await asyncio.to_thread(stack.start)
        for point, tag in runs:
            if point == WORKER:  # the second worker that takes the call over
                await asyncio.to_thread(stack.start_worker, "worker-2")
            if point == RESTART:  # NO_WORKER left none; and the watcher now waits for one
                await asyncio.to_thread(_watcher_waits_for_a_worker, stack)
                await asyncio.to_thread(stack.start_worker, "worker")
            outcome = await _one_call(stack, point, tag, tmp_path / f"sipp-{tag}", pcms[tag],
                                      known)
            log.info("%s", outcome)
            outcomes.append(outcome)
            if point == WORKER:  # the killed worker comes back for the next run
                dead = next(n for n in stack.procs if n.startswith("worker")
                            and stack.procs[n].popen.poll() is not None)
                stack.procs.pop(dead)
                if dead == "worker":
                    stack.procs["worker"] = stack.procs.pop("worker-2")
    finally:
        await asyncio.to_thread(stack.stop)
    table = _table(outcomes)
    log.info("crash recovery:\n%s", table)
    with capsys.disabled():
        print(f"\ncrash recovery (silence: kill -> first audio back to the caller):\n{table}")

    for o in outcomes:
        assert o.bye, f"{o.point} ({o.tag}): the call did not end with a BYE"
        assert o.silence_s is not None, f"{o.point} ({o.tag}): the caller heard nothing after"
        assert not o.state_left, f"{o.point} ({o.tag}): the caller's saved state outlived it"
        if o.point == NO_WORKER:
            _no_worker_left(o)
            continue
        if o.point == RESTART:  # the hold line where the apology would come, then resumed
            assert o.held, o
            assert o.hold_s is not None and o.hold_s <= NO_WORKER_APOLOGY_S * SLACK, o
        bound = {WORKER: WORKER_BOUND_S * SLACK, RESTART: WORKER_WAIT_S}.get(
            o.point, JOB_BOUND_S * SLACK)
        assert o.silence_s <= bound, f"{o.point} ({o.tag}): {o.silence_s:.2f}s of silence"
        assert o.call_log is not None, f"{o.point}: no call log"
        assert (o.call_log["status"], o.call_log["outcome"], o.call_log["resumed"]) == (
            "completed", "order", 0 if o.point == LOST_STATE else 1), o.call_log
        if o.point == LOST_STATE:  # no state: a fresh start, and no wrong "already saved"
            assert o.heard_next.startswith("Hi Sam, welcome back"), o.heard_next
            by_id = {order["id"]: order for order in o.orders}
            first, second = (f"{o.room}-order-1", f"{o.room}-order-2")
            assert set(by_id) == {first, second}, sorted(by_id)
            assert [ln["item_id"] for ln in by_id[first]["lines"]] == ["cappuccino"]
            assert [ln["item_id"] for ln in by_id[second]["lines"]] == ["blt-sandwich"]
            told = o.confirmations[-1]
            assert told.startswith(f"Order placed: number {spell(by_id[second]['order_number'])}"
                                   ), told
            assert spell(by_id[first]["order_number"]) not in told
            continue
        assert o.heard_next.startswith("Sorry about that, we were cut off."), o.heard_next
        assert len(o.orders) == 1, f"{o.point} ({o.tag}): orders {o.orders}"
        order = o.orders[0]
        assert (order["customer_name"], [(ln["item_id"], ln["size"]) for ln in order["lines"]]) \
            == ("Sam Rivera", [("cappuccino", "large")]), order
        if o.point == AFTER_YES:
            assert f"number {spell(order['order_number'])}" in o.heard_next, o.heard_next
        else:  # the cart survived: the apology says what the caller had ordered
            assert "large cappuccino" in o.heard_next.lower(), o.heard_next
