"""A caller scenario: a persona with a goal, the ground truth, and the scripted turns of the CI run.

`tests/evals/scenarios.yaml` holds the library. Each scenario:

```yaml
- id: order-large-latte
  persona: You are Dana ...            # what the simulated caller (an LLM) is told to be
  expect:                              # the ground truth, checked in code against what was saved
    outcome: order                     # order | booking | transfer | message | nothing
    name: Dana
    lines: [{item: latte, size: large, quantity: 1, options: [oat-milk]}]
  turns:                               # the CI run: what the caller says, and what the fake
    - say: A large oat latte please    # model answers (a string speaks; {tool, args} calls)
      agent: [{tool: start_order}, {tool: add_item, args: {item: latte}}, "What name?"]
```

`booking` checks `date`, `time`, `party_size` and `name` (an order call that also books a
table gives those under `and_booking`); `message` checks `name`; `transfer`
checks that the call went to staff; `nothing` that no order, booking or message was saved
(an item not on the menu, a prank, a refusal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fakes.script import Rule, Script, Step, ToolCall

LIBRARY = Path(__file__).with_name("scenarios.yaml")
OUTCOMES = ("order", "booking", "transfer", "message", "nothing")


@dataclass(frozen=True)
class Turn:
    say: str
    agent: tuple[Step, ...]


@dataclass(frozen=True)
class Scenario:
    id: str
    persona: str
    expect: dict[str, Any]
    turns: tuple[Turn, ...]
    tags: tuple[str, ...] = field(default_factory=tuple)
    # bookings already in the room before the call: [date, "HH:MM", party size] each
    booked: tuple[tuple[str, str, int], ...] = ()
    awaits: str = ""  # the issue whose fix this scenario's ground truth needs (reported)
    # when the call happens ("2026-11-20T22:00", the café's time zone; default Friday noon)
    # and the café's hours that day, if not its own (a late night: {fri: [{open, close}]})
    at: str = ""
    hours: dict[str, Any] | None = None

    @property
    def outcome(self) -> str:
        return str(self.expect["outcome"])

    def fake_script(self) -> Script:
        """What the fake OpenAI server answers in the CI run: each caller line's steps, and a
        pass from every judge (a request offering `submit_verdict`)."""
        said: dict[str, tuple[Step, ...]] = {}  # a line said twice continues the same rule
        for t in self.turns:
            said[t.say] = said.get(t.say, ()) + t.agent
        rules = [Rule(when=f"^{re.escape(line)}$", steps=steps) for line, steps in said.items()]
        verdict = Step(tool_calls=(ToolCall("submit_verdict", {
            "verdict": "pass", "reasoning": "scripted judge of the CI run"}),))
        rules.append(Rule(when="", steps=(verdict,), offers="submit_verdict"))
        return Script(rules=tuple(rules), fallback="")


def _step(raw: Any) -> Step:
    if isinstance(raw, str):
        return Step(text=raw)
    return Step(tool_calls=(ToolCall(str(raw["tool"]), dict(raw.get("args") or {})),))


def _scenario(raw: dict[str, Any]) -> Scenario:
    expect = dict(raw["expect"])
    if expect.get("outcome") not in OUTCOMES:
        raise ValueError(f"scenario {raw.get('id')}: outcome must be one of {OUTCOMES}")
    turns = tuple(Turn(str(t["say"]), tuple(_step(s) for s in t.get("agent") or []))
                  for t in raw.get("turns") or [])
    if not turns:
        raise ValueError(f"scenario {raw.get('id')}: no scripted turns")
    return Scenario(id=str(raw["id"]), persona=str(raw["persona"]).strip(), expect=expect,
                    turns=turns, tags=tuple(raw.get("tags") or ()),
                    booked=tuple((str(d), str(t), int(n)) for d, t, n in raw.get("booked") or []),
                    awaits=str(raw.get("awaits") or ""), at=str(raw.get("at") or ""),
                    hours=raw.get("hours"))


def load(path: Path = LIBRARY, only: list[str] | None = None) -> list[Scenario]:
    scenarios = [_scenario(r) for r in yaml.safe_load(path.read_text())]
    ids = [s.id for s in scenarios]
    if len(ids) != len(set(ids)):
        raise ValueError("scenario ids must be unique")
    if only:
        scenarios = [s for s in scenarios if any(s.id.startswith(o) for o in only)]
    return scenarios
