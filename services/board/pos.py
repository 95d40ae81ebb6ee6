"""The board's point-of-sale view (issue 24): each order's POS state, and staff's resend.

`GET /api/pos`: every order's state in Square (sent / waiting / refused with Square's reason,
and both totals when they differ). `POST /api/pos/{order_id}/resend`: queue the saved order for
Square again and try it now, through the same outbox and idempotency key as the worker, so a
resend of an order Square already has gives back that order, never a second one. Kept in its
own module: the board's pages are being reworked elsewhere; app.py only adds these routes.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from actions.pos import connect_pos
from config import square_settings
from models import Order, RestaurantSettings
from services.board import web
from services.board.operations import Rejected
from services.board.roles import may_see, visible
from store.pos_orders import PosState, pos_state, pos_states


def _json(state: PosState) -> dict[str, Any]:
    return {**state.model_dump(mode="json"), "totals_differ": state.totals_differ}


def routes() -> list[Route]:
    async def listing(request: Request) -> JSONResponse:
        states = await pos_states(web.ops(request).manager)
        tz = (await web.ops(request).restaurant()).tz
        return JSONResponse({"pos": visible(web.session_of(request), "pos",
                                            [_json(s) for s in states], tz)})

    async def resend(request: Request) -> JSONResponse:
        db = web.ops(request).manager
        order_id = request.path_params["order_id"]
        stored = await web.ops(request).staff.raw(f"orders/{order_id}")
        if stored is None:
            raise Rejected("order does not exist", 404)
        tz = (await web.ops(request).restaurant()).tz
        if not may_see(web.session_of(request), "orders", stored, tz):
            raise Rejected("only an owner resends another day's order", 403)
        pos = connect_pos(square_settings(), db)
        if pos is None:
            raise Rejected("no POS is configured (SQUARE_ACCESS_TOKEN, or POS_WEBHOOK_URL)", 409)
        restaurant = await web.ops(request).restaurant()
        if pos_kind(restaurant) == "":
            raise Rejected("this restaurant has no Square location (square_location_id in its "
                           "settings, or SQUARE_LOCATION_ID)", 409)
        order = Order.from_doc(stored)
        await pos.enqueue(order, db.restaurant_id, restaurant.tax_rate,
                          restaurant.square_location_id)
        await pos.send_pending()
        state = await pos_state(db, order_id)
        return JSONResponse({"pos": _json(state) if state else None})

    return [Route("/api/pos", listing),
            Route("/api/pos/{order_id}/resend", resend, methods=["POST"])]


def pos_kind(restaurant: RestaurantSettings) -> str:
    """Which point of sale this restaurant's orders go to ("square", "webhook" or ""): the
    orders page says "not sent yet" on a card only when there is one."""
    settings = square_settings()
    if settings.square_enabled:
        return "square" if settings.location_for(restaurant.square_location_id) else ""
    return "webhook" if settings.pos_webhook_url and settings.pos_webhook_secret else ""
