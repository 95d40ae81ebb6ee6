"""Endpointing follows the answer the agent waits for (conversation/turn_taking.py): a short
ceiling for the name and for yes/no, the session's own for everything else."""

from __future__ import annotations

import pytest

from agents import ConfirmationAgent, IntentClassifier, OrderAgent
from conversation import turn_taking
from testkit.scripted_llm import Call
from tests.conversation.harness import open_call


def ceiling(agent: object) -> float:
    return agent._get_activity_or_raise().endpointing_opts["max_delay"]  # type: ignore[attr-defined]


def recognition_ceiling(agent: object) -> float | None:
    recognition = agent._get_activity_or_raise()._audio_recognition  # type: ignore[attr-defined]
    return None if recognition is None else recognition._endpointing.max_delay


async def test_short_answers_get_the_short_ceiling(seeded_db):
    call = await open_call(
        seeded_db,
        Call("start_order"),
        Call("add_item", {"item": "a large cap"}),
        "One large cappuccino. What name is the order under?",
        Call("set_customer", {"name": "Sam Rivera"}),
        Call("review_order"),
        Call("confirm"),
        "Your order is in. Anything else?",
    )
    short = turn_taking.SHORT_ANSWER_ENDPOINTING["max_delay"]
    assert isinstance(call.session.current_agent, IntentClassifier)
    assert ceiling(call.session.current_agent) > short  # "order or book?" may be a sentence
    assert not call.session.current_agent.expects_short_answer()

    await call.caller_says("Hi, a large cap please")
    order = call.session.current_agent
    assert isinstance(order, OrderAgent)
    assert order.expects_short_answer(), "an item in the cart and no name: the name is next"
    assert order._short_now, "set when the agent began listening after asking for the name"
    assert recognition_ceiling(order) in (None, short)

    await call.caller_says("It's Sam Rivera")
    confirmation = call.session.current_agent
    assert isinstance(confirmation, ConfirmationAgent)
    assert ceiling(confirmation) == short
    await call.caller_says("Yes, that's right")
    await call.hang_up()


def test_levers_off_restore_livekit_defaults(monkeypatch):
    monkeypatch.setitem(turn_taking.enabled, "short_answers", False)
    monkeypatch.setitem(turn_taking.enabled, "dynamic_endpointing", False)
    monkeypatch.setitem(turn_taking.enabled, "preemptive_tts", False)
    assert turn_taking.agent_turn_handling(True) == {}
    assert turn_taking.session_turn_handling("stt") == {"turn_detection": "stt"}
    monkeypatch.setitem(turn_taking.enabled, "short_answers", True)
    monkeypatch.setitem(turn_taking.enabled, "dynamic_endpointing", True)
    assert turn_taking.agent_turn_handling(True) == {"endpointing": {"max_delay": 1.0}}
    assert turn_taking.session_turn_handling("stt")["endpointing"]["mode"] == "dynamic"
    monkeypatch.setitem(turn_taking.enabled, "preemptive_tts", True)
    assert turn_taking.session_turn_handling("stt")["preemptive_generation"] == {
        "preemptive_tts": True}



def test_the_endpointing_setting_comes_from_config(monkeypatch):
    """ENDPOINTING_FLOOR_S / _CEILING_S / TURN_DETECTOR_THRESHOLD reach the session's
    endpointing and the detector (main.py configures turn_taking once per process)."""
    import pydantic

    from config import WorkerSettings

    settings = WorkerSettings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.endpointing_floor_s, settings.endpointing_ceiling_s,
            settings.turn_detector_threshold) == (0.3, 2.0, 0.9)  # bench/endpointing.py's pick
    monkeypatch.setitem(turn_taking.SESSION_ENDPOINTING, "min_delay", 0.3)
    monkeypatch.setitem(turn_taking.SESSION_ENDPOINTING, "max_delay", 2.0)
    monkeypatch.setitem(turn_taking.DETECTOR_THRESHOLD, "unlikely", 0.9)
    monkeypatch.setenv("ENDPOINTING_FLOOR_S", "0.5")
    monkeypatch.setenv("ENDPOINTING_CEILING_S", "1.6")
    monkeypatch.setenv("TURN_DETECTOR_THRESHOLD", "0.65")
    chosen = WorkerSettings(_env_file=None)  # type: ignore[call-arg]
    turn_taking.configure(chosen.endpointing_floor_s, chosen.endpointing_ceiling_s,
                          chosen.turn_detector_threshold)
    endpointing = turn_taking.session_turn_handling("stt")["endpointing"]
    assert (endpointing["min_delay"], endpointing["max_delay"]) == (0.5, 1.6)
    assert turn_taking.detector_threshold() == 0.65
    monkeypatch.setitem(turn_taking.enabled, "dynamic_endpointing", False)
    assert turn_taking.detector_threshold() is None  # the levers off: LiveKit's own
    monkeypatch.setenv("ENDPOINTING_CEILING_S", "0.4")
    with pytest.raises(pydantic.ValidationError, match="below ENDPOINTING_FLOOR_S"):
        WorkerSettings(_env_file=None)  # type: ignore[call-arg]


def test_the_job_s_detector_carries_the_threshold(monkeypatch):
    """main.py builds each call's turn detector with TURN_DETECTOR_THRESHOLD (as configured
    once per process), and with LiveKit's own when the levers are off."""
    from livekit.agents.utils import is_given

    import main

    monkeypatch.setitem(turn_taking.DETECTOR_THRESHOLD, "unlikely", 0.65)
    assert main.turn_detector().describe_options()["threshold_overrides"] == 0.65
    monkeypatch.setitem(turn_taking.enabled, "dynamic_endpointing", False)
    assert not is_given(main.turn_detector()._opts.thresholds.overrides)
