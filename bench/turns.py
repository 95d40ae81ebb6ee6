"""Benchmarks 1-3: turn overhead, handoff cost and the greeting, in-process (see bench/rig.py)."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench.calls import ScriptedCall, cycle
from bench.emulator import Firestore
from bench.rig import open_voice_call
from bench.stats import summary, timing
from testkit.scripted_llm import Call

HANDOFF_TOOLS = {"start_order", "start_reservation", "review_order", "decline", "book_table",
                 "change_reservation", "cancel_reservation"}
# Tool steps that neither hand over nor write to the database: the baseline for a handoff.
PLAIN_TOOLS = {"add_item", "set_customer", "menu_info", "check_availability", "change_item",
               "remove_item", "list_order", "find_reservations"}


@dataclass
class TurnResults:
    overhead: list[float] = field(default_factory=list)
    by_label: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    greeting: list[float] = field(default_factory=list)
    greeting_llm_requests: list[int] = field(default_factory=list)
    handoff_gap: list[float] = field(default_factory=list)  # handoff tool call -> next step
    tool_gap: list[float] = field(default_factory=list)  # plain tool call -> next request
    handoff_generations: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    bare_handoff_generations: list[int] = field(default_factory=list)
    agents_heard: set[str] = field(default_factory=set)
    calls: int = 0
    spans: list[tuple[float, float]] = field(default_factory=list)  # each turn's wall clock


async def run_call(fs: Firestore, script: ScriptedCall, out: TurnResults, db: Any,
                   catalog: Any) -> None:
    call = await open_voice_call(db, catalog, list(script.steps))
    try:
        out.greeting.append(call.greeting_ms)
        out.greeting_llm_requests.append(call.greeting_llm_requests)
        for turn in script.turns:
            began = time.time()
            timing_ = await call.turn(turn.says, turn.label)
            out.spans.append((began, time.time()))
            out.overhead.append(timing_.overhead_ms)
            out.by_label[turn.label].append(timing_.overhead_ms)
            out.agents_heard.add(call.session.current_agent.id)
        await call.settle()
        if call.llm.overrun or call.llm.steps:
            raise RuntimeError(f"{script.name} call went off script: {len(call.llm.steps)} steps "
                               f"left, overrun={call.llm.overrun}")
        _step_gaps(script, call.request_times, [r.at for r in call.sink.replies], out)
        out.calls += 1
    finally:
        await call.close()


def _step_gaps(script: ScriptedCall, requests: list[float], replies: list[float],
               out: TurnResults) -> None:
    """Per tool-call step: how long until the next request or audio, and for a handoff how many
    generations the receiving agent needed before the caller heard it."""
    for i, step in enumerate(script.steps):
        if not isinstance(step, Call) or i >= len(requests):
            continue
        at = requests[i]
        heard = next((r for r in replies if r > at), None)
        nxt = requests[i + 1] if i + 1 < len(requests) else None
        following = min(t for t in (heard, nxt) if t is not None) if (heard or nxt) else None
        if following is None:
            continue
        gap_ms = (following - at) * 1000
        if step.name in HANDOFF_TOOLS:
            out.handoff_gap.append(gap_ms)
            before_heard = [j for j in range(i + 1, len(requests))
                            if heard is None or requests[j] < heard]
            kinds = [script.steps[j] for j in before_heard]
            out.handoff_generations[step.name].append(len(kinds))
            if not any(isinstance(k, Call) for k in kinds):  # nothing to do but answer
                out.bare_handoff_generations.append(len(kinds))
        elif step.name in PLAIN_TOOLS:
            out.tool_gap.append(gap_ms)


def _time_saves(db: Any) -> list[float]:
    """Wrap the manager's save calls on this instance: how much of a confirm turn is Firestore."""
    took: list[float] = []
    for name in ("save_order", "book_reservation"):
        original = getattr(db, name)

        async def timed(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await _original(*args, **kwargs)
            finally:
                took.append((time.perf_counter() - t0) * 1000)

        setattr(db, name, timed)
    return took


async def measure(fs: Firestore, min_turns: int, warm_up: bool = True) -> dict[str, Any]:
    out = TurnResults()
    n = 0
    async with fs.fresh() as (db, catalog):
        saves = _time_saves(db)
        # one warm-up cycle (first imports, first RPC channel) that is not counted
        for script in cycle(10_000) if warm_up else []:
            await run_call(fs, script, TurnResults(), db, catalog)
        counted_from = len(saves)
        while len(out.overhead) < min_turns:
            for script in cycle(n):
                await run_call(fs, script, out, db, catalog)
            n += 1
        saves_ms = saves[counted_from:]
    handoff_gen = {k: max(v) for k, v in sorted(out.handoff_generations.items())}
    return {
        "turn_overhead_ms": timing(out.overhead),
        "turn_overhead_by_kind_ms": {
            label: {**summary(v, 50, 95), "n": len(v)} for label, v in sorted(out.by_label.items())
        },
        "confirm_turn_firestore_ms": timing(saves_ms),
        "agents_heard": sorted(out.agents_heard),
        "handoff_llm_generations": max(out.bare_handoff_generations),
        "handoff_llm_generations_by_tool": handoff_gen,
        "handoff_overhead_ms": timing(out.handoff_gap),
        "tool_step_ms": timing(out.tool_gap),
        "handoff_extra_over_tool_step_ms": round(
            statistics.median(out.handoff_gap) - statistics.median(out.tool_gap), 2),
        "greeting_ms": timing(out.greeting),
        "greeting_llm_calls": max(out.greeting_llm_requests),
        "scripted_calls": out.calls,
    }
