"""A Spanish-speaking caller with audio both ways: the real Deepgram plugin in nova-3's `multi`
mode against the fake Deepgram (which reports each transcript's language), the real Cartesia
plugin against the fake Cartesia (which records each request's language and voice), the
scripted LLM. The caller's first Spanish words switch the TTS to Spanish with the restaurant's
Spanish voice, the read-back goes to the TTS in Spanish, and the turn detector is asked about
Spanish."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from livekit.agents import AgentSession
from livekit.agents.utils import http_context

from agents.call import SESSION_OPTIONS, new_call, start_call
from agents.language import default_voices, follow_caller, provider_languages
from conversation.state import CallServices
from fakes import cartesia_tts, deepgram_stt
from fakes.script import Script
from testkit.scripted_llm import Call, ScriptedLLM
from tests.conversation.harness import CALLER, NOW, Phone, catalog_from
from tests.reliability.audio_call import CallerAudio, Speaker, serve
from tests.reliability.calls import settings_for
from worker import providers

SAID = ("Hola, quiero pedir un croissant para recoger por favor", "A nombre de Sofía Ramírez")


class TurnDetectorSpy:
    """A turn detector that always says "done" and notes the languages it was asked about."""

    def __init__(self) -> None:
        self.languages: list[str | None] = []

    @property
    def model(self) -> str:
        return "spy"

    @property
    def provider(self) -> str:
        return "test"

    async def unlikely_threshold(self, language: Any) -> float | None:
        return 0.5

    async def supports_language(self, language: Any) -> bool:
        self.languages.append(str(language) if language else None)
        return True

    async def predict_end_of_turn(  # LiveKit's protocol names the argument
            self, chat_ctx: Any, *, timeout: float | None = None) -> float:  # noqa: ASYNC109
        return 1.0


async def _until(check: Any, within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_spanish_caller_hears_spanish_with_the_spanish_voice(seeded_db):
    await seeded_db.db.document("settings/restaurant").update({
        "languages": ["en", "es"], "voices": {"es": "voice-es-lupe"},
        "lines": {"es": {"recording_notice": "Esta llamada se graba.",
                         "large_party_note": "Para grupos grandes, llame al gerente."}}})
    stt_app = deepgram_stt.create_app(Script(caller=SAID, caller_languages=("es", "es")),
                                      hangover=0.3)
    tts_app = cartesia_tts.create_app(max_tone_seconds=0.4)
    stt_runner, stt_url = await serve(stt_app)
    tts_runner, tts_url = await serve(tts_app)
    spoken = tts_app[cartesia_tts.STATE_KEY]["spoken"]
    llm = ScriptedLLM([
        Call("start_order"), Call("add_item", {"item": "croissant"}),
        "Un Croissant. ¿A nombre de quién?",
        Call("set_customer", {"name": "Sofía Ramírez"}), Call("review_order"),
    ])
    spy = TurnDetectorSpy()
    try:
        async with http_context.open():
            settings = settings_for("http://127.0.0.1:9/v1",
                                    deepgram_base_url=f"{stt_url}/v1/listen",
                                    cartesia_base_url=tts_url, cartesia_voice_id="voice-en")
            phone = Phone()
            services = CallServices(db=seeded_db, catalog=await catalog_from(seeded_db),
                                    clock=lambda: NOW, transfer=phone.transfer)
            userdata = await new_call("call-es-audio", services, CALLER, "+16175550142")
            p = providers.build(settings, **provider_languages(userdata, settings))
            session = AgentSession(stt=p.stt, llm=llm, tts=p.tts, userdata=userdata,
                                   conn_options=p.conn_options,
                                   turn_handling={"turn_detection": spy}, **SESSION_OPTIONS)
            caller, speaker = CallerAudio(), Speaker()
            session.input.audio = caller
            session.output.audio = speaker
            follow_caller(session, userdata, default_voices(settings))
            try:
                await start_call(session, userdata)
                await _until(lambda: any("Thanks for calling" in s["text"] for s in spoken),
                             10, "no greeting")
                await asyncio.sleep(1.0)
                caller.say(1.0)
                await _until(lambda: any("¿A nombre de quién?" in s["text"] for s in spoken),
                             15, f"no Spanish reply: {spoken}")
                caller.say(1.0)
                await _until(lambda: any("Le repito su pedido" in s["text"] for s in spoken),
                             15, f"no Spanish read-back: {spoken}")
            finally:
                await session.aclose()
    finally:
        await stt_runner.cleanup()
        await tts_runner.cleanup()

    queries = stt_app[deepgram_stt.STATE_KEY]["queries"]
    assert queries and all(q.get("language") == "multi" for q in queries), queries
    greeting = [s for s in spoken if "Thanks for calling" in s["text"]]
    assert all(s["language"] == "en" and s["voice"] == "voice-en" for s in greeting), greeting
    first_spanish = next(i for i, s in enumerate(spoken) if "¿A nombre" in s["text"])
    after = spoken[first_spanish:]
    assert all(s["language"] == "es" and s["voice"] == "voice-es-lupe" for s in after), after
    readback = " ".join(s["text"] for s in after)
    assert "1 Butter Croissant" in readback and "dólares con" in readback
    assert "seis uno siete" in readback and "Sofía Ramírez" in readback
    assert "es" in spy.languages, spy.languages
    assert userdata.language == "es" and not llm.overrun
