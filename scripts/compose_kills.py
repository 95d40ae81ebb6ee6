"""Each long-running service of the composed stack SIGKILLed DURING a call:
`python scripts/compose_ci.py --kill-table-mid-call FILE [--services agent,freeswitch,...]`.

Not part of `make compose-test` (its default path places one call and kills nothing). For
each service in turn: the fakes' scripts start again, the softphone places the order call
(scripts/compose_call.py: place_mid_call, a caller that reacts to what it hears), and a second
into the agent's answer to the caller's first line the service's container gets SIGKILL to its
PID 1 from the host (compose_ci.crash: how a crash or the OOM killer ends it; Docker restarts
it, `restart: unless-stopped`). Per row:

  - what the caller got: the agent's audio after the kill (dead air, how long), whether the
    order was saved, who ended the call (the stack's BYE, or the caller hanging up after
    compose_call.PATIENCE_S of dead air), what call-watch logged;
  - from the kill until every service is healthy again, and until a NEW call is answered
    (a probe call from phone 1002, probed once all are healthy: 200 OK, audio heard, and
    call-watch did not give up on it, so the audio was the agent, not the apology);
  - confirmed records lost or doubled: the ids of orders, bookings and messages in the
    database before the call and after it; lost: ids gone, plus a confirmed order that never
    reaches the database (after waiting for the worker's outbox and journal); doubled: the
    call's order saved more than once. "Confirmed" is the confirm tool's result as the fake
    LLM received it.

The table (markdown) is rewritten after every row, so a run cut short keeps the rows it
measured; FILE.json holds each row's raw figures and the fake LLM's turns, and
FILE-minus-suffix.<service>.log the call path's logs during the row.
"""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from scripts.compose_call import SCRIPT, MidCall, place_mid_call, probe_answered
from scripts.compose_ci import Stack, composed_call, crash, log, not_healthy

RECORDS = ("orders", "reservations", "messages")
# whose logs of each row are kept beside the table (FILE minus .md, then .<service>.log)
CALL_PATH = ("freeswitch", "livekit-sip", "livekit", "agent", "call-watch", "fakes")
RECOVERY_LIMIT_S = 300.0
CALLER_PHONE = "1001"  # the order call's phone (compose_call.place_mid_call)
PROBE_PHONE = "1002"  # the new calls come from the other phone: its own rooms in the logs
SETTLE_S = 90.0  # a confirmed order queued in the outbox or journal reaches the database


def record_ids(stack: Stack) -> dict[str, set[str]]:
    """The ids of the confirmed records in the database (waits while it is down)."""
    port = stack.ports["CI_FIRESTORE_PORT"]
    deadline = time.monotonic() + 120
    out: dict[str, set[str]] = {}
    for collection in RECORDS:
        url = (f"http://127.0.0.1:{port}/v1/projects/demo-restaurant/databases/(default)/"
               f"documents/restaurants/main/{collection}?pageSize=300")
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    docs = json.loads(resp.read()).get("documents", [])
                out[collection] = {d["name"].rsplit("/", 1)[1] for d in docs}
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
    return out


FAKES_CODE = """
import json, sys, urllib.request
if sys.argv[1] == 'heard':
    print(json.load(urllib.request.urlopen('http://127.0.0.1:8102/_fake/log',
                                           timeout=5))['next_line'])
elif sys.argv[1] == 'reset':
    for port in (8101, 8102):
        urllib.request.urlopen(urllib.request.Request(
            f'http://127.0.0.1:{port}/_fake/script', data=sys.argv[2].encode(),
            headers={'Content-Type': 'application/json'}), timeout=5).read()
else:
    entries = json.load(urllib.request.urlopen('http://127.0.0.1:8101/_fake/log', timeout=10))
    print(json.dumps([{'user': e['user'][:40], 'tools': [c['name'] for c in e['tool_calls']],
                       'results': {k: v[:120] for k, v in e['tool_results'].items()}}
                      for e in entries['requests']]))
"""


def fakes_reset(stack: Stack) -> None:
    """The fake LLM and STT follow the call's script from its first line again."""
    script = json.dumps(yaml.safe_load(SCRIPT.read_text()))
    stack.compose("exec", "-T", "fakes", "python", "-c", FAKES_CODE, "reset", script)


