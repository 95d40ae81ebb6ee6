"""Everything a call leaves behind for staff: one call log, opened "in progress" when the call
starts (so a crash leaves a trace and the call is counted) and completed once when it closes."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime

from livekit.agents import llm
from livekit.agents.metrics.usage import (
    AgentSessionUsage,
    LLMModelUsage,
    STTModelUsage,
    TTSModelUsage,
)

from actions.state import CallState
from conversation.call_snapshot import SnapshotSaver
from domain.masking import mask_personal
from models import CallLog, TranscriptLine

logger = logging.getLogger("restaurant.call_log")


class CallRecorder:
    def __init__(self, userdata: CallState, started_at: datetime) -> None:
        self.userdata = userdata
        self.saver: SnapshotSaver | None = None  # closed once the log is written
        self.started_at = started_at
        self.usage: dict[str, float] = {
            "llm_requests": 0, "llm_prompt_tokens": 0, "llm_completion_tokens": 0,
            "tts_characters": 0, "tts_audio_s": 0.0, "stt_audio_s": 0.0,
        }
        self._written: asyncio.Task[None] | None = None
        self._opened: asyncio.Task[None] | None = None
        self.earlier: list[TranscriptLine] = []  # said before a crash, when a call resumed

    def open(self) -> asyncio.Task[None]:
        """Log the call as in progress, in the background: the greeting does not wait for it."""
        if self._opened is None:
            u = self.userdata
            day = self.started_at.astimezone(u.settings.tz).date()
            log = CallLog(call_id=u.call_id, caller=u.caller_phone, dialed=u.dialed,
                          restaurant_id=u.services.db.restaurant_id, started_at=self.started_at,
                          status="in_progress", resumed=u.resumed, analytics_day=day)
            self._opened = asyncio.ensure_future(self._open(log, day))
        return self._opened

    async def _open(self, log: CallLog, day: date) -> None:
        try:
            await self.userdata.services.db.open_call_log(log, day)
        except Exception:  # the completed log is still written at the end
            logger.exception("call log not opened", extra={"call_id": log.call_id})

    def on_usage(self, usage: AgentSessionUsage) -> None:
        """The session's running totals (`session_usage_updated`), per model, summed here.

        The event comes after every model's metrics; an LLM request is one whose tokens grew
        the LLM totals (every request has a prompt)."""
        totals = dict.fromkeys(self.usage, 0.0)
        for model in usage.model_usage:
            if isinstance(model, LLMModelUsage):
                totals["llm_prompt_tokens"] += model.input_tokens
                totals["llm_completion_tokens"] += model.output_tokens
            elif isinstance(model, TTSModelUsage):
                totals["tts_characters"] += model.characters_count
                totals["tts_audio_s"] += model.audio_duration
            elif isinstance(model, STTModelUsage):
                totals["stt_audio_s"] += model.audio_duration
        llm_tokens = totals["llm_prompt_tokens"] + totals["llm_completion_tokens"]
        seen = self.usage["llm_prompt_tokens"] + self.usage["llm_completion_tokens"]
        totals["llm_requests"] = self.usage["llm_requests"] + (1 if llm_tokens > seen else 0)
        self.usage = totals

    def build(self, history: llm.ChatContext, reason: str | None) -> CallLog:
        userdata = self.userdata
        ended = userdata.services.clock()
        transcript: list[TranscriptLine] = []
        latencies: list[float] = []
        for item in history.items:
            if item.type != "message" or item.role not in ("user", "assistant"):
                continue
            text = item.text_content or ""
            if text:
                # Kept: what was said. Not kept: numbers, e-mails, cards, street addresses (the
                # order or booking holds the ones it needs).
                transcript.append(TranscriptLine(role=item.role, text=mask_personal(text)))
            e2e = (item.metrics or {}).get("e2e_latency") if item.role == "assistant" else None
            if e2e is not None:
                latencies.append(round(e2e * 1000, 1))
        # said before a crash, from the snapshot (which masks only card numbers)
        earlier = [TranscriptLine(role=t.role, text=mask_personal(t.text)) for t in self.earlier]
        transcript = [*earlier, *transcript]
        return CallLog(
            call_id=userdata.call_id, caller=userdata.caller_phone, dialed=userdata.dialed,
            restaurant_id=userdata.services.db.restaurant_id,
            language=userdata.language, languages=list(userdata.languages_used),
            started_at=self.started_at, ended_at=ended,
            duration_s=round((ended - self.started_at).total_seconds(), 2),
            agents_visited=list(userdata.agents_visited), intents=list(userdata.intents),
            outcome=userdata.outcome(),  # type: ignore[arg-type]
            ids_created=list(userdata.ids_created), transcript=transcript,
            turn_latency_ms=latencies, usage=dict(self.usage), close_reason=reason,
            direction="outbound" if userdata.outbound else "inbound",
            outbound_call_id=userdata.outbound.call.id if userdata.outbound else None,
            resumed=userdata.resumed,
            analytics_day=self.started_at.astimezone(userdata.settings.tz).date(),
        )

    def finish(self, history: llm.ChatContext, reason: str | None) -> asyncio.Task[None]:
        """Write the log once, however many times the call is closed (hang-up, drain, end_call)."""
        if self._written is None:
            log = self.build(history, reason)
            self._written = asyncio.ensure_future(self._write(log))
        return self._written

    async def _write(self, log: CallLog) -> None:
        day = log.started_at.astimezone(self.userdata.settings.tz).date()
        try:
            result = await self.userdata.services.db.write_call_log(log, day)
        finally:
            if self.saver is not None:  # the call is over: nothing to resume
                await self.saver.close()
        logger.info(
            "call log written",
            extra={"call_id": log.call_id, "outcome": log.outcome, "status": result.status},
        )
