"""A fake of Twilio's Programmable Messaging, as the `twilio` SDK and Twilio's webhooks speak it.

* `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded `To`, `From`, `Body`,
  HTTP Basic auth `AccountSid:AuthToken` (else 401, Twilio's code 20003). The answer is the
  Message resource (`sid` "SM" + 32 hex, `status` "queued", `num_segments`, …).
* Twilio's error body `{"code", "message", "more_info", "status"}`: 21211 for a `To` that is
  not a phone number, 21614 for a number that cannot receive texts (the numbers in
  `landlines`), 21610 for a recipient who texted STOP to that sender (Twilio's own opt-out
  list, kept here as the carrier would), 21606 for a `From` not on this account.
* Inbound texts: `sign()` computes `X-Twilio-Signature` exactly as Twilio does (HMAC-SHA1 of
  the webhook URL followed by every POST parameter name and value sorted by name, base64), and
  `deliver_inbound()` posts a text from a phone to our webhook the way Twilio would.
* `GET /_fake/twilio/messages` lists what was sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
from aiohttp import web

DEFAULT_SID = "AC" + "0" * 32
DEFAULT_TOKEN = "fake-twilio-auth-token"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass
class TwilioState:
    account_sid: str = DEFAULT_SID
    auth_token: str = DEFAULT_TOKEN
    numbers: set[str] = field(default_factory=lambda: {"+16175550142"})  # our senders
    landlines: set[str] = field(default_factory=set)
    opted_out: set[tuple[str, str]] = field(default_factory=set)  # (phone, our number)
    messages: list[dict[str, Any]] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)  # sid -> epoch s (timelines)


STATE = web.AppKey("twilio_state", TwilioState)


def error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "status": status,
                              "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                             status=status)


def _authorized(request: web.Request, state: TwilioState) -> bool:
    expected = base64.b64encode(f"{state.account_sid}:{state.auth_token}".encode()).decode()
    return request.headers.get("Authorization") == f"Basic {expected}"


async def create_message(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if request.match_info["sid"] != state.account_sid or not _authorized(request, state):
        return error(401, 20003, "Authenticate")
    form = await request.post()
    to, sender, body = str(form.get("To", "")), str(form.get("From", "")), str(
        form.get("Body", ""))
    if not E164.match(to):
        return error(400, 21211, f"Invalid 'To' Phone Number: {to[:4]}XXXX")
    if sender not in state.numbers:
        return error(400, 21606, "The 'From' phone number provided is not a valid message-"
                     "capable Twilio phone number for this destination/account.")
    if to in state.landlines:
        return error(400, 21614, "'To' number is not a valid mobile number")
    if (to, sender) in state.opted_out:
        return error(400, 21610, "Attempt to send to unsubscribed recipient")
    if not body.strip():
        return error(400, 21602, "Message body is required.")
    now = format_datetime(datetime.now(UTC), usegmt=True)
    msg = {"sid": "SM" + uuid.uuid4().hex, "account_sid": state.account_sid, "to": to,
           "from": sender, "body": body, "status": "queued", "direction": "outbound-api",
           "num_segments": str(1 + len(body) // 153), "date_created": now,
           "date_updated": now, "date_sent": None, "price": None, "error_code": None,
           "error_message": None, "api_version": "2010-04-01",
           "uri": f"/2010-04-01/Accounts/{state.account_sid}/Messages/x.json"}
    state.messages.append(msg)
    state.sent_at[msg["sid"]] = time.time()
    return web.json_response(msg, status=201)


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature, as Twilio computes it for a form-encoded POST webhook."""
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    mac = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


async def deliver_inbound(state: TwilioState, webhook_url: str, sender: str, to: str,
                          body: str, *, signature: str | None = None,
                          client: httpx.AsyncClient | None = None) -> httpx.Response:
    """Post an inbound text to our webhook as Twilio does (with its signature, unless given);
    a STOP also lands on Twilio's own opt-out list, as it does at the carrier."""
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": state.account_sid,
              "From": sender, "To": to, "Body": body, "NumMedia": "0"}
    if body.strip().upper() in ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"):
        state.opted_out.add((sender, to))
    elif body.strip().upper() in ("START", "YES", "UNSTOP"):
        state.opted_out.discard((sender, to))
    sig = signature if signature is not None else sign(state.auth_token, webhook_url, params)
    if client is not None:
        return await client.post(webhook_url, data=params, headers={"X-Twilio-Signature": sig})
    async with httpx.AsyncClient() as c:
        return await c.post(webhook_url, data=params, headers={"X-Twilio-Signature": sig})


async def list_messages(request: web.Request) -> web.Response:
    return web.json_response({"messages": request.app[STATE].messages})


async def read_messages(request: web.Request) -> web.Response:
    """`GET …/Messages.json?To=&From=`: one page, newest first, as Twilio lists them."""
    state = request.app[STATE]
    if request.match_info["sid"] != state.account_sid or not _authorized(request, state):
        return error(401, 20003, "Authenticate")
    q = request.query
    found = [m for m in reversed(state.messages)
             if q.get("To", m["to"]) == m["to"] and q.get("From", m["from"]) == m["from"]]
    uri = request.path_qs
    return web.json_response({"messages": found, "page": 0, "page_size": 50, "start": 0,
                              "end": max(len(found) - 1, 0), "uri": uri,
                              "first_page_uri": uri, "next_page_uri": None,
                              "previous_page_uri": None})


def create_app(state: TwilioState | None = None) -> web.Application:
    app = web.Application()
    app[STATE] = state or TwilioState()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", create_message)
    app.router.add_get("/2010-04-01/Accounts/{sid}/Messages.json", read_messages)
    app.router.add_get("/_fake/twilio/messages", list_messages)
    return app
