"""An owner of several restaurants on one board: which sites they have, moving their session to
another of them, and the Numbers page's comparison of their sites. Staff are on the board's own
restaurant and cannot move (403); an owner cannot move to a restaurant that is not theirs (403).
A switch is a write like any other: CSRF token and Origin checked by guard.py."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.board import web
from services.board.routes.reads import days_asked, site_numbers

COMPARED = ("calls", "orders", "revenue", "covers", "transfers")


async def named_sites(request: Request) -> list[dict[str, Any]]:
    """The signed-in person's sites with their names, marking the one the session is on."""
    board_sites = web.board_of(request).need_sites()
    ids = await web.sites_of(request)
    names = await asyncio.gather(*(board_sites.ops(s).restaurant() for s in ids))
    current = web.site_of(request)
    return [{"id": s, "name": r.name, "current": s == current}
            for s, r in zip(ids, names, strict=True)]


async def sites(request: Request) -> JSONResponse:
    return JSONResponse({"site": web.site_of(request), "sites": await named_sites(request)})


async def switch(request: Request) -> JSONResponse:
    session = web.owner_only(request)
    data = await web.body(request)
    site = data.get("site")
    if not isinstance(site, str) or site not in await web.sites_of(request):
        raise HTTPException(403, "that restaurant is not one of yours")
    moved = await web.board_of(request).need_accounts().switch_site(session, site)
    if moved is None:
        raise HTTPException(401, "sign in first")
    restaurant = await web.board_of(request).need_sites().ops(site).restaurant()
    return JSONResponse({"site": site, "name": restaurant.name})


async def compare(request: Request) -> JSONResponse:
    """The owner's sites side by side over the same number of days (each on its own clock),
    each site's numbers read through its own scope."""
    web.owner_only(request)
    days = days_asked(request)
    board_sites = web.board_of(request).need_sites()
    ids = await web.sites_of(request)
    found = await asyncio.gather(*(site_numbers(board_sites.ops(s), days, True) for s in ids))
    current = web.site_of(request)
    out: list[dict[str, Any]] = []
    for site, (restaurant, summary) in zip(ids, found, strict=True):
        out.append({"id": site, "name": restaurant.name, "current": site == current,
                    "days": summary["days"], "totals": summary["totals"],
                    "by_day": {k: summary["by_day"][k] for k in COMPARED}})
    return JSONResponse({"days": days, "sites": out})


def routes() -> list[Route]:
    return [
        Route("/api/sites", sites),
        Route("/api/site", switch, methods=["POST"]),
        Route("/api/numbers/compare", compare),
    ]
