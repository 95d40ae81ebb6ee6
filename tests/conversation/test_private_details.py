"""A whole call through the real agents and the emulator: what the caller said about
themselves is masked in the call log's transcript and in the message text, and the order keeps
the one phone number it needs."""

from __future__ import annotations

from testkit.scripted_llm import Call
from tests.conversation.harness import open_call

SAID = ("A croissant please. I'm Dana, 617 555 0123, email dana.w@example.com, "
        "I live at 42 Elm Street, Apt 3, Boston MA 02110.")


async def test_transcript_and_message_keep_no_contact_details(seeded_db):
    call = await open_call(
        seeded_db,
        Call("start_order"),
        Call("add_item", {"item": "croissant"}),
        Call("set_customer", {"name": "Dana", "phone": "617 555 0123"}),
        Call("review_order"),
        Call("confirm"),
        "Placed, Dana. Anything else?",
        Call("take_message", {"name": "Dana", "phone": "617 555 0123",
                              "reason": "Call me at 617-555-0123 or dana.w@example.com "
                                        "about catering at 42 Elm Street"}),
        "I'll pass that on.",
    )
    await call.caller_says(SAID)
    await call.caller_says("Yes, that's right")
    await call.caller_says("Also, a message about catering at 42 Elm Street, email me")
    log = await call.call_log()

    transcript = " ".join(line["text"] for line in log["transcript"])
    messages = [d.to_dict() async for d in seeded_db.db.collection("messages").stream()]
    orders = [d.to_dict() async for d in seeded_db.db.collection("orders").stream()]
    stored = transcript + str(messages)
    for private in ("555 0123", "555-0123", "dana.w", "example.com", "Elm Street", "02110"):
        assert private not in stored, private
    assert "[phone]" in transcript and "[email]" in transcript and "[address]" in transcript
    assert "croissant" in transcript.lower()  # the rest of what was said is kept
    assert messages[0]["reason"].startswith("Call me at [phone] or [email] about catering")
    assert messages[0]["phone"] == "+16175550123"  # staff can still call back
    assert orders[0]["customer_phone"] == "+16175550123"


async def test_a_recorded_line_says_so_before_anything_else(seeded_db):
    await seeded_db.db.document("settings/restaurant").update(
        {"record_calls": True, "recording_notice": "This call is recorded."})
    call = await open_call(seeded_db)
    assert call.greeting.startswith("This call is recorded. Thanks for calling")


async def test_an_unrecorded_line_does_not_mention_recording(seeded_db):
    call = await open_call(seeded_db)
    assert "record" not in call.greeting.lower()


async def test_staff_hear_who_calls_what_they_want_and_the_order_so_far(seeded_db):
    from actions.staff import staff_briefing

    call = await open_call(
        seeded_db,
        Call("start_order"),
        Call("add_item", {"item": "croissant"}),
        Call("set_customer", {"name": "Dana", "phone": "617 555 0123"}),
        "Anything else, Dana?",
    )
    await call.caller_says("A croissant, I'm Dana, 617 555 0123")
    said = staff_briefing(call.userdata, "wants to add a birthday cake, call 617-555-0123")
    assert said.startswith("Call from Dana. They want: wants to add a birthday cake")
    assert "Croissant" in said or "croissant" in said
    assert "Order so far:" in said and "total $" in said
    assert "555" not in said  # staff get the context, not the caller's number


async def test_staff_are_briefed_in_their_language_and_told_the_callers(seeded_db):
    """Issue 26 §4: a kitchen that speaks Spanish hears the briefing in Spanish (and in the
    Spanish voice, telephony/staff_phone.py), told when the caller speaks another language."""
    from actions.staff import staff_briefing

    call = await open_call(
        seeded_db,
        Call("start_order"),
        Call("add_item", {"item": "croissant"}),
        Call("set_customer", {"name": "Dana", "phone": "617 555 0123"}),
        "Anything else, Dana?",
    )
    await call.caller_says("A croissant, I'm Dana, 617 555 0123")
    settings = call.userdata.settings
    call.userdata.services.catalog.replace_settings(settings.model_copy(
        update={"staff_language": "es"}))
    said = staff_briefing(call.userdata, "wants a birthday cake, call 617-555-0123")
    assert said.startswith("Llamada de Dana. Quiere: wants a birthday cake")
    assert "La persona habla inglés." in said
    assert "Pedido hasta ahora: 1 Butter Croissant, total 3 dólares con 98 centavos." in said
    assert "555" not in said
    # staff and caller speaking the same language: no word about it; English as before
    call.userdata.language = "es"
    assert "La persona habla" not in staff_briefing(call.userdata, "un pastel")
    call.userdata.services.catalog.replace_settings(settings)
    english = staff_briefing(call.userdata, "a cake")
    assert english.startswith("Call from Dana. They want: a cake. The caller speaks Spanish.")
    await call.hang_up()
