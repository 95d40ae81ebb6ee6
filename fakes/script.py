"""The conversation a fake call follows, shared by the fake STT and the fake LLM.

A script is YAML (or JSON):

```yaml
caller:                 # what the fake STT "hears", one entry per speech segment, in order
  - "I'd like a large cappuccino"
  - "That's all, thanks"
llm:                    # rules tried in order against the latest user message
  - when: "cappuccino"  # regex, case-insensitive; "" or omitted matches anything
    steps:              # the n-th answer after that user message (n = assistant turns since)
      - tool_calls:
          - name: add_item
            arguments: {item: "cappuccino", size: "large", quantity: 1}
      - text: "One large cappuccino. Anything else?"
  - when: "that's all"
    steps:
      - tool_calls: [{name: end_call, arguments: {}}]
      - text: ""
```

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

    def matches(self, user_text: str) -> bool:
        return re.search(self.when, user_text, flags=re.IGNORECASE) is not None


@dataclass(frozen=True)
class Script:
    caller: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    fallback: str = "Sorry, could you say that again?"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Script:
        rules = []
        for raw in data.get("llm", []) or []:
            steps = []
            for s in raw.get("steps", []) or []:
                calls = tuple(
                    ToolCall(name=c["name"], arguments=dict(c.get("arguments") or {}))
                    for c in s.get("tool_calls", []) or []
                )
                steps.append(Step(text=str(s.get("text", "") or ""), tool_calls=calls))
            rules.append(Rule(when=str(raw.get("when", "") or ""), steps=tuple(steps)))
        return cls(
            caller=tuple(str(t) for t in data.get("caller", []) or []),
            rules=tuple(rules),
            fallback=str(data.get("fallback", cls.fallback)),
        )

    @classmethod
    def load(cls, path: str | Path) -> Script:
        return cls.from_dict(yaml.safe_load(Path(path).read_text()) or {})

    def tool_names(self) -> set[str]:
        return {c.name for r in self.rules for s in r.steps for c in s.tool_calls}


# --- reading an OpenAI chat request ---------------------------------------------------------


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
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


def choose_step(script: Script, messages: list[dict[str, Any]]) -> tuple[Step, str, int]:
    """The step to answer with, the user text it answers, and its index in the rule."""
    user_text, index = latest_user_turn(messages)
    for rule in script.rules:
        if rule.matches(user_text):
            if index < len(rule.steps):
                return rule.steps[index], user_text, index
            return Step(text=""), user_text, index
    if index == 0:
        return Step(text=script.fallback), user_text, index
    return Step(text=""), user_text, index
