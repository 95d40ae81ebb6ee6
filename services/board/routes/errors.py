"""How a refusal reaches staff: a JSON error (with the document as it is now on a conflict), or
an escaped error page for a browser."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from services.board.auth import AuthError
from services.board.hardening import error_page
from services.board.operations import BOOKING_ERRORS, Rejected
from store import ReservationCancelled, StaleReservation


async def rejected(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Rejected)
    return JSONResponse({"error": str(exc), "current": exc.current}, status_code=exc.status)


async def auth_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=422)


async def booking_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, StaleReservation):
        return JSONResponse({"error": "booking was changed on another screen; here is "
                             "the latest, check it and try again",
                             "current": exc.current.model_dump(mode="json")}, 409)
    if isinstance(exc, ReservationCancelled):
        return JSONResponse({"error": "the booking is cancelled"}, 409)
    return JSONResponse({"error": str(exc)}, 404)


async def http_error(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, HTTPException)
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(error_page(exc.status_code, exc.detail), exc.status_code)
    return JSONResponse({"error": exc.detail}, exc.status_code)


def handlers() -> dict[Any, Any]:
    return {Rejected: rejected, AuthError: auth_error, HTTPException: http_error,
            **dict.fromkeys(BOOKING_ERRORS, booking_error)}
