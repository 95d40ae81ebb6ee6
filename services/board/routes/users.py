"""Staff accounts, for owners only: list, add, change role, disable, reset a password.

An owner of one restaurant cannot change the account of an owner who also runs restaurants they
do not (a chain's owner, services/board/auth.py `User.sites`): a password reset there would be a
way into the other restaurants."""

from __future__ import annotations

from starlette.exceptions import HTTPException
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
    accounts = web.board_of(request).need_accounts()
    target = await accounts.get_user(request.path_params["username"])
    # their sites as given, even while disabled or staff: enabling or promoting comes next
    if target is not None and not set(target.sites) <= set(await web.sites_of(request)):
        raise HTTPException(403, "that owner also runs restaurants you do not")
    user = await accounts.update_user(
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
