"""A crashed call is resumed at its own restaurant and in its caller's language: the snapshot
lives under the restaurant (never visible to another), and the agent that picks the call up
apologises and carries on in Spanish when the caller was being served in Spanish."""

from __future__ import annotations

from agents.language import follow_caller
from conversation.call_snapshot import load_for
from testkit.scripted_llm import Call as ToolCall
from tests.conversation.harness import open_call
from tests.conversation.test_resume import _resume, _saved_state
from tests.conversation.test_spanish import VOICES, _offer_spanish, says

OTHER = "casa-lupita"


async def test_a_spanish_call_resumed_after_a_crash_carries_on_in_spanish(seeded_db):
    await _offer_spanish(seeded_db)
    first = await open_call(
        seeded_db, ToolCall("start_order"), ToolCall("add_item", {"item": "a large cap"}),
        "Un Cappuccino grande. ¿A nombre de quién?",
    )
    follow_caller(first.session, first.userdata, VOICES)
    await says(first, "Hola, quiero un cappuccino grande por favor", "es")
    state = await _saved_state(first, "order")  # the job dies here
    assert state.language == "es" and state.languages == ["en", "es"]
    # the snapshot is the restaurant's: another restaurant sees no such call
    assert await load_for(seeded_db.for_restaurant(OTHER), first.userdata.call_id) is None
    snaps = [s.id async for s in seeded_db.db.collection("call_snapshots").stream()]
    assert first.userdata.call_id in snaps

    second = await _resume(first, state)
    assert second.userdata.language == "es"
    assert second.greeting == ("Disculpe, se cortó la llamada. Lleva 1 Cappuccino, Large por "
                               "ahora. ¿Qué más desea, o le repito su pedido?"), second.greeting