def lines_heard(stack: Stack) -> int:
    """How many of the caller's lines the fake STT has transcribed since the reset."""
    out = stack.compose("exec", "-T", "fakes", "python", "-c", FAKES_CODE, "heard",
                        check=False)
    try:
        return int(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return 0


def llm_turns(stack: Stack) -> list[dict[str, Any]]:
    """The fake LLM's requests since the reset: the caller's turn, the tools it called, the
    results it was given (this row's calls)."""
    out = stack.compose("exec", "-T", "fakes", "python", "-c", FAKES_CODE, "log", check=False)
    try:
        return list(json.loads(out.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        return []


def confirm_results(turns: list[dict[str, Any]]) -> list[str]:
    """What the confirm tool returned, as the fake LLM received it."""
    return [str(t["results"]["confirm"]) for t in turns if "confirm" in t["results"]]


def confirmed(results: list[str]) -> bool:
    """The agent told the caller the order is in (saved, or queued durably): agents/tools/
    confirm.py's answer ends with what to tell the caller; a refusal does not."""
    return any("Tell the caller" in r or r.startswith("Already done") for r in results)


def watch_notes(stack: Stack, since: str) -> list[str]:
    """What call-watch did to the caller's calls since `since` (redispatch, give_up, apology,
    hung up, ...), in order."""
    text = stack.compose("logs", "--no-log-prefix", "--since", since, "call-watch",
                         check=False)
    notes: list[str] = []
    for m in re.finditer(rf"call ([^:\n]+): call-_{CALLER_PHONE}_", text):
        if m.group(1) not in notes:
            notes.append(m.group(1))
    return notes


def recover(stack: Stack, name: str, killed: float, result: dict[str, float]) -> None:
    """Seconds from the kill until every service is healthy, then until a new call is
    answered by the agent (probe calls, one after another)."""
    try:
        _recover(stack, name, killed, result)
    except Exception:  # a thread: the row shows the figure missing
        log(f"recovery after killing {name} not measured:\n{traceback.format_exc()}")


def _recover(stack: Stack, name: str, killed: float, result: dict[str, float]) -> None:
    call = composed_call(stack, f"probe-{name}")
    time.sleep(1.0)
    while "healthy" not in result:
        try:
            if not not_healthy(stack.states()):
                result["healthy"] = time.time() - killed
        except SystemExit:
            pass  # `docker compose ps` failed once: ask again
        if time.time() - killed > RECOVERY_LIMIT_S:
            return
        time.sleep(1.0)
    n = 0
    while time.time() - killed < RECOVERY_LIMIT_S:
        n += 1
        since = datetime.now(UTC).isoformat(timespec="seconds")
        heard = probe_answered(call, stack.ports["CI_RTP_START"], call.workdir / str(n),
                               PROBE_PHONE, stack.values["FS_STAFF_PHONE_PASSWORD"])
        if heard and not apologised(stack, since, PROBE_PHONE):
            result["answered"] = time.time() - killed
            return
        time.sleep(2.0)


def apologised(stack: Stack, since: str, phone: str) -> bool:
    """call-watch gave up on a call from `phone` since `since` (no agent took it: the audio
    the caller heard was the apology)."""
    text = stack.compose("logs", "--no-log-prefix", "--since", since, "call-watch",
                         check=False)
    return re.search(rf"call (give_up|apology): call-_{phone}_", text) is not None


def settle(stack: Stack, before: dict[str, set[str]], saved: bool) -> dict[str, set[str]]:
    """The records once the database answers; if the agent confirmed an order that is not
    there yet, up to SETTLE_S for the worker's outbox or journal to bring it."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        after = record_ids(stack)
        if not saved or after["orders"] - before["orders"] or time.monotonic() > deadline:
            return after
        time.sleep(3)


def mid_call_row(stack: Stack, service: str) -> dict[str, Any]:
    """One row: the call, `service` killed during it, the recovery, the records."""
    stack.wait_healthy(timeout=RECOVERY_LIMIT_S)
    fakes_reset(stack)
    before = record_ids(stack)
    since = datetime.now(UTC).isoformat(timespec="seconds")
    recovery: dict[str, float] = {}
    threads: list[threading.Thread] = []

    def kill() -> None:
        killed = time.time()
        crash(stack, service)
        log(f"mid-call: SIGKILL to {service}")
        threads.append(threading.Thread(target=recover, daemon=True,
                                        args=(stack, service, killed, recovery)))
        threads[0].start()

    got = place_mid_call(composed_call(stack, f"mid-{service}"), stack.ports["CI_RTP_START"],
                         kill, lambda: lines_heard(stack), before["orders"])
    for t in threads:
        t.join(RECOVERY_LIMIT_S)
    turns = llm_turns(stack)
    results = confirm_results(turns)
    heard = lines_heard(stack)
    after = settle(stack, before, confirmed(results))
    new = {c: len(after[c] - before[c]) for c in RECORDS}
    lost = sum(len(before[c] - after[c]) for c in RECORDS)
    lost += 1 if confirmed(results) and not new["orders"] else 0
    row = {"service": service, "call": got.__dict__, "recovery": recovery,
           "confirm_results": [r[:160] for r in results], "confirmed": confirmed(results),
           "heard": heard, "since": since,
           "llm": [t for t in turns if t["user"] or t["tools"]],
           "new": new, "lost": lost,
           "doubled": max(new["orders"] - 1, 0),  # the call orders once
           "call_watch": watch_notes(stack, since)}
    row["caller_got"] = caller_got(got, row)
    log(f"mid-call kill of {service}: {row['caller_got']}; healthy after "
        f"{recovery.get('healthy', -1):.0f}s, a new call answered after "
        f"{recovery.get('answered', -1):.0f}s; lost {lost}, doubled {row['doubled']}")
    return row


def caller_got(m: MidCall, row: dict[str, Any]) -> str:
    """What the caller experienced, in words, from the SIP messages and the RTP."""
    if m.killed is None:
        return "nothing killed: " + "; ".join(m.notes or ["the call never got that far"])
    k = m.killed
    if m.heard_again is None:
        parts = ["silence from the kill on"]
    else:
        parts = [f"the longest wait for the agent after the kill {m.longest_wait_s:.1f} s"]
    repeats = f", {m.lines_said - row.get('heard', 0)} unheard" if row.get("heard", 4) < \
        m.lines_said else ""
    parts.append(f"the caller said {m.lines_said} lines (4 in the script{repeats})")
    if row["new"]["orders"] and m.order_seen is not None:
        parts.append(f"order saved {m.order_seen - k:.0f} s after the kill")
    elif row["new"]["orders"]:
        parts.append("order saved (after the call)")
    elif row["confirmed"]:
        parts.append("order confirmed but not in the database")
    else:
        parts.append("no order")
    if m.bye_from_stack is not None:
        parts.append(f"BYE from the stack {m.bye_from_stack - k:.0f} s after the kill")
    elif m.caller_hung_up is not None:
        parts.append(f"no BYE: the caller hung up {m.caller_hung_up - k:.0f} s after the kill")
    if row["call_watch"]:
        parts.append("call-watch: " + ", ".join(row["call_watch"]))
    return "; ".join(parts + m.notes)


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| service SIGKILLed mid-call | what the caller got | all healthy after | "
             "new call answered after | records lost | doubled |", "|---|---|---|---|---|---|"]
    for r in rows:
        rec = r["recovery"]
        healthy = f"{rec['healthy']:.0f} s" if "healthy" in rec else "not in 300 s"
        answered = f"{rec['answered']:.0f} s" if "answered" in rec else "not in 300 s"
        lines.append(f"| {r['service']} | {r['caller_got']} | {healthy} | {answered} | "
                     f"{r['lost']} | {r['doubled']} |")
    return "\n".join(lines) + "\n"


def mid_call_table(stack: Stack, out: Path, services: list[str]) -> None:
    """Every service in `services` killed during a call in turn; the table after each row."""
    rows: list[dict[str, Any]] = []
    for service in services:
        try:
            rows.append(mid_call_row(stack, service))
            logs = stack.compose("logs", "--since", rows[-1]["since"], *CALL_PATH,
                                 check=False)
            out.with_suffix(f".{service}.log").write_text(logs)
        except Exception as e:  # the row says so, the next row still runs
            log(f"mid-call kill of {service}: the row failed:\n{traceback.format_exc()}")
            rows.append({"service": service, "caller_got": f"row failed: {e!r}"[:300],
                         "recovery": {}, "lost": "?", "doubled": "?"})
        out.write_text(markdown(rows))
        out.with_suffix(out.suffix + ".json").write_text(json.dumps(rows, indent=1,
                                                                    default=str))
    log(f"mid-call kill table written to {out}")
