"""Is a record that collides with a stored one the same record again, or a different one?

A replayed or rebuilt save must be recognised as the one already saved (the caller is not told
about a second order, the dining room does not hold a second table), and a different order or
booking that lands on the same id must never be taken for the stored one."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain.duplicates import order_content, same_booking, same_order
from models import ReservationChange
from testkit.records import make_order, make_reservation

LATER = datetime(2026, 11, 20, 17, 1, tzinfo=UTC)


def test_an_order_rebuilt_later_by_a_restarted_agent_is_the_same_order():
    first = make_order("call-1")
    rebuilt = make_order("call-1", created_at=LATER)  # stamped again, pickup moved with it
    assert same_order(first, rebuilt)


@pytest.mark.parametrize("change", [
    {"call_id": "call-2"},
    {"customer_name": "Someone Else"},
    {"customer_phone": "+16175550199"},
    {"subtotal_cents": 1},
    {"tax_cents": 1},
    {"total_cents": 1},
])
def test_an_order_that_differs_in_what_the_caller_agreed_to_is_another_order(change):
    first = make_order("call-1")
    assert not same_order(first, first.model_copy(update=change))


def test_an_order_with_other_lines_is_another_order():
    assert not same_order(make_order("call-1", quantity=2), make_order("call-1", quantity=3))


def test_a_booking_replayed_after_a_change_is_recognised_by_what_was_first_booked():
    booked = make_reservation("call-1", day=date(2026, 11, 27), at=time(19, 0), party=2)
    changed = booked.model_copy(update={
        "date": date(2026, 11, 28), "time": time(20, 30), "party_size": 4,
        "history": [ReservationChange(at=LATER, call_id="call-2", action="changed",
                                      before={"date": "2026-11-27", "time": "19:00:00",
                                              "party_size": 2})]})
    assert same_booking(changed, booked)  # the queued first save, replayed after the change
    assert same_booking(booked, booked.model_copy(update={"created_at": LATER + timedelta(1)}))


def test_only_a_change_with_its_before_says_what_was_first_booked():
    booked = make_reservation("call-1", at=time(19, 0))
    later = booked.model_copy(update={"time": time(21, 0)})
    cancelled = later.model_copy(update={"history": [
        ReservationChange(at=LATER, call_id="c", action="cancelled", before={"time": "19:00:00"}),
        ReservationChange(at=LATER, call_id="c", action="changed")]})
    assert not same_booking(cancelled, booked)  # neither entry is a change with its before
    partly = later.model_copy(update={"history": [
        ReservationChange(at=LATER, call_id="c", action="changed", before={"time": "19:00:00"})]})
    assert same_booking(partly, booked)  # what the change did not touch is as it is now
    bigger = booked.model_copy(update={"party_size": 5, "history": [
        ReservationChange(at=LATER, call_id="c", action="changed", before={"party_size": 2})]})
    assert same_booking(bigger, booked)
    first_of_two = later.model_copy(update={"time": time(22, 0), "history": [
        ReservationChange(at=LATER, call_id="c", action="changed", before={"time": "19:00:00"}),
        ReservationChange(at=LATER, call_id="c", action="changed", before={"time": "21:00:00"})]})
    assert same_booking(first_of_two, booked)


@pytest.mark.parametrize("change", [
    {"call_id": "call-2"}, {"date": date(2026, 11, 28)}, {"time": time(19, 30)},
    {"party_size": 3}, {"name": "Someone Else"}, {"phone": "+16175550199"},
])
def test_a_booking_that_differs_in_what_was_booked_is_another_booking(change):
    booked = make_reservation("call-1")
    assert not same_booking(booked, booked.model_copy(update=change))


def test_what_an_outbox_entry_stored_before_an_upgrade_still_names_its_order():
    """The POS outbox keeps an order's content (store/pos_orders.order_home compares it with
    the saved order) across a restart, and so across an upgrade: its shape is a stored format."""
    stored = {"call_id": "call-1", "customer_name": "Ann Lee", "customer_phone": "+16175550101",
              "subtotal_cents": 1100, "tax_cents": 69, "total_cents": 1169,
              "lines": [{"item_id": "cappuccino", "name": "Cappuccino", "size": "medium",
                         "size_name": "Medium", "quantity": 2, "unit_price_cents": 550,
                         "line_price_cents": 1100,
                         "options": [{"group_id": "milk", "option_id": "oat",
                                      "name": "Oat milk", "price_delta_cents": 75}]}]}
    content = order_content(make_order("call-1"))
    lines = content.pop("lines")
    assert content == {k: v for k, v in stored.items() if k != "lines"}
    assert [{k: line[k] for k in stored["lines"][0]} for line in lines] == stored["lines"]
