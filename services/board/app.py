"""The staff board: a Starlette app serving pages, a JSON API and one event stream.

Pages are server-rendered shells (Jinja2); board.js fills them from the event stream, which
starts with the current state of the topics a page shows and then carries every change the
Firestore listeners see. Every route sits behind `guard.SignInRequired`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from google.cloud.firestore_v1.base_query import FieldFilter
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from domain import booking
from domain.seating import minute_of
from services.board import availability, undo
from services.board.auth import Accounts, AuthError, Session
from services.board.guard import COOKIE, SignInRequired
from services.board.live import TOPICS, Hub, doc_json
from services.board.numbers import summarize
from services.board.operations import BOOKING_ERRORS, Operations, Rejected
from services.board.pos import pos_routes
from services.board.settings import BoardSettings
from services.board.words import clock_text, locale_of, phone_text
from store import (
    ReservationCancelled,
    StaleReservation,
    close_sync_client,
    connect,
    make_sync_client,
)
from store.scope import scoped

log = logging.getLogger("board")
HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
LOGIN_COOKIE = "board_login"
# The sign-in form's token: a tablet left on the sign-in page overnight still signs in first try
# (the token only pairs the form with this browser; the Origin check guards the POST too).
LOGIN_FORM_S = 24 * 3600
PING_S = 15.0
PAGES = {
    "orders": "Orders", "bookings": "Bookings", "messages": "Messages", "calls": "Calls",
    "menu": "Menu", "numbers": "Numbers",
}


class Board:
    """What the routes share; built in the lifespan."""

    def __init__(self, settings: BoardSettings) -> None:
        self.settings = settings
        self.accounts: Accounts | None = None
        self.ops: Operations | None = None
        self.hub: Hub | None = None

    def need_accounts(self) -> Accounts:
        if self.accounts is None:
            raise RuntimeError("board not started")
        return self.accounts


def _session(request: Request) -> Session:
    return request.scope["state"]["session"]


def _owner_only(request: Request) -> Session:
    session = _session(request)
    if session.role != "owner":
        raise HTTPException(403, "only an owner can do this")
    return session


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(400, "send a JSON object") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "send a JSON object")
    return data


def _field(data: dict[str, Any], name: str, kind: type = str) -> Any:
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


def build_app(settings: BoardSettings) -> Starlette:
    board = Board(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Everything below sees one restaurant only (store/scope.py): its data, its accounts.
        manager = await connect(settings, restaurant_id=settings.board_restaurant)
        sync_client = make_sync_client(settings)
        board.accounts = Accounts(manager.db, settings.board_session_hours)
        board.ops = Operations(manager, sync_client, settings)
        if settings.board_owner_username and settings.board_owner_password:
            created = await board.accounts.ensure_owner(
                settings.board_owner_username,
                settings.board_owner_password.get_secret_value())
            if created:
                log.info("created the first owner account %s", settings.board_owner_username)
        await board.accounts.purge_expired()
        if not await board.accounts.list_users():
            log.warning("no staff accounts yet: set BOARD_OWNER_USERNAME and BOARD_OWNER_PASSWORD, "
                        "or run `python -m services.board create-user --owner`")
        restaurant = await board.ops.restaurant()
        board.hub = Hub(scoped(sync_client, manager.restaurant_id),
                        asyncio.get_running_loop()).start(
            datetime.now(restaurant.tz).date())
        app.state.board = board
        try:
            yield
        finally:
            board.hub.close()
            close_sync_client(sync_client)
            await manager.close()

    ops = lambda: _need(board.ops)  # noqa: E731
    hub = lambda: _need(board.hub)  # noqa: E731

    # ------------------------------------------------------------ sign-in

    async def login_page(request: Request) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = templates.TemplateResponse(request, "login.html", {
            "csrf": token, "next": _safe_next(request.query_params.get("next")),
            "error": request.query_params.get("error")})
        response.set_cookie(LOGIN_COOKIE, token, max_age=LOGIN_FORM_S, httponly=True,
                            samesite="strict", secure=settings.board_cookie_secure)
        return response

    async def login(request: Request) -> RedirectResponse:
        form = await request.form()
        nxt = _safe_next(str(form.get("next") or ""))
        expected = request.cookies.get(LOGIN_COOKIE)
        if not expected or not secrets.compare_digest(expected, str(form.get("csrf") or "")):
            return RedirectResponse("/login?error=expired", 303)
        user = await board.need_accounts().authenticate(
            str(form.get("username") or ""), str(form.get("password") or ""))
        if user is None:
            return RedirectResponse("/login?error=wrong&next=" + nxt, 303)
        token, session = await board.need_accounts().start_session(user)
        response = RedirectResponse(nxt, 303)
        response.set_cookie(COOKIE, token, expires=session.expires_at, httponly=True,
                            samesite="strict", secure=settings.board_cookie_secure)
        response.delete_cookie(LOGIN_COOKIE)
        return response

    async def logout(request: Request) -> JSONResponse:
        await board.need_accounts().end_session(request.cookies.get(COOKIE))
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE)
        return response

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    # ------------------------------------------------------------ pages

    def page(name: str) -> Any:
        async def render(request: Request) -> HTMLResponse:
            session = _session(request)
            if name == "users":
                _owner_only(request)
            restaurant = await ops().restaurant()
            return templates.TemplateResponse(request, "page.html", {
                "page": name, "pages": PAGES, "session": session, "restaurant": restaurant,
                "title": PAGES.get(name, "Staff accounts"), "locale": locale_of(restaurant),
            })
        return render

    async def home(request: Request) -> RedirectResponse:
        return RedirectResponse("/orders", 303)

    async def ticket(request: Request) -> HTMLResponse:
        snap = await ops().db.document(f"orders/{request.path_params['order_id']}").get()
        if not snap.exists:
            raise HTTPException(404, "no such order")
        restaurant = await ops().restaurant()
        order = snap.to_dict() or {}
        tz = restaurant.tz
        placed = order["created_at"].astimezone(tz)
        return templates.TemplateResponse(request, "ticket.html", {
            "order": order, "restaurant": restaurant,
            "pickup": clock_text(order["pickup_time"].astimezone(tz).time()),
            "placed": f"{placed.strftime('%a %d %b')} {clock_text(placed.time())}",
            "phone": phone_text(order.get("customer_phone")),
        })

    # ------------------------------------------------------------ reads

    async def me(request: Request) -> JSONResponse:
        s = _session(request)
        return JSONResponse({"username": s.username, "role": s.role, "csrf": s.csrf,
                             "expires_at": s.expires_at.isoformat()})

    def topic_api(topic: str) -> Any:
        async def read(request: Request) -> JSONResponse:
            return JSONResponse({topic: await hub().snapshot(topic)})
        return read

    async def timeline(request: Request) -> JSONResponse:
        """How full the room is at each seating time of a day: the guests whose meal (their
        hold, domain/seating.py) covers that moment, against the room's chairs."""
        restaurant = await ops().restaurant()
        day = _day(request.query_params.get("day"), restaurant.tz)
        holds = await ops().manager.holds_on(day)
        plan = restaurant.seating
        chairs = plan.seats if plan.seats is not None else sum(t.seats for t in plan.tables)

        def seated(at: time) -> int:
            m = minute_of(at)
            return sum(h.party_size for h in holds if h.start <= m < h.end)

        return JSONResponse({"day": day.isoformat(), "capacity": chairs,
                             "slots": [{"time": t.strftime("%H:%M"), "used": seated(t)}
                                       for t in booking.seating_times(restaurant, day)]})

    async def calls(request: Request) -> JSONResponse:
        restaurant = await ops().restaurant()
        day = _day(request.query_params.get("day"), restaurant.tz)
        outcome = request.query_params.get("outcome") or None
        start = datetime.combine(day, time(0), restaurant.tz)
        query = (ops().db.collection("call_logs")
                 .where(filter=FieldFilter("started_at", ">=", start))
                 .where(filter=FieldFilter("started_at", "<", start + timedelta(days=1))))
        found = [doc_json(s) async for s in query.stream()]
        if outcome:
            found = [c for c in found if c.get("outcome") == outcome]
        found.sort(key=lambda c: c.get("started_at") or "", reverse=True)
        return JSONResponse({"day": day.isoformat(), "calls": found})

    async def numbers(request: Request) -> JSONResponse:
        session = _session(request)
        restaurant = await ops().restaurant()
        tz = restaurant.tz
        try:
            days = max(1, min(90, int(request.query_params.get("days") or 14)))
        except ValueError:
            days = 14
        last = datetime.now(tz).date()
        first = last - timedelta(days=days - 1)
        start = datetime.combine(first, time(0), tz)
        db = ops().db

        async def docs(collection: str, field: str, low: Any) -> list[dict[str, Any]]:
            q = db.collection(collection).where(filter=FieldFilter(field, ">=", low))
            return [s.to_dict() or {} async for s in q.stream()]

        calls_, orders_, res_ = await asyncio.gather(
            docs("call_logs", "started_at", start), docs("orders", "created_at", start),
            docs("reservations", "date", first.isoformat()))
        return JSONResponse(summarize(
            calls=calls_, orders=orders_, reservations=res_, first_day=first, last_day=last,
            tz=tz, with_revenue=session.role == "owner"))

    # ------------------------------------------------------------ writes

    async def order_status(request: Request) -> JSONResponse:
        data = await _body(request)
        doc = await ops().set_order_status(
            request.path_params["order_id"], _field(data, "status"), data.get("version"),
            _session(request).user, str(data.get("reason") or ""))
        return JSONResponse({"order": doc})

    async def message_done(request: Request) -> JSONResponse:
        data = await _body(request)
        doc = await ops().mark_message(request.path_params["message_id"],
                                       bool(data.get("done", True)), data.get("version"),
                                       _session(request).user)
        return JSONResponse({"message": doc})

    async def message_call_back(request: Request) -> JSONResponse:
        data = await _body(request)
        call = await ops().call_back(request.path_params["message_id"], data.get("at"))
        return JSONResponse({"call": call}, status_code=201)

    async def outbound(request: Request) -> JSONResponse:
        return JSONResponse({"calls": await ops().outbound_calls()})

    async def menu_availability(request: Request) -> JSONResponse:
        data = await _body(request)
        available = data.get("available")
        if not isinstance(available, bool):
            raise Rejected("available: true or false")
        await ops().set_available(request.path_params["item_id"], available)
        return JSONResponse({"ok": True})

    async def booking_new(request: Request) -> JSONResponse:
        data = await _body(request)
        result = await ops().book(
            day=_field(data, "date", date), at=_field(data, "time", time),
            party=_field(data, "party", int), name=_field(data, "name"),
            phone=_field(data, "phone"), notes=str(data.get("notes") or ""),
            user=_session(request).user)
        return JSONResponse(result, status_code=201)

    async def booking_change(request: Request) -> JSONResponse:
        data = await _body(request)
        doc = await ops().change_booking(
            request.path_params["code"], day=_field(data, "date", date),
            at=_field(data, "time", time), party=_field(data, "party", int),
            version=data.get("version"), user=_session(request).user)
        return JSONResponse({"reservation": doc})

    async def booking_cancel(request: Request) -> JSONResponse:
        data = await _body(request)
        doc = await ops().cancel_booking(request.path_params["code"], data.get("version"),
                                         _session(request).user)
        return JSONResponse({"reservation": doc})

    async def booking_status(request: Request) -> JSONResponse:
        data = await _body(request)
        doc = await ops().set_booking_status(request.path_params["code"],
                                             _field(data, "status"), data.get("version"),
                                             _session(request).user)
        return JSONResponse({"reservation": doc})

    # ------------------------------------------------------------ users (owner)

    async def users(request: Request) -> JSONResponse:
        _owner_only(request)
        return JSONResponse({"users": [u.__dict__ for u in
                                       await board.need_accounts().list_users()]})

    async def user_new(request: Request) -> JSONResponse:
        _owner_only(request)
        data = await _body(request)
        user = await board.need_accounts().create_user(
            _field(data, "username"), _field(data, "password"), _field(data, "role"))
        return JSONResponse({"user": user.__dict__}, status_code=201)

    async def user_change(request: Request) -> JSONResponse:
        _owner_only(request)
        data = await _body(request)
        user = await board.need_accounts().update_user(
            request.path_params["username"], role=data.get("role"),
            disabled=data.get("disabled") if isinstance(data.get("disabled"), bool) else None,
            password=data.get("password") or None)
        return JSONResponse({"user": user.__dict__})

    # ------------------------------------------------------------ the event stream

    async def events(request: Request) -> EventSourceResponse:
        session = _session(request)
        asked = {t for t in (request.query_params.get("topics") or "").split(",") if t}
        wanted = frozenset(asked) if asked else frozenset(TOPICS)
        h = hub()
        for topic in wanted & frozenset(TOPICS):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await h.ready[topic].wait()
        # Subscribe and copy the state in one step of the loop: nothing falls in between.
        sub = h.subscribe(wanted)
        reset = {t: list(h.state[t].values()) for t in sub.topics}

        async def stream() -> AsyncIterator[dict[str, str]]:
            try:
                yield {"event": "reset", "data": json.dumps(reset)}
                while True:
                    try:
                        async with asyncio.timeout(PING_S):
                            change = await sub.queue.get()
                    except TimeoutError:
                        if await board.need_accounts().session(
                                request.cookies.get(COOKIE)) is None:
                            yield {"event": "signed-out", "data": "{}"}
                            return
                        yield {"event": "ping", "data": "{}"}
                        continue
                    if change is None:  # dropped (too far behind) or closing: reconnect
                        return
                    yield {"event": "change", "data": json.dumps(change.as_event())}
            finally:
                h.unsubscribe(sub)

        if session.expired(datetime.now(UTC)):
            raise HTTPException(401, "sign in first")
        return EventSourceResponse(stream(), ping=None)

    # ------------------------------------------------------------ errors

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
            return HTMLResponse(f"<h1>{exc.status_code}</h1><p>{exc.detail}</p>"
                                '<p><a href="/orders">Back to the board</a></p>',
                                exc.status_code)
        return JSONResponse({"error": exc.detail}, exc.status_code)

    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home),
        *[Route(f"/{name}", page(name)) for name in PAGES],
        Route("/users", page("users")),
        Route("/orders/{order_id}/ticket", ticket),
        Route("/events", events),
        Route("/api/me", me),
        Route("/api/orders", topic_api("orders")),
        Route("/api/reservations", topic_api("reservations")),
        Route("/api/messages", topic_api("messages")),
        Route("/api/menu", topic_api("menu")),
        Route("/api/timeline", timeline),
        Route("/api/calls", calls),
        Route("/api/numbers", numbers),
        Route("/api/users", users, methods=["GET"]),
        Route("/api/users", user_new, methods=["POST"]),
        Route("/api/users/{username}", user_change, methods=["POST"]),
        Route("/api/orders/{order_id}/status", order_status, methods=["POST"]),
        Route("/api/messages/{message_id}/done", message_done, methods=["POST"]),
        Route("/api/messages/{message_id}/callback", message_call_back, methods=["POST"]),
        Route("/api/outbound", outbound),
        Route("/api/menu/{item_id}/availability", menu_availability, methods=["POST"]),
        Route("/api/bookings", booking_new, methods=["POST"]),
        Route("/api/bookings/{code}/change", booking_change, methods=["POST"]),
        Route("/api/bookings/{code}/cancel", booking_cancel, methods=["POST"]),
        Route("/api/bookings/{code}/status", booking_status, methods=["POST"]),
        *undo.routes(ops, _session, _body),
        *availability.routes(ops, _day),
        *pos_routes(ops),  # the point of sale (services/board/pos.py)
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(
        routes=routes, lifespan=lifespan,
        exception_handlers={Rejected: rejected, AuthError: auth_error,
                            HTTPException: http_error,
                            **dict.fromkeys(BOOKING_ERRORS, booking_error)},
    )
    app.add_middleware(SignInRequired, accounts=board.need_accounts)
    return app


def _need(value: Any) -> Any:
    if value is None:
        raise RuntimeError("board not started")
    return value


def _day(raw: str | None, tz: Any) -> date:
    if not raw:
        return datetime.now(tz).date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Rejected(f"day: {raw!r} is not a date (YYYY-MM-DD)", 400) from None


def _safe_next(raw: str | None) -> str:
    """Only a path on this board (no open redirect to another site)."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or urlsplit(raw).netloc:
        return "/orders"
    return raw
