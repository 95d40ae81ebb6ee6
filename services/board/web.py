"""What every route of the board shares: the board a request belongs to (its accounts, sign-in,
and its sites' operations and live hubs), the signed-in session and the site it is on, the JSON
body and its fields, and the pages' templates."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from services.board import guard
from services.board.auth import Accounts, Session
from services.board.live import Hub
from services.board.operations import InView, Operations, Rejected, everything
from services.board.roles import may_see
from services.board.settings import BoardSettings
from services.board.signin import SignIn
from services.board.sites import Sites

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
PAGES = {
    "orders": "Orders", "bookings": "Bookings", "messages": "Messages", "calls": "Calls",
    "menu": "Menu", "numbers": "Numbers",
}


class Board:
    """What the routes share; built in the lifespan (app.py)."""

    def __init__(self, settings: BoardSettings) -> None:
        self.settings = settings
        self.accounts: Accounts | None = None
        self.signin: SignIn | None = None
        self.sites: Sites | None = None

    def need_accounts(self) -> Accounts:
        return _need(self.accounts)

    def need_signin(self) -> SignIn:
        return _need(self.signin)

    def need_sites(self) -> Sites:
        return _need(self.sites)


def _need(value: Any) -> Any:
    if value is None:
        raise RuntimeError("board not started")
    return value


def board_of(request: Request) -> Board:
    return request.app.state.board


def site_of(request: Request) -> str:
    """The restaurant this request's session is on. Staff are always on the board's own; an
    owner only moves to one of their sites (routes/sites.py), so this is a second fence."""
    session, home = session_of(request), board_of(request).need_sites().home
    site = session.site or home
    if site != home and session.role != "owner":
        raise HTTPException(403, "staff work on their own restaurant only")
    return site


async def sites_of(request: Request) -> list[str]:
    """The sites the signed-in person may be on, read from their account now (the board's own
    first): staff, one; an owner, theirs."""
    session, board = session_of(request), board_of(request)
    home = board.need_sites().home
    if session.role != "owner":
        return [home]
    user = await board.need_accounts().get_user(session.username)
    return list(user.may_use(home)) if user is not None else [home]


def ops(request: Request) -> Operations:
    """The operations of the request's site: everything it reads or writes is in that scope."""
    return board_of(request).need_sites().ops(site_of(request))


def hub(request: Request) -> Hub:
    return board_of(request).need_sites().hub(site_of(request))


def cookie_name(request: Request, name: str) -> str:
    """What this board calls cookie `name` (`__Host-`-prefixed when served over HTTPS)."""
    return guard.cookie_name(name, board_of(request).settings.board_cookie_secure)


def session_of(request: Request) -> Session:
    return request.scope["state"]["session"]


def owner_only(request: Request) -> Session:
    session = session_of(request)
    if session.role != "owner":
        raise HTTPException(403, "only an owner can do this")
    return session


async def orders_in_view(request: Request) -> InView:
    """Which orders the signed-in person's page shows (roles.py: staff, today's only)."""
    session = session_of(request)
    if session.role == "owner":
        return everything
    tz = (await ops(request).restaurant()).tz
    return lambda doc: may_see(session, "orders", doc, tz)


async def body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(400, "send a JSON object") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "send a JSON object")
    return data


def field(data: dict[str, Any], name: str, kind: type = str) -> Any:
    value = data.get(name)
    if value is None or value == "":
        raise Rejected(f"{name}: required")
    try:
        if kind is date:
            return date.fromisoformat(str(value))
        if kind is time:
            return time.fromisoformat(str(value))
        if kind is int:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        return str(value)
    except ValueError:
        raise Rejected(f"{name}: {value!r} is not a valid {kind.__name__}") from None


def day_of(raw: str | None, tz: Any) -> date:
    if not raw:
        return datetime.now(tz).date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Rejected(f"day: {raw!r} is not a date (YYYY-MM-DD)", 400) from None


def safe_next(raw: str | None) -> str:
    """Only a path on this board (no open redirect to another site). Browsers read a
    backslash as a slash (`/\\evil.example` is `//evil.example`) and drop tabs and newlines."""
    if (not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw
            or any(ord(c) < 32 or ord(c) == 127 for c in raw) or urlsplit(raw).netloc):
        return "/orders"
    return raw
