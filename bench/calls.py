"""The scripted calls the benchmarks replay: what the caller says each turn and how the LLM answers.

The order and reservation calls are the standard calls of tests/conversation (same tools, same
arguments); `info_call` answers a menu question with a tool and no handoff (the baseline for a
tool step), and `handoff_call` hands over with nothing else to do (the bare cost of a handoff).
Every agent speaks in these calls: classifier, order, reservation and confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass

from testkit.scripted_llm import Call, Step

# A Saturday (the day after the frozen "now"), in a room made big for the benchmarks
# (bench/emulator.py): bookings of two spread over these slots never run out of tables.
_SLOTS = [f"{h:02d}:{m:02d}" for h in range(12, 21) for m in (0, 30)]


@dataclass(frozen=True)
class Turn:
    says: str  # the caller's final transcript
    label: str  # what kind of turn this is, for the per-kind breakdown
    handoff: str | None = None  # "from->to" when the turn hands over to another agent


@dataclass(frozen=True)
class ScriptedCall:
    name: str
    turns: tuple[Turn, ...]
    steps: tuple[Step, ...]


def order_call() -> ScriptedCall:
    return ScriptedCall("order", (
        Turn("Hi, a large cap with oat milk and a BLT on rye please", "order: route + 2 items",
             "classifier->order"),
        Turn("It's Sam Rivera", "order: name + review", "order->confirmation"),
        Turn("Yes, that's right", "confirm: save order"),
        Turn("No, that's all, bye", "end call"),
    ), (
        Call("start_order"),
        Call("add_item", {"item": "a large cap", "options": ["oat milk"]}),
        Call("add_item", {"item": "blt", "options": ["rye"]}),
        "A large cappuccino with oat milk and a BLT on rye. What name is the order under?",
        Call("set_customer", {"name": "Sam Rivera"}),
        Call("review_order"),
        Call("confirm"),
        "Your order number is ready. Anything else?",
        Call("end_call"),
    ))


def reservation_call(n: int = 0) -> ScriptedCall:
    at = _SLOTS[n % len(_SLOTS)]
    table = {"date": "2026-11-21", "time": at, "party_size": 2}
    return ScriptedCall("reservation", (
        Turn("Hi, a table for two tomorrow evening please", "reservation: route + availability",
             "classifier->reservation"),
        Turn("Priya Shah", "reservation: book + review", "reservation->confirmation"),
        Turn("Yes please", "confirm: book table"),
        Turn("That's all, thanks", "end call"),
    ), (
        Call("start_reservation", {"action": "new"}),
        Call("check_availability", table),
        "Tomorrow at that time for two is available. What name should I put it under?",
        Call("book_table", {**table, "name": "Priya Shah"}),
        Call("confirm"),
        "You're booked. Anything else?",
        Call("end_call"),
    ))


def info_call() -> ScriptedCall:
    return ScriptedCall("info", (
        Turn("Do you have anything vegan?", "classifier: menu_info tool"),
        Turn("And when do you close today?", "classifier: text only"),
        Turn("Great, thanks, bye", "end call"),
    ), (
        Call("menu_info", {"query": "vegan"}),
        "Yes, we have a few vegan options. Anything else?",
        "We close at nine tonight.",
        Call("end_call"),
    ))


def handoff_call() -> ScriptedCall:
    return ScriptedCall("handoff", (
        Turn("I'd like to place an order", "bare handoff", "classifier->order"),
        Turn("A cappuccino please, for Sam Rivera", "order: item + name + review",
             "order->confirmation"),
        Turn("Actually no, let me change that", "confirmation: decline", "confirmation->order"),
        Turn("Make it a reservation instead", "bare handoff", "order->reservation"),
        Turn("Never mind, that's all, bye", "end call"),
    ), (
        Call("start_order"),
        "Sure, what would you like?",
        Call("add_item", {"item": "cappuccino"}),
        Call("set_customer", {"name": "Sam Rivera"}),
        Call("review_order"),
        Call("decline"),
        "No problem, what would you like to change?",
        Call("start_reservation"),
        "Of course, for which day and how many people?",
        Call("end_call"),
    ))


def cycle(n: int) -> list[ScriptedCall]:
    """One of each call; `n` varies the booking slot so repeated cycles keep finding room."""
    return [order_call(), reservation_call(n), info_call(), handoff_call()]
