"""A phone call in text: the real agents and AgentSession, a scripted LLM, the real emulator."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from google.api_core import exceptions as gexc
from livekit.agents import AgentSession
from livekit.agents.voice.run_result import RunResult

from actions.texts import Texts
from agents.call import SESSION_OPTIONS, new_call, start_call
from conversation.state import CallServices, UserData
from domain.menu import Catalog
from store import FirebaseManager
from store.outbox import Outbox
from testkit.phone import CALLER, NOW, TZ, Phone, catalog_from
from testkit.scripted_llm import ScriptedLLM, Step

__all__ = [
    "CALLER", "NOW", "OPENED", "SAVED_COLLECTIONS", "TZ", "Call", "Phone", "catalog_from",
    "count_docs", "open_call", "tool_output",
]

_ids = itertools.count(1)
OPENED: list[ScriptedLLM] = []  # every call's LLM, checked after each test (conftest)


@dataclass
class Call:
    session: AgentSession
    llm: ScriptedLLM
    userdata: UserData
    phone: Phone
    greeting: str
    closed: asyncio.Event

    async def caller_says(self, text: str) -> RunResult:
        return await self.session.run(user_input=text)

    async def hang_up(self) -> None:
        """The caller leaves: the session closes and the call log is written."""
        await self.session.aclose()
        await self.userdata.recorder.finish(self.session.history, "participant_disconnected")

    async def hung_up_by_agent(self) -> dict:
        """Waits for the agent's own hang-up (end_call) and returns the call log written for it."""
        async with asyncio.timeout(5):
            await self.closed.wait()
        await self.userdata.recorder.finish(self.session.history, "unexpected")
        return await self.call_log()

    async def call_log(self) -> dict:
        await self.userdata.recorder.finish(self.session.history, "test_end")
        doc = await self.userdata.services.db.db.collection("call_logs").document(
            self.userdata.call_id).get()
        assert doc.exists, "the call log was not written"
        return doc.to_dict()

    @property
    def agent_id(self) -> str:
        return self.session.current_agent.id


async def open_call(
    db: FirebaseManager,
    *steps: Step,
    caller: str | None = CALLER,
    now: datetime = NOW,
    phone: Phone | None = None,
    catalog: Catalog | None = None,
) -> Call:
    llm = ScriptedLLM(list(steps))
    OPENED.append(llm)
    phone = phone or Phone()
    services = CallServices(
        db=db, catalog=catalog or await catalog_from(db), clock=lambda: now,
        transfer=phone.transfer,
    )
    userdata = await new_call(f"call-test-{next(_ids)}", services, caller, "+16175550142")
    session: AgentSession = AgentSession(llm=llm, userdata=userdata, **SESSION_OPTIONS)
    closed = asyncio.Event()
    session.on("close", lambda _: closed.set())
    handle = await start_call(session, userdata)
    await handle
    greeting = session.history.items[-1].text_content or ""
    return Call(session=session, llm=llm, userdata=userdata, phone=phone, greeting=greeting,
                closed=closed)


async def count_docs(db: FirebaseManager, *collections: str) -> dict[str, int]:
    counts = {}
    for name in collections:
        counts[name] = len([d async for d in db.db.collection(name).stream()])
    return counts


SAVED_COLLECTIONS = ("orders", "reservations", "messages", "customers", "seating")


def tool_output(result: RunResult, name: str) -> tuple[str, bool]:
    """The output text and error flag of the first call of tool `name` in this turn."""
    for i, ev in enumerate(result.events):
        if ev.type == "function_call" and ev.item.name == name:
            out = next(e for e in result.events[i + 1:] if e.type == "function_call_output")
            return str(out.item.output), bool(out.item.is_error)
    raise AssertionError(f"{name} was not called; events: {[e.type for e in result.events]}")


def offer_texts_without_sending(call: Call, db: FirebaseManager, folder: Path) -> None:
    """Texts configured without Twilio: the agent offers a text after a save, none is sent."""
    no_twilio = None
    call.userdata.services.texts = Texts(no_twilio, Outbox(folder / "sms.jsonl"),
                                         db.for_restaurant)


def firestore_unreachable(monkeypatch: pytest.MonkeyPatch, db: FirebaseManager,
                          *methods: str) -> None:
    """These store methods fail as with Firestore down, with no retry budget to wait out."""
    async def unreachable(*_: object) -> None:
        raise gexc.ServiceUnavailable("Firestore is down")

    for name in methods:
        monkeypatch.setattr(db, name, unreachable)
    monkeypatch.setattr(db, "retry_budget_s", 0.0)
