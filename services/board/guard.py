"""Nothing answers without sign-in: one ASGI middleware in front of every route.

Signed out: a page request is redirected to /login, anything else gets 401. Writes (any method
but GET/HEAD) also need the session's CSRF token in `X-CSRF-Token` and, when the browser sends
one, an Origin from the board's configured list. A staff session is on the board's own
restaurant or refused (only an owner moves to another site: routes/sites.py). Only /login and
/healthz (which says "ok" and nothing else) are open.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Receive, Scope, Send

from services.board.auth import Accounts, csrf_matches
from services.board.hardening import bad_path, origin_allowed, parse_cookies

COOKIE = "board_session"
# Over HTTPS the board's cookies carry the `__Host-` prefix: a browser keeps such a cookie only
# if it was set Secure, by this exact host, for every path, so a page on another port or a
# sibling name of the restaurant's network cannot plant or overwrite the board's session.
HOST_PREFIX = "__Host-"


def cookie_name(name: str, secure: bool) -> str:
    """The name the board gives cookie `name`: `__Host-`-prefixed when cookies are Secure."""
    return HOST_PREFIX + name if secure else name
OPEN_PATHS = frozenset({"/login", "/healthz"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
     b"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
     b"form-action 'self'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


def cookie_value(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            found = parse_cookies(value.decode("latin-1")).get(name)
            if found is not None:
                return found
    return None


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def wants_page(scope: Scope) -> bool:
    accept = header(scope, b"accept") or ""
    path = scope.get("path", "")
    return (scope.get("method") in SAFE_METHODS and "text/html" in accept
            and not path.startswith(("/api/", "/events", "/static/")))


class SignInRequired:
    def __init__(self, app: ASGIApp, accounts: Any, origins: frozenset[str],
                 secure: bool = False) -> None:
        self.app = app
        self.accounts_ref = accounts  # callable returning Accounts (set up in the lifespan)
        self.origins = origins  # the board's own origins (board/hardening.py)
        self.cookie = cookie_name(COOKIE, secure)  # only this name: never the plain one

    def same_origin(self, scope: Scope) -> bool:
        return origin_allowed(header(scope, b"origin"), self.origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    h for h in SECURITY_HEADERS if h[0] not in names]
            await send(message)

        path = scope.get("path", "")
        method = scope.get("method", "GET")
        if bad_path(path):
            await _respond(send_with_headers, 404, {"error": "not found"})
            return
        if path in OPEN_PATHS:
            if method not in SAFE_METHODS and not self.same_origin(scope):
                await _respond(send_with_headers, 403, {"error": "cross-site request refused"})
                return
            await self.app(scope, receive, send_with_headers)
            return
        accounts: Accounts = self.accounts_ref()
        session = await accounts.session(cookie_value(scope, self.cookie))
        if session is None:
            if wants_page(scope):
                target = path + (("?" + scope["query_string"].decode()) if scope.get(
                    "query_string") else "")
                await _redirect(send_with_headers, "/login?next=" + quote(target, safe=""))
            else:
                await _respond(send_with_headers, 401, {"error": "sign in first"})
            return
        if session.site and session.role != "owner" and path != "/logout":
            # staff are on the board's own restaurant only ("" here): never serve another
            await _respond(send_with_headers, 403,
                           {"error": "staff work on their own restaurant only"})
            return
        if method not in SAFE_METHODS:
            token = header(scope, b"x-csrf-token")
            if not self.same_origin(scope) or not csrf_matches(session, token):
                await _respond(send_with_headers, 403,
                               {"error": "missing or wrong CSRF token; reload the page"})
                return
        scope.setdefault("state", {})["session"] = session
        await self.app(scope, receive, send_with_headers)


async def _respond(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


async def _redirect(send: Send, location: str) -> None:
    await send({"type": "http.response.start", "status": 303, "headers": [
        (b"location", location.encode("latin-1")), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
