"""One scenario as a call: a simulated caller talks to the real agents through `AgentSession` in
text mode, on the real Firestore emulator; what was saved is checked against the ground truth in
code, and LiveKit's judges look at the agent's turns for what only a model can judge.

The same harness runs two ways (tests/evals/__main__.py):
* real: the agents on OPENAI_MODEL, the caller an LLM playing the persona, real judges;
* fake (CI): the agents on the fake OpenAI server answering each scenario's scripted steps,
  the caller saying the scenario's scripted lines, the judges answered by the fake too.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Protocol

from livekit.agents import AgentSession, llm
from livekit.agents.evals import JudgmentResult, accuracy_judge
from livekit.agents.evals.judge import _LLMJudge

from agents.call import SESSION_OPTIONS, new_call, start_call
from conversation.state import CallServices
from domain.menu import Catalog
from store import FirebaseManager
from testkit.phone import CALLER, NOW, Phone
from testkit.records import make_reservation
from tests.evals import outcome
from tests.evals.scenario import Scenario

MAX_TURNS = 14
TURN_TIMEOUT_S = 90.0
HANG_UP = "[HANG UP]"
_ids = itertools.count(1)

CALLER_RULES = (
    "You are a caller phoning a restaurant, talking to its phone agent. Stay in your persona. "
    "Say only what the caller says: one short spoken utterance, no stage directions, no "
    "quotes. Answer what the agent asks; do not volunteer what your persona would not. When "
    f"your goal is reached, or the agent says goodbye, or you give up, reply exactly {HANG_UP}."
)
POLITENESS = (
    "The agent is a restaurant's phone agent. Pass if every agent turn is polite, warm and "
    "patient with the caller, including when it refuses or cannot help; fail on any rude, "
    "curt, dismissive or sarcastic turn."
)


class Caller(Protocol):
    async def next_line(self, agent_said: str) -> str | None: ...


class ScriptedCaller:
    """The CI run's caller: the scenario's lines, in order; then it hangs up."""

    def __init__(self, scenario: Scenario) -> None:
        self._lines = [t.say for t in scenario.turns]

    async def next_line(self, agent_said: str) -> str | None:
        return self._lines.pop(0) if self._lines else None


@dataclass
class Usage:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def watch(self, model: llm.LLM) -> Usage:
        def on_metrics(m: Any) -> None:
            self.requests += 1
            self.prompt_tokens += int(getattr(m, "prompt_tokens", 0) or 0)
            self.completion_tokens += int(getattr(m, "completion_tokens", 0) or 0)

        model.on("metrics_collected", on_metrics)
        return self


class LLMCaller:
    """The real run's caller: an LLM playing the persona (the agent's lines are its 'user')."""

    def __init__(self, model: llm.LLM, scenario: Scenario, usage: Usage) -> None:
        self._llm = model
        self._usage = usage
        self._ctx = llm.ChatContext()
        self._ctx.add_message(role="system", content=f"{CALLER_RULES}\n\n{scenario.persona}")

    async def next_line(self, agent_said: str) -> str | None:
        self._ctx.add_message(role="user", content=agent_said or "(silence)")
        reply = await self._llm.chat(chat_ctx=self._ctx).collect()
        if reply.usage is not None:
            self._usage.requests += 1
            self._usage.prompt_tokens += reply.usage.prompt_tokens
            self._usage.completion_tokens += reply.usage.completion_tokens
        text = reply.text.strip().strip('"')
        if not text or HANG_UP in text:
            return None
        self._ctx.add_message(role="assistant", content=text)
        return text


@dataclass
class Result:
    scenario: Scenario
    got: str = "nothing"
    problems: list[str] = field(default_factory=list)
    judges: dict[str, str] = field(default_factory=dict)  # name -> verdict
    agent: Usage = field(default_factory=Usage)
    caller: Usage = field(default_factory=Usage)
    judge: Usage = field(default_factory=Usage)
    turns: int = 0
    snapshot_writes: int = 0  # writes of the call's resumable state (conversation/call_snapshot)
    transcript: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.problems and not self.error and all(
            v == "pass" for v in self.judges.values())


def _said(session: AgentSession, since: int) -> str:
    items = session.history.items[since:]
    return " ".join((i.text_content or "") for i in items
                    if i.type == "message" and i.role == "assistant").strip()


async def converse(session: AgentSession, caller: Caller, greeting: str,
                   closed: asyncio.Event, result: Result) -> None:
    agent_said = greeting
    result.transcript.append(("agent", greeting))
    for _ in range(MAX_TURNS):
        line = await caller.next_line(agent_said)
        if line is None or closed.is_set():
            return
        result.transcript.append(("caller", line))
        result.turns += 1
        before = len(session.history.items)
        try:
            await asyncio.wait_for(session.run(user_input=line), TURN_TIMEOUT_S)
        except RuntimeError:  # closing: the agent hung up (end_call) in this turn or the last
            try:
                await asyncio.wait_for(closed.wait(), 5)
            except TimeoutError:
                raise RuntimeError("the session failed a turn without closing") from None
            result.transcript.append(("agent", _said(session, before)))
            return  # the agent hung up during the turn (end_call): the call is over
        agent_said = _said(session, before)
        result.transcript.append(("agent", agent_said))
        if closed.is_set():  # the agent hung up (end_call)
            return


async def judge(history: llm.ChatContext, judge_llm: llm.LLM, result: Result) -> None:
    """LiveKit's judges on the whole call: prices and facts only from tool results, manners."""
    judges = [accuracy_judge(judge_llm), _LLMJudge(llm=judge_llm, instructions=POLITENESS,
                                                   name="politeness")]
    for j in judges:
        try:
            verdict: JudgmentResult = await j.evaluate(chat_ctx=history)
        except Exception as e:  # no verdict is not a pass, and not the end of the run
            result.judges[j.name] = f"no verdict ({type(e).__name__})"
            continue
        result.judges[j.name] = str(verdict.verdict)


