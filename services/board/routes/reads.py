"""What the pages read besides the event stream: who is signed in, a topic's documents, the
dining room's timeline, a day's calls, the numbers, the outbound calls. Each answer is what the
signed-in role may see (services/board/roles.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from domain import booking
from domain.seating import minute_of
from models import RestaurantSettings
from services.board import web
from services.board.numbers import summarize
from services.board.operations import Operations
from services.board.roles import may_see_day, visible


async def me(request: Request) -> JSONResponse:
    s = web.session_of(request)
    return JSONResponse({"username": s.username, "role": s.role, "csrf": s.csrf,
                         "expires_at": s.expires_at.isoformat(), "site": web.site_of(request),
                         "sites": await web.sites_of(request)})


def topic_api(topic: str) -> Any:
    async def read(request: Request) -> JSONResponse:
        tz = (await web.ops(request).restaurant()).tz
        return JSONResponse({topic: visible(web.session_of(request), topic,
                                            await web.hub(request).snapshot(topic), tz)})
    return read


async def timeline(request: Request) -> JSONResponse:
    """How full the room is at each seating time of a day: the guests whose meal (their
    hold, domain/seating.py) covers that moment, against the room's chairs."""
    ops = web.ops(request)
    restaurant = await ops.restaurant()
    day = web.day_of(request.query_params.get("day"), restaurant.tz)
    holds = await ops.manager.holds_on(day)
    plan = restaurant.seating
    chairs = plan.seats if plan.seats is not None else sum(t.seats for t in plan.tables)

    def seated(at: time) -> int:
        m = minute_of(at)
        return sum(h.party_size for h in holds if h.start <= m < h.end)

    return JSONResponse({"day": day.isoformat(), "capacity": chairs,
                         "slots": [{"time": t.strftime("%H:%M"), "used": seated(t)}
                                   for t in booking.seating_times(restaurant, day)]})


async def calls(request: Request) -> JSONResponse:
    ops = web.ops(request)
    restaurant = await ops.restaurant()
    day = web.day_of(request.query_params.get("day"), restaurant.tz)
    if not may_see_day(web.session_of(request), day, restaurant.tz):
        raise HTTPException(403, "only an owner sees another day's calls")
    outcome = request.query_params.get("outcome") or None
    start = datetime.combine(day, time(0), restaurant.tz)
    found = await ops.staff.calls_between(start, start + timedelta(days=1))
    if outcome:
        found = [c for c in found if c.get("outcome") == outcome]
    found.sort(key=lambda c: c.get("started_at") or "", reverse=True)
    return JSONResponse({"day": day.isoformat(), "calls": found})


def days_asked(request: Request) -> int:
    try:
        return max(1, min(90, int(request.query_params.get("days") or 14)))
    except ValueError:
        return 14


async def site_numbers(ops: Operations, days: int, with_revenue: bool
                       ) -> tuple[RestaurantSettings, dict[str, Any]]:
    """One site's numbers for its last `days` days (its own clock), read through its scope."""
    restaurant = await ops.restaurant()
    tz = restaurant.tz
    last = datetime.now(tz).date()
    first = last - timedelta(days=days - 1)
    start = datetime.combine(first, time(0), tz)
    docs = ops.staff.since
    calls_, orders_, res_ = await asyncio.gather(
        docs("call_logs", "started_at", start), docs("orders", "created_at", start),
        docs("reservations", "date", first.isoformat()))
    return restaurant, summarize(
        calls=calls_, orders=orders_, reservations=res_, first_day=first, last_day=last,
        tz=tz, with_revenue=with_revenue)


async def numbers(request: Request) -> JSONResponse:
    owner = web.session_of(request).role == "owner"
    _, summary = await site_numbers(web.ops(request), days_asked(request), owner)
    return JSONResponse(summary)


async def outbound(request: Request) -> JSONResponse:
    ops = web.ops(request)
    return JSONResponse({"calls": await ops.outbound_calls(), "held": await ops.outbound_held()})


def routes() -> list[Route]:
    return [
        Route("/api/me", me),
        *[Route(f"/api/{topic}", topic_api(topic))
          for topic in ("orders", "reservations", "messages", "menu")],
        Route("/api/timeline", timeline),
        Route("/api/calls", calls),
        Route("/api/numbers", numbers),
        Route("/api/outbound", outbound),
    ]
