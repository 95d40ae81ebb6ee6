"""A call whose agent died and was never picked up again, as the owner finds it afterwards:
the call log says what was said and where the caller was (from the state the agent saved as it
went), the caller's saved details are gone, and the call counts once as crashed. Real agents,
real emulator, scripted LLM; the reaper is the call watcher's (services/call_reaper.py)."""

from __future__ import annotations

from datetime import timedelta

from conversation.call_snapshot import load_for
from domain.masking import PHONE_MARK
from services.call_reaper import reap_crashed_calls
from testkit.scripted_llm import Call as ToolCall
from tests.conversation.harness import NOW, open_call
from tests.conversation.test_resume import _saved_state


async def test_a_call_no_agent_finished_is_logged_from_what_it_saved(seeded_db):
    db = seeded_db
    await db.db.directory_entry().set({"name": "Main", "numbers": []})
    call = await open_call(
        db, ToolCall("start_order"), ToolCall("add_item", {"item": "a large cap"}),
        "A large cappuccino. What name is the order under?",
    )
    await call.caller_says("A large cap please, call me on 617 555 0123 if it's late")
    await _saved_state(call, "order")  # the job dies here, and no agent takes the call again
    call_id = call.userdata.call_id

    reaped = await reap_crashed_calls(db, live_calls=set(), now=NOW + timedelta(minutes=3))
    assert reaped == [call_id]
    log = (await db.db.collection("call_logs").document(call_id).get()).to_dict()
    assert (log["status"], log["close_reason"], log["restaurant_id"]) == (
        "crashed", "crashed", "main")
    said = [(t["role"], t["text"]) for t in log["transcript"]]
    assert said[1:] == [
        ("user", f"A large cap please, call me on {PHONE_MARK} if it's late"),
        ("assistant", "A large cappuccino. What name is the order under?")]
    assert said[0][0] == "assistant" and said[0][1] == call.greeting
    assert log["agents_visited"] == ["intent_classifier", "order_agent"]
    assert log["intents"] == ["order"]
    assert log["outcome"] == "abandoned" and log["ids_created"] == []  # nothing was saved
    assert await load_for(db, call_id) is None, "the caller's saved details outlived the call"
    assert (await db.get_analytics(NOW.date())).crashed == 1

    # The job was not dead after all (a hung worker): its own end completes the log once.
    await call.hang_up()
    done = (await db.db.collection("call_logs").document(call_id).get()).to_dict()
    assert done["status"] == "completed"
    assert [(t["role"], t["text"]) for t in done["transcript"]] == said
    assert (await db.get_analytics(NOW.date())).crashed == 0
