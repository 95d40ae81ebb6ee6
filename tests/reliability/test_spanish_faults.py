"""A Spanish-speaking caller whose call fails still hears Spanish: the hold line while the
fallback model is tried, the apology, the request for a message and the goodbye."""

from __future__ import annotations

from datetime import datetime

import pytest

from agents.language import retune, use_language
from domain.lines import say
from tests.conversation.harness import TZ, Phone
from tests.reliability.calls import open_guarded_call
from tests.reliability.test_llm_faults import FB, model_for, servers  # noqa: F401

pytestmark = pytest.mark.usefixtures("settle_tasks")


async def test_every_model_down_a_spanish_caller_hears_every_fixed_line_in_spanish(
        seeded_db, servers):  # noqa: F811
    primary, secondary = servers
    primary.mode, secondary.mode = "hang", "500"
    call = await open_guarded_call(
        seeded_db, model_for(primary, secondary), fb=FB,
        now=datetime(2026, 11, 22, 18, 0, tzinfo=TZ),  # Sunday evening: closed, no staff
        phone=Phone())
    use_language(call.userdata, "es", retune(call.session, call.userdata, {}))
    try:
        await call.caller_says("Hola, ¿me escucha?")
        await call.wait_for(lambda: say("es", "say_again") in call.timeline.texts())
        assert say("es", "hold").strip() in " ".join(call.timeline.texts())
        await call.caller_says("Quiero encargar un pastel de cumpleaños para el sábado")
        await call.wait_for(lambda: say("es", "take_message") in call.timeline.texts())
        await call.caller_says("Soy Marta, mi número es 617 555 0123, llámenme por el pastel")
        await call.wait_for(call.closed.is_set, within_s=5)
        assert call.timeline.texts()[-1] == say("es", "message_taken")
        english = [t for t in call.timeline.texts() if "I'm sorry" in t or "One moment" in t]
        assert english == [], english
    finally:
        await call.close()
