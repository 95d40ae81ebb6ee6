"""What a booking can really get, as the host sees it before saving.

For each seating time of a day and a party size: would the booking fit, and if not, why
(the room's tables or seats, or the kitchen's pacing: at most so many covers starting in one
window). The answer comes from `SeatingPlan.fit`, the very check a booking's commit runs, so
the time list and the refusal never contradict each other.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from domain import booking
from domain.seating import Hold, minute_of
from models import RestaurantSettings
from services.board import web
from services.board.operations import Rejected
from services.board.words import clock_text


def slot_state(settings: RestaurantSettings, holds: list[Hold], at: time, party: int,
               now: datetime, day: Any) -> dict[str, Any]:
    plan = settings.seating
    start = minute_of(at)
    chairs = plan.seats if plan.seats is not None else sum(t.seats for t in plan.tables)
    seated = sum(h.party_size for h in holds if h.start <= start < h.end)
    state: dict[str, Any] = {"time": at.strftime("%H:%M"), "label": clock_text(at),
                             "used": seated, "capacity": chairs}
    if plan.pacing is not None:
        window = start // plan.pacing.minutes
        starting = sum(h.party_size for h in holds if h.start // plan.pacing.minutes == window)
        state["pacing"] = {"starting": starting, "limit": plan.pacing.covers,
                           "minutes": plan.pacing.minutes}
    local = now.astimezone(settings.tz)
    if day < local.date() or (day == local.date() and at <= local.time()):
        state.update(fits=False, why="past")
    elif plan.fit(holds, start, party) is not None:
        state.update(fits=True, why="")
    elif "pacing" in state and state["pacing"]["starting"] + party > plan.pacing.covers:
        left = max(0, plan.pacing.covers - state["pacing"]["starting"])
        state.update(fits=False, why=f"kitchen pacing: {left} of {plan.pacing.covers} "
                     f"covers left to start then")
    else:
        state.update(fits=False, why=f"no table free for {party} for the whole meal")
    return state


def routes() -> list[Route]:
    """The availability route."""

    async def availability(request: Request) -> JSONResponse:
        restaurant = await web.ops(request).restaurant()
        day = web.day_of(request.query_params.get("day"), restaurant.tz)
        try:
            party = int(request.query_params.get("party") or 2)
        except ValueError:
            raise Rejected("party: a number of guests", 400) from None
        if party < 1:
            raise Rejected("party: at least 1", 400)
        holds = await web.ops(request).manager.holds_around(day)
        now = datetime.now(restaurant.tz)
        moving = request.query_params.get("moving")  # a change keeps its own table
        if moving:
            holds = [h for h in holds if h.code != moving]
        slots = [slot_state(restaurant, holds, t, party, now, day)
                 for t in booking.seating_times(restaurant, day)]
        return JSONResponse({"day": day.isoformat(), "party": party, "slots": slots,
                             "max_party": restaurant.max_party_size})

    return [Route("/api/availability", availability)]
