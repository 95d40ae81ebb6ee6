"""The dining room model (seating.py) and its settings, without a database."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from menu_file import MenuFileError, parse_menu_text
from models import RestaurantSettings
from seating import Hold, Pacing, SeatingPlan, Table, double_seated, peak_guests

ROOT = Path(__file__).resolve().parent.parent
MENU_TEXT = (ROOT / "data" / "menu.yaml").read_text()
CAFE = parse_menu_text(MENU_TEXT, source="data/menu.yaml", fmt="yaml").restaurant.seating
TABLES = CAFE.model_copy(update={"pacing": None})  # the same tables, bookable at once
H = 60


def book(plan: SeatingPlan, holds: list[Hold], code: str, start: int, party: int) -> Hold | None:
    seat = plan.fit(holds, start, party)
    if seat is None:
        return None
    hold = Hold(code, start, seat.minutes, party, seat.tables)
    holds.append(hold)
    return hold


def test_a_table_is_held_for_the_whole_meal_not_the_slot():
    plan = SeatingPlan(tables=[Table(id="T1", seats=4)])
    holds: list[Hold] = []
    assert book(plan, holds, "a", 19 * H, 4).tables == ("T1",)  # 90 minutes: until 20:30
    assert plan.fit(holds, 19 * H + 30, 2) is None  # 7:30: still eating
    assert plan.fit(holds, 18 * H, 2) is None  # 6:00 + 75 min runs into 7:00
    assert plan.fit(holds, 17 * H + 45, 2) is not None  # gone by 7:00
    assert plan.fit(holds, 20 * H + 30, 4) is not None  # free again at 8:30


def test_best_fit_then_joined_tables():
    holds: list[Hold] = []
    assert book(TABLES, holds, "two", 19 * H, 2).tables == ("T1",)
    assert book(TABLES, holds, "three", 19 * H, 3).tables == ("T5",)  # a 4-top, not the 6
    assert book(TABLES, holds, "five", 19 * H, 5).tables == ("T9",)
    assert book(TABLES, holds, "eight", 19 * H, 8).tables == ("T7", "T8")  # joined
    # T1 is taken, so a six can no longer have T1+T2+T3; T2 and T3 join only to each other
    assert TABLES.fit(holds, 19 * H, 6) is None
    assert double_seated(holds) == []


def test_dining_time_by_party_size_and_pacing():
    plan = SeatingPlan(seats=40, pacing=Pacing(covers=10, minutes=30))
    assert [plan.minutes_for(n) for n in (1, 2, 3, 4, 5, 8)] == [75, 75, 90, 90, 120, 120]
    holds: list[Hold] = []
    assert book(plan, holds, "a", 19 * H, 6) and book(plan, holds, "b", 19 * H + 15, 4)
    assert plan.fit(holds, 19 * H, 2) is None  # 10 covers already start in 7:00-7:30
    assert plan.fit(holds, 19 * H + 30, 2) is not None  # the next half hour


def test_plain_seats_count_who_is_still_seated():
    plan = SeatingPlan(seats=10)
    holds: list[Hold] = []
    assert book(plan, holds, "a", 18 * H, 6)  # 18:00-20:00
    assert book(plan, holds, "b", 19 * H, 4)  # 19:00-20:30: 10 seated
    assert plan.fit(holds, 19 * H + 30, 2) is None
    assert plan.fit(holds, 19 * H + 30, 1) is None
    assert plan.fit(holds, 20 * H, 7) is None  # a has left at 8, b stays until 8:30
    assert plan.fit(holds, 20 * H, 6) is not None
    assert peak_guests(holds) == 10


ROOMS = st.sampled_from([CAFE, SeatingPlan(seats=12),
                         SeatingPlan(tables=[Table(id="A", seats=4, joins=["B"]),
                                             Table(id="B", seats=2)])])
OPS = st.lists(st.tuples(st.sampled_from(["book", "move", "cancel"]),
                         st.integers(17 * 2, 21 * 2).map(lambda h: h * 30),
                         st.integers(1, 8), st.integers(0, 30)), max_size=60)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=ROOMS, ops=OPS)
def test_no_sequence_of_bookings_changes_and_cancels_overfills_the_room(plan, ops):
    holds: list[Hold] = []
    chairs = plan.seats or sum(t.seats for t in plan.tables)
    for n, (op, start, party, pick) in enumerate(ops):
        if op == "book" or not holds:
            book(plan, holds, f"c{n}", start, party)
        elif op == "cancel":
            holds.pop(pick % len(holds))  # frees exactly that booking's hold
        else:
            old = holds.pop(pick % len(holds))
            if book(plan, holds, old.code, start, party) is None:
                holds.append(old)  # a change that does not fit changes nothing
        assert double_seated(holds) == []
        assert peak_guests(holds) <= chairs
        if plan.pacing is not None:
            for h in holds:
                window = h.start // plan.pacing.minutes
                same = sum(x.party_size for x in holds if x.start // plan.pacing.minutes == window)
                assert same <= plan.pacing.covers


@pytest.mark.parametrize(("old", "new", "says"), [
    ("{id: T3, seats: 2}", "{id: T3, seats: 0}",
     "field 'seating.tables[2].seats': table 'T3': must be greater than or equal to 1"),
    ("{id: T3, seats: 2}", "{id: T3, seats: 2, joins: [T99]}",
     "table 'T3' field 'joins': no table 'T99'"),
    ("{id: T4, seats: 2}", "{id: T3, seats: 2}", "duplicate table ids ['T3']"),
    ("{up_to: 8, minutes: 120}", "{up_to: 3, minutes: 120}",
     "field 'seating.durations': up_to must increase"),
    ("{up_to: 8, minutes: 120}", "{up_to: 8, minutes: 5}",
     "field 'seating.durations[2].minutes': must be greater than or equal to 15"),
    ("{id: T9, seats: 6}", "{id: T9, seats: 6, colour: red}",
     "table 'T9': is not a known field"),
    ("max_party_size: 8", "max_party_size: 12",
     "field 'max_party_size': max_party_size 12 is more than the largest table or combination"),
    ("pacing: {covers: 16, minutes: 30}", "pacing: {covers: 0, minutes: 30}",
     "field 'seating.pacing.covers': must be greater than or equal to 1"),
])
def test_restaurant_file_errors_name_the_table_and_field(old, new, says):
    assert old in MENU_TEXT
    with pytest.raises(MenuFileError) as e:
        parse_menu_text(MENU_TEXT.replace(old, new), source="data/menu.yaml", fmt="yaml")
    assert says in str(e.value) and "(line " in str(e.value), str(e.value)


def test_old_settings_with_seats_per_slot_still_load_as_seats():
    s = RestaurantSettings.model_validate({"name": "Old", "seats_per_slot": 24})
    assert s.seating.seats == 24 and not s.seating.tables
    with pytest.raises(ValidationError, match="either tables or seats"):
        SeatingPlan(seats=10, tables=[Table(id="A", seats=2)])