SETUP_CALL = "eval-setup"


async def book_beforehand(db: FirebaseManager, catalog: Catalog, scenario: Scenario) -> None:
    """The scenario's earlier bookings, held in the room as a call would hold them."""
    for n, (day, at, party) in enumerate(scenario.booked, start=1):
        res = make_reservation(SETUP_CALL, n, day=date.fromisoformat(day),
                               at=time.fromisoformat(at), party=party, name="Earlier Guest")
        await db.book_reservation(res, catalog.settings.seating, res.date)


async def run_scenario(scenario: Scenario, db: FirebaseManager, catalog: Catalog,
                       agent_llm: llm.LLM,
                       caller: Caller, judge_llm: llm.LLM | None, *,
                       now: datetime = NOW) -> Result:
    """One call from greeting to hang-up; `db` is the seeded restaurant, with no calls yet."""
    result = Result(scenario)
    await book_beforehand(db, catalog, scenario)
    phone = Phone()
    services = CallServices(db=db, catalog=catalog, clock=lambda: now,
                            transfer=phone.transfer)
    userdata = await new_call(f"eval-{scenario.id}-{next(_ids)}", services, CALLER,
                              "+16175550142")
    session: AgentSession = AgentSession(llm=agent_llm, userdata=userdata, **SESSION_OPTIONS)
    closed = asyncio.Event()
    session.on("close", lambda _: closed.set())
    try:
        handle = await start_call(session, userdata)
        if handle is not None:
            await handle
        greeting = session.history.items[-1].text_content or ""
        await converse(session, caller, greeting, closed, result)
        history = session.history.copy()
    except Exception as e:  # a crash is a failed scenario, reported, not the end of the run
        result.error = f"{type(e).__name__}: {e}"[:300]
        history = session.history.copy()
    finally:
        await session.aclose()
        await userdata.recorder.finish(session.history, "eval_end")
        if userdata.state_saver is not None:
            result.snapshot_writes = userdata.state_saver.writes
    usage = userdata.recorder.usage
    result.agent = Usage(int(usage["llm_requests"]), int(usage["llm_prompt_tokens"]),
                         int(usage["llm_completion_tokens"]))
    s = await outcome.saved(db, phone.transfers)
    result.got = s.outcome
    result.problems = outcome.problems(scenario.expect, s)
    if judge_llm is not None and not result.error:
        await judge(history, judge_llm, result)
    return result
