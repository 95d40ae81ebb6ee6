"""The board's pages (server-rendered shells board.js fills from the event stream) and the
printable ticket."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.routing import Route

from services.board import web
from services.board.pos import pos_kind
from services.board.roles import may_see
from services.board.routes.sites import named_sites
from services.board.words import clock_text, locale_of, phone_text


def page(name: str) -> Any:
    async def render(request: Request) -> HTMLResponse:
        session = web.session_of(request)
        if name == "users":
            web.owner_only(request)
        restaurant = await web.ops(request).restaurant()
        # an owner of several restaurants gets the site switcher (routes/sites.py)
        sites = await named_sites(request) if session.role == "owner" else []
        return web.templates.TemplateResponse(request, "page.html", {
            "page": name, "pages": web.PAGES, "session": session, "restaurant": restaurant,
            "sites": sites if len(sites) > 1 else [], "restaurant_id": web.site_of(request),
            "title": web.PAGES.get(name, "Staff accounts"), "locale": locale_of(restaurant),
            "pos": pos_kind(restaurant) if name == "orders" else "",
        })
    return render


async def home(request: Request) -> RedirectResponse:
    return RedirectResponse("/orders", 303)


async def ticket(request: Request) -> HTMLResponse:
    ops = web.ops(request)
    order = await ops.staff.raw(f"orders/{request.path_params['order_id']}")
    if order is None:
        raise HTTPException(404, "no such order")
    restaurant = await ops.restaurant()
    tz = restaurant.tz
    if not may_see(web.session_of(request), "orders", order, tz):
        raise HTTPException(403, "only an owner sees another day's orders")
    placed = order["created_at"].astimezone(tz)
    return web.templates.TemplateResponse(request, "ticket.html", {
        "order": order, "restaurant": restaurant,
        "pickup": clock_text(order["pickup_time"].astimezone(tz).time()),
        "placed": f"{placed.strftime('%a %d %b')} {clock_text(placed.time())}",
        "phone": phone_text(order.get("customer_phone")),
    })


def routes() -> list[Route]:
    return [
        Route("/", home),
        *[Route(f"/{name}", page(name)) for name in web.PAGES],
        Route("/users", page("users")),
        Route("/orders/{order_id}/ticket", ticket),
    ]
