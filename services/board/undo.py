"""Undo on the board: a tap on Seated, Finished, No-show, Picked up, Ready or Cancel can be
taken back for a short while by the person who made it.

An undo is a write like any other (the version the tablet got back from its change is the
precondition, so a change made since on another screen is never overwritten), and it may only
go back along a move the board allows the other way round: an order that became `cancelled`
from `preparing` goes back to `preparing`; a booking goes back to the status its history
recorded before the tap, and the tap's history entry goes (it was a mis-tap, undone).
A booking's Cancel frees seats through the line's own code and is not undone here: the page
waits a few seconds before it sends it, with Undo on screen (board.js).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.board import web
from services.board.auth import User
from services.board.operations import (
    BOOKING_MOVES,
    ORDER_MOVES,
    Conflict,
    InView,
    Operations,
    Rejected,
    _actor,
    everything,
)

UNDO_WINDOW = timedelta(minutes=2)  # the page offers Undo for 10 s; the server allows slack


def _recent(iso: str | None, now: datetime) -> bool:
    if not iso:
        return False
    return now - datetime.fromisoformat(iso) <= UNDO_WINDOW


async def undo_order(ops: Operations, order_id: str, back_to: str, version: str | None,
                     user: User, seen: InView = everything) -> dict[str, Any]:
    what = "order"
    current = await ops.order_in_view(order_id, seen)
    if current["_version"] != version:
        if current.get("status") == back_to and current.get("updated_by") == user.username:
            return current  # a second tap on Undo
        raise Conflict(current, what)
    now_status = current.get("status", "confirmed")
    if current.get("updated_by") != user.username:
        raise Rejected("only the person who made the change can undo it", 403)
    if not _recent(current.get("updated_at"), datetime.now(UTC)):
        raise Rejected("too late to undo: use the card's buttons instead")
    if now_status not in ORDER_MOVES.get(back_to, set()):
        raise Rejected(f"status: an order that is {now_status} did not come from {back_to}")
    fields: dict[str, Any] = {"status": back_to, "updated_at": datetime.now(UTC),
                              "updated_by": user.username}
    if now_status == "cancelled":
        fields["cancel_reason"] = ""
    return await ops._update(f"orders/{order_id}", version, fields, what)


async def undo_booking(ops: Operations, code: str, version: str | None,
                       user: User) -> dict[str, Any]:
    what = "booking"
    current = await ops._current(f"reservations/{code}", what)
    history = list(current.get("history") or [])
    last = history[-1] if history else {}
    if current["_version"] != version:
        raise Conflict(current, what)
    status = current.get("status", "confirmed")
    back_to = (last.get("before") or {}).get("status")
    if last.get("action") != status or back_to is None or \
            status not in BOOKING_MOVES.get(back_to, set()):
        raise Rejected(f"there is nothing to undo on this booking (it is {status})")
    if last.get("call_id") != _actor(user):
        raise Rejected("only the person who made the change can undo it", 403)
    if not _recent(last.get("at"), datetime.now(UTC)):
        raise Rejected("too late to undo: ask a manager to correct it")
    doc = await ops.staff.raw(f"reservations/{code}") or {}
    fields = {"status": back_to, "updated_at": datetime.now(UTC),
              "history": (doc.get("history") or [])[:-1]}
    return await ops._update(f"reservations/{code}", version, fields, what)


def routes() -> list[Route]:
    """The undo routes."""

    async def order(request: Request) -> JSONResponse:
        data = await web.body(request)
        back_to = data.get("status")
        if not isinstance(back_to, str) or not back_to:
            raise Rejected("status: required")
        doc = await undo_order(web.ops(request), request.path_params["order_id"], back_to,
                               data.get("version"), web.session_of(request).user,
                               await web.orders_in_view(request))
        return JSONResponse({"order": doc})

    async def booking(request: Request) -> JSONResponse:
        data = await web.body(request)
        doc = await undo_booking(web.ops(request), request.path_params["code"], data.get("version"),
                                 web.session_of(request).user)
        return JSONResponse({"reservation": doc})

    return [
        Route("/api/orders/{order_id}/undo", order, methods=["POST"]),
        Route("/api/bookings/{code}/undo", booking, methods=["POST"]),
    ]
