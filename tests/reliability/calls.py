"""Calls for the reliability tests: the real agents and session, providers from worker/providers.py
(the real OpenAI plugin behind LiveKit's FallbackAdapter) and the CallGuard, as main.py wires
them; text in, so the timeline of what the caller would hear can be measured."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from datetime import datetime

from livekit.agents import AgentSession, llm
from pydantic import SecretStr

from agents.call import SESSION_OPTIONS, new_call, start_call
from agents.recovery import CallGuard, guard_call
from config import Settings
from conversation.state import CallServices, UserData
from store import FirebaseManager
from tests.conversation.harness import CALLER, NOW, Phone, catalog_from
from worker import providers

_seq = iter(range(1, 1_000_000))


def settings_for(primary_url: str, **extra: object) -> Settings:
    return Settings(
        openai_api_key=SecretStr("sk-test-primary"), deepgram_api_key=SecretStr("dg-test"),
        cartesia_api_key=SecretStr("ct-test"), openai_base_url=primary_url,
        openai_model="gpt-4o-mini", **extra,  # type: ignore[arg-type]
    )


@dataclass
class Timeline:
    """What the caller would hear, on the monotonic clock."""

    states: list[tuple[float, str]] = field(default_factory=list)
    said: list[tuple[float, str, str]] = field(default_factory=list)  # (t, role, text)

    def speaking_after(self, t0: float) -> list[float]:
        return [t for t, s in self.states if s == "speaking" and t >= t0]

    def first_speech_after(self, t0: float) -> float:
        starts = self.speaking_after(t0)
        assert starts, f"nothing was said after the caller's turn; states {self.states}"
        return starts[0] - t0

    def texts(self, role: str = "assistant") -> list[str]:
        return [text for _, r, text in self.said if r == role]


@dataclass
class GuardedCall:
    session: AgentSession
    userdata: UserData
    guard: CallGuard
    phone: Phone
    timeline: Timeline
    closed: asyncio.Event

    async def caller_says(self, text: str, *, within_s: float = 15.0) -> float:
        """Run the caller's turn; returns when it started. A failed model raises inside the
        session's run; the guard's reaction is what the tests look at, so that is swallowed."""
        t0 = time.monotonic()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.session.run(user_input=text), within_s)
        return t0

    async def wait_for(self, check, within_s: float = 10.0) -> None:
        deadline = time.monotonic() + within_s
        while not check():
            assert time.monotonic() < deadline, "condition not met in time"
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.session.aclose(), 10)
        await self.userdata.recorder.finish(self.session.history, "test_end")


async def open_guarded_call(
    db: FirebaseManager,
    model: llm.LLM,
    *,
    fb: providers.ProviderSettings,
    phone: Phone | None = None,
    now: datetime = NOW,
    caller: str | None = CALLER,
    transfer_to: str | None = "sip:staff@restaurant.test",
) -> GuardedCall:
    phone = phone or Phone()
    catalog = await catalog_from(db)
    staff = {"staff_transfer_to": transfer_to or ""}
    catalog.replace_settings(catalog.settings.model_copy(update=staff))
    services = CallServices(db=db, catalog=catalog, clock=lambda: now, transfer=phone.transfer)
    userdata = await new_call(f"call-rel-{next(_seq)}", services, caller, "+16175550142")
    session: AgentSession = AgentSession(
        llm=model, userdata=userdata, conn_options=providers.session_conn_options(fb),
        **SESSION_OPTIONS,
    )
    timeline = Timeline()
    closed = asyncio.Event()
    session.on("agent_state_changed",
               lambda ev: timeline.states.append((time.monotonic(), ev.new_state)))

    def item(ev) -> None:
        if isinstance(ev.item, llm.ChatMessage):
            timeline.said.append((time.monotonic(), ev.item.role, ev.item.text_content or ""))

    session.on("conversation_item_added", item)
    session.on("close", lambda _: closed.set())
    greeting = await start_call(session, userdata)
    guard = guard_call(session, userdata)
    await greeting
    return GuardedCall(session, userdata, guard, phone, timeline, closed)
