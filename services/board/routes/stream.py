"""The event stream every open page listens to: the current state of the topics it shows,
then every change, as the signed-in role may see it, of the site the session is on; it ends
within SESSION_CHECK_S of a sign-out, a disabled account or a password reset, however busy the
evening, and of an owner's switch to another site (the page reloads on that site)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sse_starlette.sse import EventSourceResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from services.board import web
from services.board.auth import Accounts, Session
from services.board.guard import COOKIE
from services.board.live import TOPICS, Change, Subscriber
from services.board.roles import may_see, visible

PING_S = 15.0
SESSION_CHECK_S = 0.5  # an open stream re-reads its session this often, however busy


async def events(request: Request) -> EventSourceResponse:
    session = web.session_of(request)
    asked = {t for t in (request.query_params.get("topics") or "").split(",") if t}
    wanted = frozenset(asked) if asked else frozenset(TOPICS)
    h = web.hub(request)
    for topic in wanted & frozenset(TOPICS):
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await h.ready[topic].wait()
    tz = (await web.ops(request).restaurant()).tz
    # Subscribe and copy the state in one step of the loop: nothing falls in between.
    sub = h.subscribe(wanted)
    reset = {t: visible(session, t, list(h.state[t].values()), tz) for t in sub.topics}
    if session.expired(datetime.now(UTC)):
        h.unsubscribe(sub)
        raise HTTPException(401, "sign in first")
    accounts = web.board_of(request).need_accounts()
    token = request.cookies.get(web.cookie_name(request, COOKIE))
    changes = _stream(accounts, token, session, sub, reset, tz)

    async def stream() -> AsyncIterator[dict[str, str]]:
        try:
            async with contextlib.aclosing(changes) as events_:
                async for event in events_:
                    yield event
        finally:
            h.unsubscribe(sub)

    return EventSourceResponse(stream(), ping=None)


async def _stream(accounts: Accounts, token: str | None, session: Session, sub: Subscriber,
                  reset: dict[str, list[dict[str, object]]], tz: object,
                  ) -> AsyncIterator[dict[str, str]]:
    yield {"event": "reset", "data": json.dumps(reset)}
    loop = asyncio.get_running_loop()
    checked = pinged = loop.time()
    while True:
        now = loop.time()
        if now - checked >= SESSION_CHECK_S:  # however many changes flow
            now_on = await accounts.session(token, fresh=True)
            if now_on is None:
                yield {"event": "signed-out", "data": "{}"}
                return
            if now_on.site != session.site:  # not one more of the old site's changes
                yield {"event": "site", "data": "{}"}
                return
            checked = now
        if now - pinged >= PING_S:
            yield {"event": "ping", "data": "{}"}
            pinged = now
        try:
            async with asyncio.timeout(SESSION_CHECK_S - (now - checked)):
                change = await sub.queue.get()
        except TimeoutError:
            continue
        if change is None:  # dropped (too far behind) or closing: reconnect
            return
        if accounts.known_site(session.token_hash) not in (None, session.site):
            yield {"event": "site", "data": "{}"}  # switched here: not this change of the old site
            return
        if change.doc is not None and not may_see(session, change.topic, change.doc, tz):
            change = Change(change.topic, "remove", change.id, None)
        yield {"event": "change", "data": json.dumps(change.as_event())}


def routes() -> list[Route]:
    return [Route("/events", events)]
