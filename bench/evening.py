"""A Saturday evening of phone bookings against the same dining room, before and after the
seating model: `python -m bench.evening [--callers 90] [--seed 11]`.

Before: `seats_per_slot: 20` capped the covers *starting* in each half-hour slot.
After: the café's tables (data/menu.yaml: 30 chairs, joinable tables), each held for the
party's dining time (75 / 90 / 120 min), with and without pacing; and plain 30 seats.

Every model sees the same callers in the same order. A caller whose time is refused takes
the first time offered if it is within an hour of the one they wanted, else hangs up
(turned away). "Most guests seated at once" counts each party for its real dining time,
so a figure above the room's 30 chairs is guests with nowhere to sit.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from domain import booking  # noqa: E402
from domain.seating import Hold, SeatingPlan, double_seated, minute_of, peak_guests  # noqa: E402
from models import RestaurantSettings  # noqa: E402
from store.menu_file import load_menu_file  # noqa: E402

DAY = date(2026, 11, 21)  # a Saturday (open 8:00-22:00)
PARTIES = [(1, 4), (2, 40), (3, 10), (4, 26), (5, 6), (6, 7), (7, 3), (8, 4)]  # size, weight
TIMES = [(time(17, 0), 3), (time(17, 30), 5), (time(18, 0), 9), (time(18, 30), 13),
         (time(19, 0), 20), (time(19, 30), 18), (time(20, 0), 14), (time(20, 30), 8),
         (time(21, 0), 4)]
TAKES_WITHIN_MIN = 60


@dataclass
class Outcome:
    name: str
    booked: int = 0
    covers: int = 0
    turned_away: int = 0
    offered: int = 0  # callers told their time was full and given other times
    took_other: int = 0
    holds: list[Hold] = field(default_factory=list)

    def row(self, chairs: int) -> str:
        peak = peak_guests(self.holds)
        over = max(0, peak - chairs)
        tabled = any(h.tables for h in self.holds)
        clashes = len(double_seated(self.holds)) if tabled else "n/a"
        return (f"| {self.name} | {self.booked} | {self.covers} | {peak} | {over} | "
                f"{clashes} | {self.turned_away} | {self.offered} | {self.took_other} |")


def callers(n: int, seed: int) -> list[tuple[int, time]]:
    rng = random.Random(seed)
    sizes, size_w = zip(*PARTIES, strict=True)
    times, time_w = zip(*TIMES, strict=True)
    return [(rng.choices(sizes, size_w)[0], rng.choices(times, time_w)[0]) for _ in range(n)]


Decide = Callable[[list[Hold], int, time], Hold | None]
Offer = Callable[[list[Hold], int, time], list[time]]


def run(name: str, requests: list[tuple[int, time]], decide: Decide, offer: Offer) -> Outcome:
    out = Outcome(name)
    for n, (party, wanted) in enumerate(requests):
        hold = decide(out.holds, party, wanted)
        if hold is None:
            options = offer(out.holds, party, wanted)
            if options:
                out.offered += 1
            near = [t for t in options
                    if abs(minute_of(t) - minute_of(wanted)) <= TAKES_WITHIN_MIN]
            hold = decide(out.holds, party, near[0]) if near else None
            if hold is None:
                out.turned_away += 1
                continue
            out.took_other += 1
        out.holds.append(Hold(f"C{n}", hold.start, hold.minutes, party, hold.tables))
        out.booked += 1
        out.covers += party
    return out


def slot_model(settings: RestaurantSettings, seats_per_slot: int) -> tuple[Decide, Offer]:
    """What the line did before: a counter of covers per start slot."""
    durations = settings.seating  # only to record how long the party really sits
    now = datetime(2026, 11, 20, 12, 0, tzinfo=settings.tz)

    def used(holds: list[Hold], at: time) -> int:
        return sum(h.party_size for h in holds if h.start == minute_of(at))

    def decide(holds: list[Hold], party: int, at: time) -> Hold | None:
        if used(holds, at) + party > seats_per_slot:
            return None
        return Hold("", minute_of(at), durations.minutes_for(party), party)

    def offer(holds: list[Hold], party: int, at: time) -> list[time]:
        free = [t for t in booking.seating_times(settings, DAY)
                if t > now.time() or DAY > now.date()
                if used(holds, t) + party <= seats_per_slot]
        free.sort(key=lambda t: (abs(minute_of(t) - minute_of(at)), minute_of(t)))
        return sorted(free[:3])

    return decide, offer


def seating_model(settings: RestaurantSettings, plan: SeatingPlan) -> tuple[Decide, Offer]:
    room = settings.model_copy(update={"seating": plan})
    now = datetime(2026, 11, 20, 12, 0, tzinfo=settings.tz)

    def decide(holds: list[Hold], party: int, at: time) -> Hold | None:
        seat = plan.fit(holds, minute_of(at), party)
        return None if seat is None else Hold("", minute_of(at), seat.minutes, party,
                                              seat.tables)

    def offer(holds: list[Hold], party: int, at: time) -> list[time]:
        return booking.nearest_free_times(room, now, DAY, at, party, holds)

    return decide, offer


def evening(n: int, seed: int) -> str:
    settings = load_menu_file(ROOT / "data" / "menu.yaml").restaurant
    tables = settings.seating.model_copy(update={"pacing": None})
    paced = settings.seating
    chairs = sum(t.seats for t in tables.tables)
    requests = callers(n, seed)
    models = [
        ("before: seats_per_slot 20", slot_model(settings, 20)),
        (f"before: seats_per_slot {chairs}", slot_model(settings, chairs)),
        (f"after: {chairs} seats, no tables", seating_model(settings, SeatingPlan(
            seats=chairs, durations=tables.durations))),
        (f"after: {len(tables.tables)} tables", seating_model(settings, tables)),
        (f"after: tables + pacing {paced.pacing.covers if paced.pacing else '-'}/30 min",
         seating_model(settings, paced)),
    ]
    rows = [run(name, requests, *fns).row(chairs) for name, fns in models]
    mix = ", ".join(f"{s}:{sum(1 for p, _ in requests if p == s)}" for s, _ in PARTIES)
    return "\n".join([
        f"{n} callers for Saturday {DAY.isoformat()} (seed {seed}); party sizes {mix}; "
        f"{sum(p for p, _ in requests)} guests asked for; the room has {chairs} chairs.",
        "",
        "| model | bookings | covers | most guests seated at once | guests without a chair "
        "| tables double-seated | turned away | offered other times | took another time |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=40)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    print(evening(args.callers, args.seed))


if __name__ == "__main__":
    main()
