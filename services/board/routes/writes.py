"""What staff change: an order's status, a message done or called back, an item sold out, a
booking made, changed, cancelled or seated. Each write applies only to the version staff saw
(a conflict answers with the document as it is now), and only to what the person's page shows:
staff cannot change, or be answered with, another day's order (services/board/roles.py)."""

from __future__ import annotations

from datetime import date, time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.board import web
from services.board.operations import Rejected


async def order_status(request: Request) -> JSONResponse:
    data = await web.body(request)
    doc = await web.ops(request).set_order_status(
        request.path_params["order_id"], web.field(data, "status"), data.get("version"),
        web.session_of(request).user, str(data.get("reason") or ""),
        await web.orders_in_view(request))
    return JSONResponse({"order": doc})


async def message_done(request: Request) -> JSONResponse:
    data = await web.body(request)
    doc = await web.ops(request).mark_message(
        request.path_params["message_id"], bool(data.get("done", True)), data.get("version"),
        web.session_of(request).user)
    return JSONResponse({"message": doc})


async def message_call_back(request: Request) -> JSONResponse:
    data = await web.body(request)
    call = await web.ops(request).call_back(request.path_params["message_id"], data.get("at"))
    return JSONResponse({"call": call}, status_code=201)


async def menu_availability(request: Request) -> JSONResponse:
    data = await web.body(request)
    available = data.get("available")
    if not isinstance(available, bool):
        raise Rejected("available: true or false")
    await web.ops(request).set_available(request.path_params["item_id"], available)
    return JSONResponse({"ok": True})


async def booking_new(request: Request) -> JSONResponse:
    data = await web.body(request)
    result = await web.ops(request).book(
        day=web.field(data, "date", date), at=web.field(data, "time", time),
        party=web.field(data, "party", int), name=web.field(data, "name"),
        phone=web.field(data, "phone"), notes=str(data.get("notes") or ""),
        user=web.session_of(request).user)
    return JSONResponse(result, status_code=201)


async def booking_change(request: Request) -> JSONResponse:
    data = await web.body(request)
    doc = await web.ops(request).change_booking(
        request.path_params["code"], day=web.field(data, "date", date),
        at=web.field(data, "time", time), party=web.field(data, "party", int),
        version=data.get("version"), user=web.session_of(request).user)
    return JSONResponse({"reservation": doc})


async def booking_cancel(request: Request) -> JSONResponse:
    data = await web.body(request)
    doc = await web.ops(request).cancel_booking(
        request.path_params["code"], data.get("version"), web.session_of(request).user)
    return JSONResponse({"reservation": doc})


async def booking_status(request: Request) -> JSONResponse:
    data = await web.body(request)
    doc = await web.ops(request).set_booking_status(
        request.path_params["code"], web.field(data, "status"), data.get("version"),
        web.session_of(request).user)
    return JSONResponse({"reservation": doc})


def routes() -> list[Route]:
    post = ["POST"]
    return [
        Route("/api/orders/{order_id}/status", order_status, methods=post),
        Route("/api/messages/{message_id}/done", message_done, methods=post),
        Route("/api/messages/{message_id}/callback", message_call_back, methods=post),
        Route("/api/menu/{item_id}/availability", menu_availability, methods=post),
        Route("/api/bookings", booking_new, methods=post),
        Route("/api/bookings/{code}/change", booking_change, methods=post),
        Route("/api/bookings/{code}/cancel", booking_cancel, methods=post),
        Route("/api/bookings/{code}/status", booking_status, methods=post),
    ]
