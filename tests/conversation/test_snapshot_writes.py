"""The call's resumable state is written when it may have changed: after a tool ran and when the
agent's turn is over, not for every item added and every agent state (3.5 writes a caller turn
before, measured by the eval run; tests/evals/results.md has the figure now)."""

from __future__ import annotations

import asyncio

from testkit.scripted_llm import Call
from tests.conversation.harness import open_call


async def _settled(call) -> int:
    saver = call.userdata.state_saver
    for _ in range(50):  # the writes run in the background, one at a time
        if saver._task is None or saver._task.done():
            break
        await asyncio.sleep(0.02)
    return saver.writes


async def test_a_turn_without_a_tool_is_one_write_and_a_tool_adds_one(seeded_db):
    call = await open_call(seeded_db, "We're open until 9 tonight.",
                           Call("start_order"), "Sure, what would you like?")
    before = await _settled(call)
    await call.caller_says("How late are you open?")
    after_question = await _settled(call)
    assert after_question - before == 1, "one write for the turn: the transcript at its end"
    await call.caller_says("I'd like to order")
    # the tool, the order agent taking over, the end of the turn: at most three writes (fewer
    # when one comes while another is in flight: they are coalesced)
    assert 1 <= await _settled(call) - after_question <= 3
    snapshot = call.userdata.state_saver.snapshot()
    assert snapshot.stage == "order"
    assert snapshot.transcript[-1].text == "Sure, what would you like?"
    await call.hang_up()
