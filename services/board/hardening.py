"""What the board refuses before any route runs, and how it answers errors.

* Cookies are parsed pair by pair: one malformed cookie (another site's on the same host)
  costs only itself, never the session cookie beside it.
* Writes from a browser must come from one of the board's own origins, a configured list
  (`BOARD_ORIGINS`), never whatever the Host header claims.
* A request body larger than `MAX_BODY` is refused with 413 before it is read in full.
* A path with a `.` or `..` segment names no document: 404 before it reaches Firestore.
* The error page escapes what it shows.
"""

from __future__ import annotations

import html
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 64 * 1024  # bytes: the largest write (a booking with notes) is far below


def parse_cookies(raw: str) -> dict[str, str]:
    """`name=value` pairs separated by `;`; a pair without `=` or with an odd name is skipped."""
    found: dict[str, str] = {}
    for part in raw.split(";"):
        name, eq, value = part.strip().partition("=")
        name = name.strip()
        if not eq or not name or not name.isascii() or any(c in name for c in ' ",\\'):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        found.setdefault(name, value)
    return found


DEFAULT_PORTS = {"https": ":443", "http": ":80"}


def normal_origin(origin: str) -> str:
    """`scheme://host[:port]` lower-cased, without a trailing `/` or the scheme's default port
    (a browser sends `https://board.lan`, compose configures `https://board.lan:443`)."""
    origin = origin.strip().rstrip("/").lower()
    scheme = origin.partition("://")[0]
    default = DEFAULT_PORTS.get(scheme)
    return origin[: -len(default)] if default and origin.endswith(default) else origin


def board_origins(configured: str, host: str, port: int) -> frozenset[str]:
    """The origins a write may come from: `configured` (comma-separated), else the loopback
    names of this port (a board on 0.0.0.0 behind a proxy must set BOARD_ORIGINS)."""
    listed = {normal_origin(o) for o in configured.split(",") if o.strip()}
    if listed:
        return frozenset(listed)
    names = {"127.0.0.1", "localhost"} | ({host} if host not in ("0.0.0.0", "::") else set())
    return frozenset(normal_origin(f"http://{n}:{port}") for n in names)


def origin_allowed(origin: str | None, allowed: frozenset[str]) -> bool:
    """No Origin header (not a browser's cross-site request) passes; `null` never does."""
    if origin is None:
        return True
    return normal_origin(origin) in allowed


def bad_path(path: str) -> bool:
    return any(part in (".", "..") for part in path.split("/"))


class BodyLimit:
    """413 for a body over `limit` bytes, by Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await respond(send, 413, {"error": "request too large"})
                return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise TooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracking)
        except TooLarge:
            if not started:
                await respond(send, 413, {"error": "request too large"})


class TooLarge(Exception):
    pass


def error_page(status: int, detail: Any) -> str:
    return (f"<h1>{status}</h1><p>{html.escape(str(detail))}</p>"
            '<p><a href="/orders">Back to the board</a></p>')


async def respond(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
