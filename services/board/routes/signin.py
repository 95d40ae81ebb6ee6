"""Signing in and out: the sign-in form, the attempt (slowed per client and account, never a
lockout of the owner: services/board/signin.py), the session and device cookies."""

from __future__ import annotations

import secrets
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Route

from services.board import web
from services.board.guard import COOKIE

LOGIN_COOKIE = "board_login"
DEVICE_COOKIE = "board_device"  # this browser signed in before (board/signin.py)
# The sign-in form's token: a tablet left on the sign-in page overnight still signs in first try
# (the token only pairs the form with this browser; the Origin check guards the POST too).
LOGIN_FORM_S = 24 * 3600


async def login_page(request: Request, error: str | None = None, status: int = 200,
                     token: str | None = None) -> HTMLResponse:
    token = token or secrets.token_urlsafe(24)
    response = web.templates.TemplateResponse(request, "login.html", {
        "csrf": token, "next": web.safe_next(request.query_params.get("next")),
        "error": error or request.query_params.get("error")}, status_code=status)
    response.set_cookie(_name(request, LOGIN_COOKIE), token, max_age=LOGIN_FORM_S,
                        httponly=True, samesite="strict", secure=_secure(request))
    return response


async def login(request: Request) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    nxt = web.safe_next(str(form.get("next") or ""))
    expected = request.cookies.get(_name(request, LOGIN_COOKIE))
    if not expected or not secrets.compare_digest(
            expected.encode(), str(form.get("csrf") or "").encode()):
        return RedirectResponse("/login?error=expired", 303)
    board = web.board_of(request)
    device = request.cookies.get(_name(request, DEVICE_COOKIE))
    attempt = await board.need_signin().attempt(
        str(form.get("username") or ""), str(form.get("password") or ""),
        request.client.host if request.client else "", device)
    if attempt.refused:
        refused = await login_page(request, "busy" if attempt.busy else "wait", 429,
                                   token=expected)
        refused.headers["retry-after"] = str(max(1, round(attempt.wait_s)))
        return refused
    if attempt.user is None:
        return RedirectResponse("/login?error=wrong&next=" + quote(nxt, safe=""), 303)
    token, session = await board.need_accounts().start_session(attempt.user)
    response = RedirectResponse(nxt, 303)
    response.set_cookie(_name(request, COOKIE), token, expires=session.expires_at,
                        httponly=True, samesite="strict", secure=_secure(request))
    response.delete_cookie(_name(request, LOGIN_COOKIE), httponly=True, samesite="strict",
                           secure=_secure(request))
    device = secrets.token_urlsafe(32)
    await board.need_signin().records.remember_device(device, attempt.user.username)
    response.set_cookie(_name(request, DEVICE_COOKIE), device, max_age=90 * 86400,
                        httponly=True, samesite="strict", secure=_secure(request))
    return response


async def logout(request: Request) -> JSONResponse:
    await web.board_of(request).need_accounts().end_session(
        request.cookies.get(_name(request, COOKIE)))
    response = JSONResponse({"ok": True})
    response.delete_cookie(_name(request, COOKIE), httponly=True, samesite="strict",
                           secure=_secure(request))
    return response


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _name(request: Request, name: str) -> str:
    """`__Host-`-prefixed over HTTPS (services/board/guard.py)."""
    return web.cookie_name(request, name)


def _secure(request: Request) -> bool:
    return web.board_of(request).settings.board_cookie_secure


def routes() -> list[Route]:
    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/logout", logout, methods=["POST"]),
    ]
