"""A booking saved with the guest's text consent gets its reminder by text, scheduled by itself
on the outbound queue's text channel (the dialer sends it: tests/test_dialer_texts.py); a guest
who said no gets none. Real agents, scripted LLM, the emulator, Twilio's fake."""

from __future__ import annotations

from datetime import UTC, datetime

from actions.texts import Texts
from store.outbox import Outbox
from testkit.scripted_llm import Call
from testkit.square import serve_twilio
from tests.conversation.harness import CALLER, open_call, tool_output


def _booking(day: str, *after) -> list:
    return [Call("start_reservation", {"action": "new"}),
            Call("check_availability", {"date": day, "time": "19:00", "party_size": 2}),
            "Seven is free. What name?",
            Call("book_table", {"date": day, "time": "19:00", "party_size": 2,
                                "name": "Priya Shah"}),
            Call("confirm"),
            "You're booked. Want a text with the booking? Anything else?", *after]


async def _book(db, twilio, tmp_path, steps):
    call = await open_call(db, *steps)
    call.userdata.services.texts = Texts(twilio.client(), Outbox(tmp_path / "sms.jsonl"),
                                         db.for_restaurant)
    await call.caller_says("A table for two at seven please")
    await call.caller_says("Priya Shah")
    result = await call.caller_says("Yes")
    said, is_error = tool_output(result, "confirm")
    assert not is_error and "Booked" in said, said
    return call


async def _reminders(db) -> dict[str, dict]:
    return {d.id: d.to_dict() async for d in db.db.collection("outbound_calls").stream()}


async def test_a_yes_to_texts_schedules_the_bookings_text_reminder_and_the_next_ones(
        seeded_db, tmp_path):
    db = seeded_db
    async with serve_twilio() as twilio:
        call = await _book(db, twilio, tmp_path, _booking(
            "2026-11-21", Call("send_text"), "On its way. Anything else?"))
        assert await _reminders(db) == {}, "nothing before the caller's yes"
        said, is_error = tool_output(await call.caller_says("Yes, text me"), "send_text")
        assert not is_error, said
        [code] = [d.id async for d in db.db.collection("reservations").stream()]
        found = await _reminders(db)
        assert set(found) == {f"text-reminder-{code}"}
        entry = found[f"text-reminder-{code}"]
        assert entry["channel"] == "text" and entry["kind"] == "reminder"
        assert entry["phone"] == CALLER and entry["status"] == "pending"
        # Saturday 19:00 in Boston, 24 hours before: Friday 19:00 EST = Saturday 00:00 UTC
        assert entry["next_try_at"] == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)

        # The same guest books again on another call: their yes stands, no question needed.
        again = await _book(db, twilio, tmp_path, _booking("2026-11-23"))
        codes = {d.id async for d in db.db.collection("reservations").stream()}
        [second] = codes - {code}
        assert set(await _reminders(db)) == {f"text-reminder-{code}", f"text-reminder-{second}"}

        # Tonight's booking: its reminder moment has passed, the confirmation says it all.
        tonight = await _book(db, twilio, tmp_path, _booking("2026-11-20"))
        assert len([d async for d in db.db.collection("reservations").stream()]) == 3
        assert len(await _reminders(db)) == 2
        for c in (call, again, tonight):
            await c.userdata.services.texts.client.http_client.close()


async def test_a_no_to_texts_schedules_no_text_reminder(seeded_db, tmp_path):
    db = seeded_db
    async with serve_twilio() as twilio:
        call = await _book(db, twilio, tmp_path, _booking(
            "2026-11-21", Call("no_text"), "No text. Anything else?"))
        tool_output(await call.caller_says("No thanks"), "no_text")
        again = await _book(db, twilio, tmp_path, _booking("2026-11-23"))
        for c in (call, again):
            await c.userdata.services.texts.client.http_client.close()
    assert await _reminders(db) == {}
    assert twilio.state.messages == []
