"""The staff board: a Starlette app serving pages, a JSON API and one event stream.

Pages are server-rendered shells (Jinja2); board.js fills them from the event stream, which
starts with the current state of the topics a page shows and then carries every change the
Firestore listeners see. Every route sits behind `guard.SignInRequired`. The routes live in
routes/ by concern; what they share (the board of a request, its session, body and fields) is
web.py; this file assembles them with the lifespan and the middleware.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from services.board import availability, pos, undo
from services.board.auth import Accounts
from services.board.guard import SignInRequired
from services.board.hardening import BodyLimit, board_origins
from services.board.routes import errors, pages, reads, signin, sites, stream, users, writes
from services.board.routes.signin import DEVICE_COOKIE, LOGIN_COOKIE
from services.board.settings import BoardSettings
from services.board.signin import SignIn
from services.board.sites import Sites
from services.board.web import HERE, Board
from store import close_sync_client, connect, make_sync_client

__all__ = ["DEVICE_COOKIE", "LOGIN_COOKIE", "build_app"]
log = logging.getLogger("board")


def _lifespan(board: Board) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    settings = board.settings

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The accounts are the board's own restaurant's (store/scope.py); each site's data is
        # reached through that site's scope only (sites.py).
        manager = await connect(settings, restaurant_id=settings.board_restaurant)
        sync_client = make_sync_client(settings)
        board.accounts = Accounts(manager.db, settings.board_session_hours)
        board.signin = SignIn(manager.db)
        board.sites = Sites(manager, sync_client, settings, asyncio.get_running_loop())
        await _first_owner(board)
        restaurant = await board.sites.ops(manager.restaurant_id).restaurant()
        board.sites.start_home(datetime.now(restaurant.tz).date())
        app.state.board = board
        try:
            yield
        finally:
            board.sites.close()
            board.signin.queue.close()
            close_sync_client(sync_client)
            await manager.close()

    return lifespan


async def _first_owner(board: Board) -> None:
    settings, accounts = board.settings, board.need_accounts()
    if settings.board_owner_username and settings.board_owner_password:
        created = await accounts.ensure_owner(
            settings.board_owner_username, settings.board_owner_password.get_secret_value())
        if created:
            log.info("created the first owner account %s", settings.board_owner_username)
    await accounts.purge_expired()
    if not await accounts.list_users():
        log.warning("no staff accounts yet: set BOARD_OWNER_USERNAME and BOARD_OWNER_PASSWORD, "
                    "or run `python -m services.board create-user --owner`")


def build_app(settings: BoardSettings) -> Starlette:
    board = Board(settings)
    routes = [
        *signin.routes(), *pages.routes(), *stream.routes(), *reads.routes(),
        *users.routes(), *sites.routes(), *writes.routes(), *undo.routes(), *availability.routes(),
        *pos.routes(),  # the point of sale (services/board/pos.py)
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=_lifespan(board),
                    exception_handlers=errors.handlers())
    app.add_middleware(SignInRequired, accounts=board.need_accounts, origins=board_origins(
        settings.board_origins, settings.board_host, settings.board_port),
        secure=settings.board_cookie_secure)
    app.add_middleware(BodyLimit)
    return app
