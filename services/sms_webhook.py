"""Inbound texts: Twilio's messaging webhook (`python -m services.sms_webhook`, docs/pos.md).

Every request's `X-Twilio-Signature` is checked as Twilio signs it (HMAC-SHA1 over the public
webhook URL and the sorted POST parameters, with the account's auth token, through the twilio
SDK's own RequestValidator); an unsigned or badly signed request gets 403 and changes nothing.
The text goes to the restaurant whose number it was sent to (the same directory the phone line
routes calls with), and what it does is actions/texts.py's `inbound`; the answer is TwiML.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from actions.texts import inbound
from config import TwilioSettings, load_firestore_settings, twilio_settings
from store import connect
from store.directory import resolve_restaurant
from store.repository import FirebaseManager

log = logging.getLogger(__name__)


def twiml(body: str) -> Response:
    xml = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(body)}</Message>' \
          "</Response>"
    return Response(xml, media_type="application/xml")


def create_app(settings: TwilioSettings, db: FirebaseManager | None = None,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Starlette:
    """`db` None: connect to the configured Firestore at start-up, on the server's loop."""
    assert settings.twilio_auth_token is not None, "TWILIO_AUTH_TOKEN is required"
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if db is None:
            app.state.db = await connect(load_firestore_settings())
        yield

    async def receive(request: Request) -> Response:
        base: FirebaseManager = db if db is not None else request.app.state.db
        form = {k: str(v) for k, v in (await request.form()).items()}
        url = settings.twilio_webhook_url or str(request.url)
        if not validator.validate(url, form, request.headers.get("X-Twilio-Signature", "")):
            log.warning("inbound text with a bad or missing signature refused")
            return PlainTextResponse("bad signature", status_code=403)
        if form.get("AccountSid") != settings.twilio_account_sid:
            return PlainTextResponse("unknown account", status_code=403)
        rid = await resolve_restaurant(base.client, form.get("To"))
        if rid is None:
            log.error("inbound text to a number no restaurant lists; kept for staff of main")
            rid = base.restaurant_id
        rdb = base.for_restaurant(rid)
        rs = await rdb.load_restaurant_settings()
        name = rs.name if rs else "The restaurant"
        phone = (rs.phone or form.get("To", "")) if rs else form.get("To", "")
        lang = rs.default_language if rs else "en"
        reply = await inbound(rdb, sender=form.get("From", ""), body=form.get("Body", ""),
                              restaurant=name, restaurant_phone=phone, language=lang,
                              now=clock())
        log.info("inbound text handled: %s", reply.kind)
        return twiml(reply.body)

    return Starlette(routes=[Route("/twilio/sms", receive, methods=["POST"])],
                     lifespan=lifespan)


def main() -> None:  # pragma: no cover - a process entry point
    import uvicorn

    uvicorn.run(create_app(twilio_settings()), host="127.0.0.1", port=8091)


if __name__ == "__main__":
    main()
