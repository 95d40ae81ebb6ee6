"""The conversation a fake call follows, shared by the fake STT and the fake LLM.

A script is YAML (or JSON):

```yaml
caller:                 # what the fake STT "hears", one entry per speech segment, in order
  - "I'd like a large cappuccino"
  - "That's all, thanks"
  - {text: "Quiero un café", language: es}   # reported as Spanish in Deepgram's `multi` mode
  - {text: "Do you have", continues: true}    # a first half: the caller pauses, then goes on
llm:                    # rules tried in order against the latest user message
  - when: "cappuccino"  # regex, case-insensitive; "" or omitted matches anything
    steps:              # used one per chat request answering that same user message
      - tool_calls:
          - name: add_item
            arguments: {item: "cappuccino", size: "large", quantity: 1}
      - text: "One large cappuccino. Anything else?"
  - when: "that's all"
    steps:
      - tool_calls: [{name: end_call, arguments: {}}]
      - text: ""
  - when: "leave a message"
    offers: save_prediction  # only requests offering this tool (LiveKit's voicemail detector)
    steps:
      - tool_calls: [{name: save_prediction, arguments: {label: "machine-vm"}}]
steps: []               # optional: answers, in order, for requests no rule matches
```

A step is `{text, tool_calls}` or just a string (text only).

Tool-call argument strings may pull a value from an earlier tool result in the same chat:
`"{{tool:start_order}}"` is the whole result text of the latest `start_order` call and
`"{{tool:start_order.order_id}}"` is a field of its JSON result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class Rule:
    when: str
    steps: tuple[Step, ...]
    offers: str = ""  # the rule answers only requests that offer this tool

    def matches(self, user_text: str, offered: frozenset[str] = frozenset()) -> bool:
        if (self.offers in offered) != bool(self.offers):
            return False
        return re.search(self.when, user_text, flags=re.IGNORECASE) is not None


def _steps(raw: Any) -> tuple[Step, ...]:
    steps = []
    for s in raw or []:
        if isinstance(s, str):
            steps.append(Step(text=s))
            continue
        calls = tuple(
            ToolCall(name=c["name"], arguments=dict(c.get("arguments") or {}))
            for c in s.get("tool_calls", []) or []
        )
        steps.append(Step(text=str(s.get("text", "") or ""), tool_calls=calls))
    return tuple(steps)


@dataclass(frozen=True)
class Script:
    caller: tuple[str, ...] = ()
    # The language of each caller line ("en" unless given), reported in `multi` mode.
    caller_languages: tuple[str, ...] = ()
    # Whether the caller goes on after each line (a pause inside a sentence): the Flux fake
    # (fakes/deepgram_flux.py) gives such a pause a low end-of-turn confidence.
    caller_continues: tuple[bool, ...] = ()
    rules: tuple[Rule, ...] = ()
    steps: tuple[Step, ...] = ()  # used in order by requests no rule matches
    fallback: str = "Sorry, could you say that again?"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Script:
        rules = [
            Rule(when=str(raw.get("when", "") or ""), steps=_steps(raw.get("steps")),
                 offers=str(raw.get("offers", "") or ""))
            for raw in data.get("llm", []) or []
        ]
        said = [t if isinstance(t, dict) else {"text": t} for t in data.get("caller", []) or []]
        return cls(
            caller=tuple(str(t.get("text", "")) for t in said),
            caller_languages=tuple(str(t.get("language") or "en") for t in said),
            caller_continues=tuple(bool(t.get("continues")) for t in said),
            rules=tuple(rules),
            steps=_steps(data.get("steps")),
            fallback=str(data.get("fallback", cls.fallback)),
        )

    @classmethod
    def load(cls, path: str | Path) -> Script:
        return cls.from_dict(yaml.safe_load(Path(path).read_text()) or {})

    def language_of(self, index: int) -> str:
        langs = self.caller_languages
        return langs[index] if index < len(langs) else "en"

    def continues(self, index: int) -> bool:
        flags = self.caller_continues
        return flags[index] if index < len(flags) else False

    def tool_names(self) -> set[str]:
        return {c.name for r in self.rules for s in r.steps for c in s.tool_calls}


# --- reading an OpenAI chat request ---------------------------------------------------------


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return " ".join(str(p.get("text", "")) for p in parts)
    return ""


def latest_user_turn(messages: list[dict[str, Any]]) -> tuple[str, int]:
    """The latest user message and how many assistant messages came after it."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            after = sum(1 for m in messages[i + 1 :] if m.get("role") == "assistant")
            return message_text(messages[i]), after
    return "", sum(1 for m in messages if m.get("role") == "assistant")


def tool_results(messages: list[dict[str, Any]]) -> dict[str, str]:
    """Latest result text of each tool name, matching tool messages to their calls."""
    names: dict[str, str] = {}
    results: dict[str, str] = {}
    for m in messages:
        for call in m.get("tool_calls") or []:
            fn = call.get("function") or {}
            names[str(call.get("id"))] = str(fn.get("name"))
        if m.get("role") == "tool":
            name = names.get(str(m.get("tool_call_id")))
            if name:
                results[name] = message_text(m)
    return results


_TEMPLATE = re.compile(r"\{\{tool:([A-Za-z0-9_\-]+)(?:\.([A-Za-z0-9_\-.]+))?\}\}")


def _lookup(result: str, path: str | None) -> Any:
    if path is None:
        return result
    try:
        value: Any = json.loads(result)
    except json.JSONDecodeError:
        return None
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def render_arguments(arguments: Any, results: dict[str, str]) -> Any:
    if isinstance(arguments, dict):
        return {k: render_arguments(v, results) for k, v in arguments.items()}
    if isinstance(arguments, list):
        return [render_arguments(v, results) for v in arguments]
    if isinstance(arguments, str):
        whole = _TEMPLATE.fullmatch(arguments)
        if whole:
            return _lookup(results.get(whole.group(1), ""), whole.group(2))
        return _TEMPLATE.sub(
            lambda m: str(_lookup(results.get(m.group(1), ""), m.group(2)) or ""), arguments
        )
    return arguments


class Responder:
    """Picks the answer to each chat request.

    A rule's steps are used one after another by the requests that answer the same latest
    user message (so a turn may hop agents and chain tool calls in any context layout);
    requests no rule matches take the next of the script's global `steps`, if any.
    """

    def __init__(self, script: Script) -> None:
        self.script = script
        self._counters: dict[tuple[int, str], int] = {}
        self._global = 0

    def reset(self, script: Script) -> None:
        """Follow `script` from its start (one fake server, several calls)."""
        self.script = script
        self._counters.clear()
        self._global = 0

    def next(
        self, messages: list[dict[str, Any]], offered: frozenset[str] = frozenset()
    ) -> tuple[Step, str, int]:
        """The step to answer with, the user text it answers, and the step's index. A rule
        with `offers` answers only requests offering that tool; one without, only others."""
        user_text, _ = latest_user_turn(messages)
        for n, rule in enumerate(self.script.rules):
            if rule.matches(user_text, offered):
                key = (n, user_text)
                index = self._counters.get(key, 0)
                self._counters[key] = index + 1
                if index < len(rule.steps):
                    return rule.steps[index], user_text, index
                return Step(text=""), user_text, index
        if self._global < len(self.script.steps):
            self._global += 1
            return self.script.steps[self._global - 1], user_text, self._global - 1
        key = (-1, user_text)
        index = self._counters.get(key, 0)
        self._counters[key] = index + 1
        return Step(text=self.script.fallback if index == 0 else ""), user_text, index
