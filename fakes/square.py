"""A fake of Square's Orders and Locations APIs, spoken over HTTP as the `squareup` SDK expects.

What it keeps from the real service (https://developer.squareup.com/reference/square):
* Paths: `POST /v2/orders`, `GET /v2/orders/{order_id}`, `GET /v2/locations`,
  `GET /v2/locations/{location_id}`, `GET /v2/catalog/list` (paged with `cursor`).
* Auth: `Authorization: Bearer <access token>`, else 401 with Square's error body
  `{"errors": [{"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED", "detail": …}]}`.
* Idempotency: the same `idempotency_key` with the same body returns the order created the
  first time (no second order); with a different body it is 400 `IDEMPOTENCY_KEY_REUSED`.
* An unknown `location_id` is 404 `NOT_FOUND`; a line item without a price is 400
  `MISSING_REQUIRED_PARAMETER`.
* A line by `catalog_object_id` (a variation, with modifiers by id) is named and priced from the
  fake's catalog, as Square does; an unknown id is 404 `NOT_FOUND`.
* Square computes the money itself: each line's gross sales is (base price + modifiers) x
  quantity, an ORDER-scoped percentage tax is applied to each line and rounded half-up per line,
  and the order's `total_money` is their sum (so it can differ by a cent from a tax computed
  once on the subtotal).

Faults for the outage tests (`POST /_fake/square/faults`): `{"mode": "down"}` answers 503
`SERVICE_UNAVAILABLE` without creating anything; `"error500"` creates the order and then
answers 500 (Square did it but said no); `"timeout"` creates it and answers only after
`delay_s` (the client has given up by then); `"ok"` clears the fault. `GET /_fake/square/orders`
lists what Square holds and how many create calls each key received. Webhooks: `fulfill()`
moves an order's pickup as staff would in Square and returns the event, `sign_webhook()` signs
it as Square does and `deliver_webhook()` posts it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aiohttp import web

DEFAULT_TOKEN = "fake-square-token"
DEFAULT_LOCATION = "L-FAKE-MAIN"


@dataclass
class SquareState:
    token: str = DEFAULT_TOKEN
    locations: dict[str, str] = field(default_factory=lambda: {DEFAULT_LOCATION: "Main"})
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # Square id -> order
    by_key: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (body, id)
    calls: dict[str, int] = field(default_factory=dict)  # key -> create calls received
    fault: str = "ok"
    delay_s: float = 0.0
    made_at: dict[str, float] = field(default_factory=dict)  # Square id -> epoch s (timelines)
    catalog: list[dict[str, Any]] = field(default_factory=list)  # CatalogObjects, as listed


STATE = web.AppKey("square_state", SquareState)


def error(status: int, category: str, code: str, detail: str, field_: str | None = None
          ) -> web.Response:
    err: dict[str, Any] = {"category": category, "code": code, "detail": detail}
    if field_:
        err["field"] = field_
    return web.json_response({"errors": [err]}, status=status)


def _money(cents: int) -> dict[str, Any]:
    return {"amount": cents, "currency": "USD"}


def _half_up(value: Decimal) -> int:
    return int(value.quantize(0, ROUND_HALF_UP))


def catalog_prices(catalog: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Catalog object id -> {"name", "variation_name", "price"} for variations and modifiers."""
    index: dict[str, dict[str, Any]] = {}
    for obj in catalog:
        if obj.get("type") == "ITEM":
            data = obj.get("item_data") or {}
            for v in data.get("variations") or []:
                vd = v.get("item_variation_data") or {}
                index[v["id"]] = {"name": data.get("name"), "variation_name": vd.get("name"),
                                  "price": (vd.get("price_money") or {}).get("amount")}
        elif obj.get("type") == "MODIFIER_LIST":
            for m in (obj.get("modifier_list_data") or {}).get("modifiers") or []:
                md = m.get("modifier_data") or {}
                index[m["id"]] = {"name": md.get("name"),
                                  "price": (md.get("price_money") or {}).get("amount", 0)}
    return index


def _from_catalog(line: dict[str, Any], index: dict[str, dict[str, Any]], n: int
                  ) -> dict[str, Any]:
    """A catalog line as Square fills it: name, variation and prices from the catalog."""
    known = index.get(line["catalog_object_id"])
    if known is None or known.get("price") is None:
        raise LookupError(f"order.line_items[{n}].catalog_object_id")
    mods = []
    for m in line.get("modifiers") or []:
        mod = index.get(m.get("catalog_object_id", ""))
        if mod is None:
            raise LookupError(f"order.line_items[{n}].modifiers.catalog_object_id")
        mods.append({**m, "name": mod["name"], "base_price_money": _money(mod["price"])})
    return {**line, "name": known["name"], "variation_name": known["variation_name"],
            "base_price_money": _money(known["price"]), "modifiers": mods}


