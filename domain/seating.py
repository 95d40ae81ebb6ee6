"""The dining room: tables (or plain seats), how long a party sits, and kitchen pacing.

A booking holds its table(s) — or its seats — from its start for the dining duration of its
party size. A new booking is accepted only if what it needs stays free for that whole time,
so the room can never hold more guests than it has chairs. A late meal may run past midnight:
its hold is then kept in both days' documents, in the next day's from before its midnight (a
negative start), so the next day's seating sees the table taken (`day_parts`,
`with_next_day`). Everything here is pure: the store reads a day's holds, asks `fit`, and
commits the answer with a precondition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import time
from functools import cached_property
from itertools import combinations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_TABLES_JOINED = 4  # staff push at most this many tables together for one party
DAY_MINUTES = 24 * 60


class Table(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=20)
    seats: int = Field(ge=1, le=30)
    joins: list[str] = []  # tables this one can be pushed together with


class DiningTime(BaseModel):
    """Parties of up to `up_to` people keep their table for `minutes`."""

    model_config = ConfigDict(extra="forbid")

    up_to: int = Field(ge=1)
    minutes: int = Field(ge=15, le=480)


class Pacing(BaseModel):
    """At most `covers` guests whose bookings start within one `minutes` window (from midnight),
    so the kitchen is not slammed by every table ordering at once."""

    model_config = ConfigDict(extra="forbid")

    covers: int = Field(ge=1)
    minutes: int = Field(default=30, ge=5, le=240)


DEFAULT_DURATIONS = [
    DiningTime(up_to=2, minutes=75), DiningTime(up_to=4, minutes=90),
    DiningTime(up_to=99, minutes=120),
]


class SeatingPlan(BaseModel):
    """How the restaurant seats people; either `tables` or `seats`, not both."""

    model_config = ConfigDict(extra="forbid")

    tables: list[Table] = []
    seats: int | None = Field(default=None, ge=1)  # for a room without table management
    durations: list[DiningTime] = Field(default_factory=lambda: list(DEFAULT_DURATIONS))
    pacing: Pacing | None = None  # None: no limit on covers starting together

    @field_validator("durations")
    @classmethod
    def _ascending(cls, value: list[DiningTime]) -> list[DiningTime]:
        if not value:
            raise ValueError("give at least one dining time, e.g. [{up_to: 8, minutes: 120}]")
        ups = [d.up_to for d in value]
        if ups != sorted(set(ups)):
            raise ValueError(f"up_to must increase from one entry to the next, not {ups}")
        return value

    @model_validator(mode="after")
    def _one_room(self) -> SeatingPlan:
        if self.tables and self.seats is not None:
            raise ValueError("give either tables or seats, not both")
        if not self.tables and self.seats is None:
            raise ValueError("give the dining room's tables (or, without tables, its seats)")
        ids = [t.id for t in self.tables]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate table ids {dupes}")
        for t in self.tables:
            for other in t.joins:
                if other == t.id:
                    raise ValueError(f"table {t.id!r} field 'joins': a table cannot join itself")
                if other not in ids:
                    raise ValueError(
                        f"table {t.id!r} field 'joins': no table {other!r} (tables: {ids})"
                    )
        return self

    # ------------------------------------------------------------ derived

    def minutes_for(self, party_size: int) -> int:
        for d in self.durations:
            if party_size <= d.up_to:
                return d.minutes
        return self.durations[-1].minutes

    @property
    def largest_party(self) -> int:
        """The biggest party any table or combination (or the whole room) can seat."""
        if self.seats is not None:
            return self.seats
        return max(sum(self._seats[t] for t in combo) for combo in self._combos)

    @cached_property
    def _seats(self) -> dict[str, int]:
        return {t.id: t.seats for t in self.tables}

    @cached_property
    def _combos(self) -> list[tuple[str, ...]]:
        """Every table and every connected group of joinable tables, smallest first."""
        neighbours: dict[str, set[str]] = {t.id: set() for t in self.tables}
        for t in self.tables:  # joining is mutual whichever side the file names it on
            for other in t.joins:
                neighbours[t.id].add(other)
                neighbours[other].add(t.id)
        found: set[frozenset[str]] = {frozenset([t.id]) for t in self.tables}
        frontier = set(found)
        for _ in range(MAX_TABLES_JOINED - 1):
            frontier = {
                group | {n} for group in frontier for t in group for n in neighbours[t]
                if n not in group
            }
            found |= frontier
        order = [t.id for t in self.tables]
        combos = [tuple(sorted(g, key=order.index)) for g in found]
        # Best fit: fewest spare chairs, then fewest tables pushed together, then file order.
        return sorted(combos, key=lambda c: (
            sum(self._seats[t] for t in c), len(c), [order.index(t) for t in c]))

    # ------------------------------------------------------------ deciding

    def fit(self, holds: Iterable[Hold], start: int, party_size: int) -> Seat | None:
        """What a party starting at `start` (minutes after midnight) would hold, or None."""
        minutes = self.minutes_for(party_size)
        end = start + minutes
        holds = list(holds)
        if self.pacing is not None:
            window = start // self.pacing.minutes
            starting = sum(h.party_size for h in holds if h.start // self.pacing.minutes == window)
            if starting + party_size > self.pacing.covers:
                return None
        overlapping = [h for h in holds if h.start < end and start < h.end]
        if self.seats is not None:
            return Seat(minutes, ()) if _peak(overlapping, start, end) + party_size <= (
                self.seats) else None
        busy = {t for h in overlapping for t in h.tables}
        free = [c for c in self._combos
                if sum(self._seats[t] for t in c) >= party_size and busy.isdisjoint(c)]
        if not free:
            return None
        # Best fit (fewest spare chairs, fewest tables joined), then the table whose idle
        # time around this meal is shortest: long gaps stay whole for later callers.
        spare = sum(self._seats[t] for t in free[0])
        best = [c for c in free
                if (sum(self._seats[t] for t in c), len(c)) == (spare, len(free[0]))]
        return Seat(minutes, min(best, key=lambda c: _idle(holds, c, start, end)))


@dataclass(frozen=True)
class Seat:
    """What an accepted booking holds: its minutes at the table and the tables (none = seats)."""

    minutes: int
    tables: tuple[str, ...]


@dataclass(frozen=True)
class Hold:
    """One booking's claim on the room: from `start` for `minutes`, these tables or seats."""

    code: str
    start: int  # minutes after midnight, restaurant time
    minutes: int
    party_size: int
    tables: tuple[str, ...] = ()

    @property
    def end(self) -> int:
        return self.start + self.minutes

    @property
    def carried_over(self) -> bool:
        """The end of a meal that began the night before (kept in this day's document)."""
        return self.start < 0

    def to_doc(self) -> dict[str, object]:
        return {"start": self.start, "minutes": self.minutes, "party_size": self.party_size,
                "tables": list(self.tables)}

    @classmethod
    def from_doc(cls, code: str, data: dict[str, object]) -> Hold:
        tables = data.get("tables") or []
        assert isinstance(tables, list)
        return cls(code=code, start=int(data["start"]),  # type: ignore[arg-type]
                   minutes=int(data["minutes"]),  # type: ignore[arg-type]
                   party_size=int(data["party_size"]),  # type: ignore[arg-type]
                   tables=tuple(str(t) for t in tables))


