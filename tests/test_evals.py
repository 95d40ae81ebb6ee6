"""The eval harness (tests/evals/) as CI runs it: the fake OpenAI server answering each scenario's
scripted steps, scripted caller turns, the real agents and the real emulator; the outcome
checked against the ground truth, and a wrong ground truth caught."""

from __future__ import annotations

import dataclasses

import pytest

from tests.evals import scenario
from tests.evals.outcome import Saved, problems
from tests.evals.run import main

# One scenario of each kind: every outcome, an option, a sold-out item, a full time that takes
# the offered one, a party too big, a mumbled number, Spanish, a caller who never says goodbye.
# `python -m tests.evals --fake` (make eval-fake) runs the whole library.
SAMPLE = ["order-plain-latte", "order-sold-out-item", "order-mumbled-number",
          "order-never-says-goodbye", "order-then-booking-same-call",
          "booking-full-time-accepts-offer", "booking-party-too-big", "message-catering",
          "transfer-asks-for-person", "prank-caller", "spanish-order"]


def test_the_library_has_forty_personas_with_ground_truth():
    library = scenario.load()
    assert len(library) >= 40
    assert {s.outcome for s in library} == set(scenario.OUTCOMES)
    assert all(len(s.persona) > 40 and s.turns for s in library)
    assert set(SAMPLE) <= {s.id for s in library}


async def test_the_fake_run_passes_and_reports_each_scenario(firestore_emulator, tmp_path):
    chosen = [s for s in scenario.load() if s.id in SAMPLE]
    wrong = dataclasses.replace(  # the same call, a ground truth it does not meet
        chosen[0], id="wrong-size",
        expect={**chosen[0].expect, "lines": [{"item": "latte", "size": "small",
                                                "options": ["oat"]}]})
    out = tmp_path / "results.md"
    results = await main([*chosen, wrong], fake=True, out=out, command="pytest",
                         verbose=False)
    by_id = {r.scenario.id: r for r in results}
    failed = {i: r.problems or r.error for i, r in by_id.items() if not r.passed}
    assert list(failed) == ["wrong-size"], failed
    differed = by_id["wrong-size"].problems[0]
    assert differed.startswith("lines") and "'small'" in differed
    assert by_id["booking-full-time-accepts-offer"].got == "booking"
    assert by_id["booking-party-too-big"].got == "transfer"
    for r in results:  # LiveKit's judges ran on each call (the fake answers their requests)
        assert set(r.judges) == {"accuracy", "politeness"}, r.scenario.id
        assert r.agent.requests > 0 and r.agent.prompt_tokens > 0, r.scenario.id
    # the plain order: 8 LLM requests (2 for the order turn with its hand-over, 2 to name,
    # 2 to confirm and speak, 1 for goodbye... as scripted), counted from the session's usage
    assert by_id["order-plain-latte"].agent.requests == 8
    assert all(r.snapshot_writes > 0 for r in results)  # measured, per call
    text = out.read_text()
    assert f"**Score: {len(chosen)}/{len(chosen) + 1} passed" in text
    assert "| wrong-size | order | order | **no** |" in text


@pytest.mark.parametrize(("expect", "saved", "wanted"), [
    ({"outcome": "nothing"}, Saved([], [], [], ["1002"]), ["transferred, wanted nothing"]),
    ({"outcome": "transfer"}, Saved([], [], [], []), ["not transferred to staff"]),
    ({"outcome": "booking", "date": "2026-11-21", "time": "19:00", "party_size": 4, "name": "A"},
     Saved([], [{"date": "2026-11-21", "time": "19:30:00", "party_size": 4, "name": "A"}], [], []),
     ["time '19:30' != '19:00'"]),
    ({"outcome": "message", "name": "Ravi"}, Saved([], [], [{"name": "Ravi"}], []), []),
])
def test_outcomes_are_compared_exactly(expect, saved, wanted):
    assert problems(expect, saved) == wanted