def price_order(order: dict[str, Any], catalog: list[dict[str, Any]] | None = None
                ) -> dict[str, Any]:
    """Square's own arithmetic over the order's lines; raises ValueError (a missing price) or
    LookupError (an unknown catalog id) naming the field."""
    index = catalog_prices(catalog or [])
    pct = sum((Decimal(t.get("percentage", "0")) for t in order.get("taxes", [])
               if t.get("scope", "ORDER") == "ORDER"), Decimal(0))
    lines, total_tax, total = [], 0, 0
    for n, line in enumerate(order.get("line_items", [])):
        if line.get("catalog_object_id"):
            line = _from_catalog(line, index, n)
        base = (line.get("base_price_money") or {}).get("amount")
        if not isinstance(base, int):
            raise ValueError(f"order.line_items[{n}].base_price_money")
        mods = sum(int((m.get("base_price_money") or {}).get("amount", 0))
                   for m in line.get("modifiers", []))
        gross = (base + mods) * int(line.get("quantity", "1"))
        tax = _half_up(Decimal(gross) * pct / 100)
        lines.append({**line, "uid": line.get("uid") or uuid.uuid4().hex[:22],
                      "gross_sales_money": _money(gross), "total_tax_money": _money(tax),
                      "total_money": _money(gross + tax)})
        total_tax += tax
        total += gross + tax
    return {**order, "line_items": lines, "total_tax_money": _money(total_tax),
            "total_money": _money(total)}


def _authorized(request: web.Request) -> bool:
    return request.headers.get("Authorization") == f"Bearer {request.app[STATE].token}"


