"""The dining room model (domain/seating.py) and its settings, without a database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.seating import Hold, Pacing, Seat, SeatingPlan, Table, double_seated, peak_guests
from models import RestaurantSettings
from store.menu_file import MenuFileError, parse_menu_text

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


# PROPERTY_EXAMPLES: fewer examples where each test runs hundreds of times (scripts/mutation.py).
@settings(max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "400")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
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


def test_a_hold_reads_back_from_its_document_as_written():
    hold = Hold("ABC123", start=19 * 60, minutes=90, party_size=4, tables=("t1", "t2"))
    assert Hold.from_doc("ABC123", hold.to_doc()) == hold
    assert Hold.from_doc("P", {"start": 600, "minutes": 75, "party_size": 2}).tables == ()


def test_a_party_above_every_dining_time_sits_the_longest_one():
    plan = SeatingPlan(seats=40, durations=[{"up_to": 2, "minutes": 60},
                                            {"up_to": 4, "minutes": 90},
                                            {"up_to": 6, "minutes": 150}])
    assert [plan.minutes_for(n) for n in (1, 3, 6, 9)] == [60, 90, 150, 150]


def test_pacing_counts_covers_starting_in_the_same_window():
    plan = SeatingPlan(seats=50, pacing=Pacing(covers=4, minutes=30))
    first = [Hold("A", 600, 75, 4)]  # four covers start at 10:00
    assert plan.fit(first, 615, 2) is None  # 10:15 is the same half hour
    assert plan.fit(first, 630, 2) is not None  # 10:30 is the next one


TWO = SeatingPlan(tables=[Table(id="t1", seats=4), Table(id="t2", seats=4)],
                  durations=[{"up_to": 99, "minutes": 90}])


@pytest.mark.parametrize(("holds", "table"), [
    ([], "t1"),  # nothing booked: file order
    ([Hold("X", 990, 90, 4, ("t2",))], "t2"),  # t2 frees up at 18:00, right when they come
    ([Hold("X", 1170, 90, 4, ("t2",))], "t2"),  # t2 is next needed at 19:30, when they leave
    ([Hold("X", 630, 90, 4, ("t1",)), Hold("Y", 930, 90, 4, ("t2",))], "t2"),  # 12:00 vs 17:00
    ([Hold("X", 1320, 90, 4, ("t1",)), Hold("Y", 1200, 60, 4, ("t2",))], "t2"),  # 22:00 vs 20:00
    ([Hold("X", 30, 60, 4, ("t2",))], "t2"),  # even a gap since 01:30 beats a table idle all day
    ([Hold("X", 1425, 15, 4, ("t2",))], "t2"),  # and one till 23:45 after they leave
])
def test_the_table_idle_least_around_the_meal_is_given(holds, table):
    """Best fit ties are broken so long free stretches stay whole for later callers."""
    assert TWO.fit(holds, 18 * 60, 4) == Seat(90, (table,))


def test_seats_free_again_the_minute_a_party_leaves():
    plan = SeatingPlan(seats=6, durations=[{"up_to": 99, "minutes": 60}])
    holds = [Hold("A", 17 * 60, 60, 3), Hold("B", 18 * 60, 60, 3)]
    assert plan.fit(holds, 17 * 60 + 30, 3) is not None  # A has left when B sits down
    assert plan.fit(holds, 17 * 60 + 30, 4) is None


def test_the_day_reports_count_every_clash_and_an_empty_day():
    assert peak_guests([]) == 0
    holds = [Hold("A", 600, 90, 2, ("t1", "t2")), Hold("B", 630, 90, 2, ("t1",)),
             Hold("C", 660, 90, 2, ("t2",))]
    assert double_seated(holds) == [("t1", "A", "B"), ("t2", "A", "C")]


@pytest.mark.parametrize("later_first", [True, False])
def test_a_table_turned_back_to_back_is_not_double_seated(later_first: bool):
    """The 10:00 party leaves at 11:30 as the 11:30 party sits: the host's clash report stays
    empty whichever booking was taken first; one minute of overlap is a clash."""
    early, late = Hold("early", 600, 90, 2, ("t1",)), Hold("late", 690, 90, 2, ("t1",))
    holds = [late, early] if later_first else [early, late]
    assert double_seated(holds) == []
    overlap = Hold("late", 689, 90, 2, ("t1",))
    holds = [overlap, early] if later_first else [early, overlap]
    assert len(double_seated(holds)) == 1
