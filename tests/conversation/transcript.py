"""A call's transcript as a reader wants it: caller line, tool calls (with what they returned),
agent line. Written to $TRANSCRIPTS (a file) when set, for the notes of issue 27."""

from __future__ import annotations

import os

from livekit.agents import AgentSession


def transcript(session: AgentSession, width: int = 240) -> str:
    out: list[str] = []
    for item in session.history.items:
        if item.type == "message":
            who = "Caller" if item.role == "user" else "Agent"
            out.append(f"{who}: {item.text_content}")
        elif item.type == "function_call":
            out.append(f"    tool {item.name}({item.arguments})")
        elif item.type == "function_call_output":
            text = " ".join(str(item.output).split())
            text = text if len(text) <= width else text[:width] + " ..."
            out.append(f"      -> {'ERROR ' if item.is_error else ''}{text}")
        elif item.type == "agent_handoff":
            out.append(f"    [handoff to {item.new_agent_id}]")
    return "\n".join(out)


def record(title: str, session: AgentSession) -> str:
    """The transcript, appended under `title` to $TRANSCRIPTS when it is set."""
    text = transcript(session)
    path = os.environ.get("TRANSCRIPTS")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"\n### {title}\n\n```\n{text}\n```\n")
    return text
