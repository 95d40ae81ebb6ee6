"""Staff accounts, for owners only: list, add, change role, disable, reset a password."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.board import web


async def users(request: Request) -> JSONResponse:
    web.owner_only(request)
    accounts = web.board_of(request).need_accounts()
    return JSONResponse({"users": [u.__dict__ for u in await accounts.list_users()]})


async def user_new(request: Request) -> JSONResponse:
    web.owner_only(request)
    data = await web.body(request)
    user = await web.board_of(request).need_accounts().create_user(
        web.field(data, "username"), web.field(data, "password"), web.field(data, "role"))
    return JSONResponse({"user": user.__dict__}, status_code=201)


async def user_change(request: Request) -> JSONResponse:
    web.owner_only(request)
    data = await web.body(request)
    user = await web.board_of(request).need_accounts().update_user(
        request.path_params["username"], role=data.get("role"),
        disabled=data.get("disabled") if isinstance(data.get("disabled"), bool) else None,
        password=data.get("password") or None)
    return JSONResponse({"user": user.__dict__})


def routes() -> list[Route]:
    return [
        Route("/api/users", users, methods=["GET"]),
        Route("/api/users", user_new, methods=["POST"]),
        Route("/api/users/{username}", user_change, methods=["POST"]),
    ]