@web.middleware
async def _auth(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith("/v2/") and not _authorized(request):
        return error(401, "AUTHENTICATION_ERROR", "UNAUTHORIZED",
                     "This request could not be authorized.")
    return await handler(request)


async def create_order(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = json.loads(await request.text() or "{}")
    key, order = body.get("idempotency_key"), body.get("order") or {}
    canonical = json.dumps(order, sort_keys=True)
    if key:
        state.calls[key] = state.calls.get(key, 0) + 1
    if state.fault == "down":
        return error(503, "API_ERROR", "SERVICE_UNAVAILABLE", "Service Unavailable")
    if key:
        if key in state.by_key:
            first_body, order_id = state.by_key[key]
            if first_body != canonical:
                return error(400, "INVALID_REQUEST_ERROR", "IDEMPOTENCY_KEY_REUSED",
                             "The idempotency key was already used with another request.")
            return await _answer(state, state.orders[order_id])
    if order.get("location_id") not in state.locations:
        return error(404, "INVALID_REQUEST_ERROR", "NOT_FOUND",
                     f"Location `{order.get('location_id')}` not found.", "order.location_id")
    try:
        priced = price_order(order, state.catalog)
    except ValueError as e:
        return error(400, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER",
                     f"Missing required parameter `{e}`.", str(e))
    except LookupError as e:
        return error(404, "INVALID_REQUEST_ERROR", "NOT_FOUND",
                     f"Catalog object for `{e}` not found.", str(e))
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    created = {**priced, "id": uuid.uuid4().hex[:24].upper(), "state": "OPEN", "version": 1,
               "created_at": now, "updated_at": now}
    state.orders[created["id"]] = created
    state.made_at[created["id"]] = time.time()
    if key:
        state.by_key[key] = (canonical, created["id"])
    return await _answer(state, created)


async def _answer(state: SquareState, order: dict[str, Any]) -> web.Response:
    if state.fault == "error500":
        return error(500, "API_ERROR", "INTERNAL_SERVER_ERROR", "An internal error occurred.")
    if state.fault == "timeout":
        await asyncio.sleep(state.delay_s)
    return web.json_response({"order": order})


async def get_order(request: web.Request) -> web.Response:
    order = request.app[STATE].orders.get(request.match_info["order_id"])
    if order is None:
        return error(404, "INVALID_REQUEST_ERROR", "NOT_FOUND", "Order not found.")
    return web.json_response({"order": order})


async def list_locations(request: web.Request) -> web.Response:
    locs = [{"id": lid, "name": name, "status": "ACTIVE", "currency": "USD"}
            for lid, name in request.app[STATE].locations.items()]
    return web.json_response({"locations": locs})


CATALOG_PAGE = 25


async def list_catalog(request: web.Request) -> web.Response:
    """`GET /v2/catalog/list?types=ITEM,MODIFIER_LIST&cursor=…`, paged as Square pages it."""
    wanted = {t.strip().upper() for t in request.query.get("types", "").split(",") if t.strip()}
    objects = [o for o in request.app[STATE].catalog if not wanted or o["type"] in wanted]
    try:
        start = int(request.query.get("cursor") or 0)
    except ValueError:
        return error(400, "INVALID_REQUEST_ERROR", "INVALID_CURSOR", "Invalid cursor.", "cursor")
    page = objects[start:start + CATALOG_PAGE]
    body: dict[str, Any] = {"objects": page}
    if start + CATALOG_PAGE < len(objects):
        body["cursor"] = str(start + CATALOG_PAGE)
    return web.json_response(body)


async def get_location(request: web.Request) -> web.Response:
    lid = request.match_info["location_id"]
    name = request.app[STATE].locations.get(lid)
    if name is None:
        return error(404, "INVALID_REQUEST_ERROR", "NOT_FOUND", f"Location `{lid}` not found.")
    return web.json_response({"location": {"id": lid, "name": name, "status": "ACTIVE"}})


async def set_fault(request: web.Request) -> web.Response:
    body = await request.json()
    state = request.app[STATE]
    if body.get("mode") not in ("ok", "down", "error500", "timeout"):
        return web.json_response({"error": "mode: ok | down | error500 | timeout"}, status=400)
    state.fault, state.delay_s = body["mode"], float(body.get("delay_s", 5.0))
    return web.json_response({"mode": state.fault})


async def dump(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response({"orders": list(state.orders.values()), "calls": state.calls})


def create_app(state: SquareState | None = None) -> web.Application:
    app = web.Application(middlewares=[_auth])
    app[STATE] = state or SquareState()
    app.router.add_post("/v2/orders", create_order)
    app.router.add_get("/v2/orders/{order_id}", get_order)
    app.router.add_get("/v2/locations", list_locations)
    app.router.add_get("/v2/locations/{location_id}", get_location)
    app.router.add_get("/v2/catalog/list", list_catalog)
    app.router.add_post("/_fake/square/faults", set_fault)
    app.router.add_get("/_fake/square/orders", dump)
    return app


def sign_webhook(signature_key: str, notification_url: str, body: str) -> str:
    """`x-square-hmacsha256-signature`, as Square signs a webhook: base64 HMAC-SHA256 of the
    notification URL followed by the raw body, keyed with the subscription's signature key."""
    mac = hmac.new(signature_key.encode(), (notification_url + body).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def fulfill(state: SquareState, order_id: str, new_state: str) -> dict[str, Any]:
    """Staff move the order's pickup in Square: its fulfillment state and version change, and
    the `order.fulfillment.updated` event Square would send is returned."""
    order = state.orders[order_id]
    fulfillment = order["fulfillments"][0]
    old = fulfillment.get("state", "PROPOSED")
    fulfillment["state"], order["version"] = new_state, order["version"] + 1
    fulfillment.setdefault("uid", uuid.uuid4().hex[:22])
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {"merchant_id": "MLFAKE", "type": "order.fulfillment.updated",
            "event_id": str(uuid.uuid4()), "created_at": now,
            "data": {"type": "order_fulfillment_updated", "id": order_id, "object": {
                "order_fulfillment_updated": {
                    "order_id": order_id, "version": order["version"],
                    "location_id": order["location_id"], "state": order["state"],
                    "created_at": order["created_at"], "updated_at": now,
                    "fulfillment_update": [{"fulfillment_uid": fulfillment["uid"],
                                            "old_state": old, "new_state": new_state}]}}}}


async def deliver_webhook(url: str, signature_key: str, event: dict[str, Any], *,
                          client: Any, signature: str | None = None) -> Any:
    """POST the event to our endpoint with Square's headers (an httpx.AsyncClient)."""
    body = json.dumps(event)
    sig = signature if signature is not None else sign_webhook(signature_key, url, body)
    return await client.post(url, content=body, headers={
        "content-type": "application/json", "x-square-hmacsha256-signature": sig,
        "square-version": "2026-09-16"})