def day_parts(hold: Hold) -> tuple[Hold, Hold | None]:
    """The hold as its own day keeps it, and what the next day keeps of a meal that runs
    past midnight (the same booking, starting `DAY_MINUTES` earlier), or None."""
    if hold.end <= DAY_MINUTES:
        return hold, None
    return hold, replace(hold, start=hold.start - DAY_MINUTES)


def with_next_day(today: Iterable[Hold], next_day: Iterable[Hold]) -> list[Hold]:
    """A day's holds (a meal carried over from the night before included) and the next
    day's own, on this day's clock (from `DAY_MINUTES`): what a late meal must not overlap."""
    return [*today, *(replace(h, start=h.start + DAY_MINUTES) for h in next_day
                      if not h.carried_over)]


def _idle(holds: Sequence[Hold], tables: tuple[str, ...], start: int, end: int) -> int:
    """Minutes the tables would stand empty just before and after [start, end)."""
    before = max((h.end for h in holds if h.end <= start and set(h.tables) & set(tables)),
                 default=start - 24 * 60)
    after = min((h.start for h in holds if h.start >= end and set(h.tables) & set(tables)),
                default=end + 24 * 60)
    return (start - before) + (after - end)


def minute_of(at: time) -> int:
    return at.hour * 60 + at.minute


def _peak(holds: Sequence[Hold], start: int, end: int) -> int:
    """Most guests seated at one moment of [start, end) (the count only rises at a start)."""
    moments = {start, *(h.start for h in holds if start <= h.start < end)}
    return max(sum(h.party_size for h in holds if h.start <= m < h.end) for m in moments)


def peak_guests(holds: Sequence[Hold]) -> int:
    """Most guests in the room at once over the whole day."""
    if not holds:
        return 0
    return max(sum(h.party_size for h in holds if h.start <= m < h.end)
               for m in {h.start for h in holds})


def double_seated(holds: Sequence[Hold]) -> list[tuple[str, str, str]]:
    """(table, booking, booking) for every table two overlapping bookings both hold."""
    clashes = []
    for a, b in combinations(holds, 2):
        if a.start < b.end and b.start < a.end:
            clashes += [(t, a.code, b.code) for t in sorted(set(a.tables) & set(b.tables))]
    return clashes
