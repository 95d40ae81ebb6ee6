"""Inbound webhooks (`python -m services.webhooks`, docs/pos.md): Twilio's texts at
`/twilio/sms` and Square's order events at `/square/webhook`.

Square: `x-square-hmacsha256-signature` is checked with the squareup SDK's `verify_signature`
against SQUARE_WEBHOOK_URL and SQUARE_WEBHOOK_SIGNATURE_KEY; unsigned or badly signed is 403
and changes nothing; a replayed event changes nothing either (actions/pos_events.py).

Texts:
Every request's `X-Twilio-Signature` is checked as Twilio signs it (HMAC-SHA1 over the public
webhook URL and the sorted POST parameters, with the account's auth token, through the twilio
SDK's own RequestValidator); an unsigned or badly signed request gets 403 and changes nothing.
The text goes to the restaurant whose number it was sent to (the same directory the phone line
routes calls with), and what it does is actions/texts.py's `inbound`; the answer is TwiML.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from square import AsyncSquare
from square.utils.webhooks_helper import verify_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from actions.pos_events import apply_event, catalog_objects, sync_sold_out
from actions.texts import inbound
from config import (
    SquareSettings,
    TwilioSettings,
    load_firestore_settings,
    square_settings,
    twilio_settings,
)
from domain.pos_catalog import read_id_map
from store import connect
from store.directory import resolve_restaurant, restaurant_ids
from store.repository import FirebaseManager

log = logging.getLogger(__name__)


def twiml(body: str) -> Response:
    xml = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(body)}</Message>' \
          "</Response>"
    return Response(xml, media_type="application/xml")


async def healthz(request: Request) -> Response:
    """compose's health check: the process answers (no database read)."""
    return PlainTextResponse("ok")


def create_app(settings: TwilioSettings, db: FirebaseManager | None = None,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC),
               square: SquareSettings | None = None) -> Starlette:
    """`db` None: connect to the configured Firestore at start-up, on the server's loop."""
    token = settings.twilio_auth_token
    validator = RequestValidator(token.get_secret_value()) if token is not None else None
    square = square or SquareSettings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if db is None:
            app.state.db = await connect(load_firestore_settings())
        yield

    async def receive(request: Request) -> Response:
        base: FirebaseManager = db if db is not None else request.app.state.db
        if validator is None:
            return PlainTextResponse("texts are not configured (TWILIO_AUTH_TOKEN)", 503)
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

    async def square_event(request: Request) -> Response:
        base: FirebaseManager = db if db is not None else request.app.state.db
        body = (await request.body()).decode("utf-8", "replace")
        key = square.square_webhook_signature_key
        signature = request.headers.get("x-square-hmacsha256-signature", "")
        if key is None or not square.square_webhook_url or not verify_signature(
                request_body=body, signature_header=signature,
                signature_key=key.get_secret_value(), notification_url=square.square_webhook_url):
            log.warning("Square webhook with a bad or missing signature refused")
            return PlainTextResponse("bad signature", status_code=403)
        try:
            event = json.loads(body)
        except ValueError:
            return PlainTextResponse("not JSON", status_code=400)
        if event.get("type") == "catalog.version.updated":
            return PlainTextResponse(await _sold_out(base, square))
        outcome = "unknown order"
        for rid in await restaurant_ids(base.client):
            outcome = await apply_event(base.for_restaurant(rid), event, clock())
            if outcome != "unknown order":
                break
        return PlainTextResponse(outcome)

    return Starlette(routes=[Route("/twilio/sms", receive, methods=["POST"]),
                             Route("/square/webhook", square_event, methods=["POST"]),
                             Route("/healthz", healthz)],
                     lifespan=lifespan)


async def _sold_out(db: FirebaseManager, square: SquareSettings) -> str:
    """Square's catalog changed: carry its sold-out state to the menu each restaurant's calls
    use, at that restaurant's Square location (its settings' `square_location_id`, else
    SQUARE_LOCATION_ID); a restaurant with neither does not use Square and is left alone."""
    if not square.square_enabled:
        return "ignored: no Square configured"
    assert square.square_access_token is not None
    client = AsyncSquare(token=square.square_access_token.get_secret_value(),
                         base_url=square.square_base_url or "https://connect.squareup.com")
    path = square.square_id_map_path
    id_map = (read_id_map(json.loads(path.read_text()))[0] if path is not None and path.is_file()
              else {})
    objects = await catalog_objects(client)
    said = []
    for rid in await restaurant_ids(db.client):
        rdb = db.for_restaurant(rid)
        settings = await rdb.load_restaurant_settings()
        location = square.location_for(settings.square_location_id if settings else None)
        if not location:
            continue
        changed = await sync_sold_out(rdb, objects, location, id_map)
        said.append(f"{rid}: " + (", ".join(f"{k} {'available' if v else 'sold out'}"
                                            for k, v in sorted(changed.items())) or "no change"))
    return "menu: " + ("; ".join(said) or "no restaurant uses Square")


def main() -> None:  # pragma: no cover - a process entry point
    import uvicorn

    # the service's own lines (refused signatures, what a text did) beside uvicorn's
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    texts = twilio_settings()
    uvicorn.run(create_app(texts, square=square_settings()), host=texts.webhooks_host,
                port=texts.webhooks_port)


if __name__ == "__main__":
    main()
