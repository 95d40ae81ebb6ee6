"""Texts to the guest through Twilio: the confirmation they said yes to, and the answers to what
they text back (STOP / START / HELP, "CANCEL <code>", anything else for staff).

Like the POS hand-off, the call only appends the text to a local fsynced outbox and goes on.
Twilio has no idempotency key for messages, so "exactly once" is kept like this: the text's
record goes "sending" before Twilio is asked; a sender that finds "sending" (it died waiting
for Twilio's answer) first lists what Twilio sent that number from our number and sends only if
this body is not there. A number that texted STOP is never texted again, and a number Twilio
says cannot take texts (a landline) is recorded as failed with Twilio's reason."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from twilio.base.exceptions import TwilioRestException

from actions.outbox_sender import OutboxSender
from config import TwilioSettings
from domain.contact import require_e164, to_e164
from domain.outbound_rules import callback_note
from domain.refusal import Refusal
from domain.texts import booking_text, keyword, order_text, text
from models import Message, Order, OutboundCall, Reservation, RestaurantSettings
from store.errors import ReservationNotFound
from store.outbound import OutboundQueue, Policy
from store.outbox import Outbox, OutboxEntry
from store.repository import FirebaseManager
from store.texts import (
    TextRecord,
    customer,
    record_text,
    set_opted_out,
    set_text_consent,
    text_record,
)

if TYPE_CHECKING:
    from twilio.rest import Client

    from actions.state import CallState, Desk

log = logging.getLogger(__name__)

SMS_KIND = "sms"


def text_id(restaurant_id: str, about: str) -> str:
    """One text per order or booking: the same id on every attempt, from any process."""
    return "t-" + hashlib.sha256(f"{restaurant_id}:{about}".encode()).hexdigest()[:24]


class Texts(OutboxSender):
    """The Twilio side of the line: one per process, shared by its calls."""

    kind = SMS_KIND
    what = "text send"

    def __init__(self, client: Client, outbox: Outbox, db_for: Callable[[str], FirebaseManager],
                 *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client = client  # twilio.rest.Client with an async http client
        super().__init__(outbox)
        self.db_for = db_for
        self.clock = clock

    async def may_text(self, db: FirebaseManager, phone: str) -> bool:
        """False for a number that opted out (STOP)."""
        known = await customer(db, phone)
        return not (known and known.sms_opted_out)

    async def may_offer(self, db: FirebaseManager, phone: str) -> bool:
        """Whether to offer a text: not to a number that opted out (STOP), nor to a caller who
        said no to the offer before (asked once; they can still ask for one)."""
        known = await customer(db, phone)
        return not (known and (known.sms_opted_out or known.sms_consent is False))

    async def queue(self, db: FirebaseManager, *, phone: str, sender: str, body: str,
                    about: str) -> str:
        """Durably queue one text (fsynced) and wake the sender; no network. Returns its id."""
        tid = text_id(db.restaurant_id, about)
        payload = {"restaurant_id": db.restaurant_id, "id": tid, "to": phone, "from": sender,
                   "body": body, "about": about}
        await self.outbox.append(SMS_KIND, payload, record_id=tid)
        self._wake.set()
        return tid

    async def _send(self, entry: OutboxEntry) -> bool:
        p = entry.payload
        db = self.db_for(p["restaurant_id"])
        record = TextRecord(id=p["id"], direction="out", phone=p["to"], about=p["about"],
                            state="sending", body=p["body"], at=self.clock())
        try:
            before = await text_record(db, p["id"])
            if before is not None and before.state in ("sent", "failed"):
                return True  # answered for good already; only the removal was lost
            if not await self.may_text(db, p["to"]):
                await record_text(db, record.model_copy(update={
                    "state": "failed", "reason": "the number opted out (STOP)"}))
                return True
            sid = await self._already_sent(p) if before is not None else None
            if sid is None:
                await record_text(db, record)
                sid = await self._create(p)
            await record_text(db, record.model_copy(update={"state": "sent", "sid": sid}))
        except TwilioRestException as e:
            final = 400 <= e.status < 500 and e.status not in (401, 403, 429)
            reason = f"Twilio {e.code}: {e.msg}"[:300]
            log.info("text %s: %s (%s)", p["id"], "failed" if final else "waiting", reason)
            if final:
                await record_text(db, record.model_copy(update={"state": "failed",
                                                                "reason": reason}))
                await _tell_staff(db, p, reason, self.clock())
            return final
        except Exception:
            log.exception("text %s not sent yet; kept", p["id"])
            return False
        log.info("text %s sent", p["id"])
        return True

    async def _create(self, p: dict[str, Any]) -> str:
        msg = await self.client.messages.create_async(to=p["to"], from_=p["from"],
                                                      body=p["body"])
        return str(msg.sid)

    async def _already_sent(self, p: dict[str, Any]) -> str | None:
        """After a crash mid-send: did Twilio take this text? (its sid, or None)"""
        sent = await self.client.messages.list_async(to=p["to"], from_=p["from"], limit=50)
        return next((str(m.sid) for m in sent if m.body == p["body"]), None)


async def _tell_staff(db: FirebaseManager, p: dict[str, Any], reason: str, now: datetime
                      ) -> None:
    """A text that can never go (a landline, a bad number): staff see it, nothing is lost."""
    await db.save_message(Message(
        id=f"{p['id']}-failed", call_id="sms", name="Text not delivered", phone=p["to"],
        reason=f"The confirmation text could not be sent ({reason}). Please call the guest "
               f"if they need the details.", created_at=now))


# ------------------------------------------------------------------ the caller's yes


async def offer_text(userdata: CallState, saved: Order | Reservation) -> bool:
    """Whether to offer a text for what was just saved (texts configured, number not opted
    out); remembers what the text would confirm."""
    texts = userdata.services.texts
    if texts is None:
        return False
    userdata.to_text = saved
    phone = saved.customer_phone if isinstance(saved, Order) else saved.phone
    try:
        userdata.text_offered = await texts.may_offer(userdata.services.db, phone)
        if isinstance(saved, Reservation) and await _consented(userdata.services.db, phone):
            await remind_by_text(userdata, saved)  # a guest who said yes on an earlier call
    except Exception:
        log.exception("could not read the caller's text preferences; no text offered")
        userdata.text_offered = False
    return userdata.text_offered


async def _consented(db: FirebaseManager, phone: str) -> bool:
    known = await customer(db, phone)
    return bool(known and known.sms_consent is True and not known.sms_opted_out)


async def remind_by_text(userdata: CallState, res: Reservation) -> str | None:
    """A booking saved with the guest's text consent gets its reminder by text (see
    `schedule_text_reminder`); None without Twilio on this call."""
    if userdata.services.texts is None:
        return None
    return await schedule_text_reminder(userdata.desk, res)


async def remind_guest_who_agreed(desk: Desk, res: Reservation) -> str | None:
    """A booking made elsewhere (staff on the board) for a guest whose yes to texts is on record
    (and who has not texted STOP) gets its reminder by text as a call's would; None otherwise."""
    try:
        if not await _consented(desk.db, res.phone):
            return None
    except Exception:
        log.exception("could not read the guest's text preferences; no text reminder")
        return None
    return await schedule_text_reminder(desk, res)


async def schedule_text_reminder(desk: Desk, res: Reservation) -> str | None:
    """An entry of the outbound queue's text channel (store/outbound.py), `reminder_hours_before`
    the booking, so the queue's calling hours, opt-out and attempt rules apply and the dialer
    sends it. None (nothing scheduled) when that moment has already passed (the confirmation
    text says it all), or when the queue refuses the number; never an error for the booking."""
    settings = desk.settings
    policy = Policy.of(settings)
    starts = datetime.combine(res.date, res.time, tzinfo=settings.tz)
    if starts - policy.reminder_before <= desk.now:
        return None
    queue = OutboundQueue(desk.db.db, policy)
    try:
        entry = await queue.schedule_reminder(res.code, desk.now.astimezone(UTC), channel="text")
    except Refusal as e:
        log.info("no text reminder for a booking: %s", e)
        return None
    except Exception:
        log.exception("the text reminder of a booking could not be scheduled")
        return None
    return entry.id


async def no_text(userdata: CallState) -> None:
    """The caller said no to the text: stored with them (consent declined, with its time and
    language), so no text goes and the next call does not ask again."""
    saved = userdata.to_text
    if userdata.services.texts is None or saved is None:
        raise Refusal("No text was offered in this call; nothing to answer.")
    phone = saved.customer_phone if isinstance(saved, Order) else saved.phone
    userdata.text_offered = False  # no text goes either way: nothing was queued
    try:
        await set_text_consent(userdata.services.db, phone, False, userdata.now,
                               userdata.language)
    except Exception:
        # the caller's no is not worth an error in the call: they may be asked once more
        log.exception("could not store a caller's no to texts")


async def text_confirmation(userdata: CallState, phone: str | None = None) -> str:
    """The caller said yes to a text: store their consent and queue the text. Returns the
    number it goes to."""
    texts, saved = userdata.services.texts, userdata.to_text
    if texts is None:
        raise Refusal("We cannot send texts; say so and offer nothing else.")
    if saved is None:
        raise Refusal("Nothing was saved in this call to text about; confirm an order first.")
    own = saved.customer_phone if isinstance(saved, Order) else saved.phone
    to = require_e164(phone, userdata.settings.home_region) if phone else own
    settings = userdata.settings
    if callback_note(to, home_region=settings.home_region,
                     allow_international=settings.outbound_international):
        raise Refusal(f"We cannot text {to} (a number the line does not call or text). Ask "
                      "for a local mobile number for the text, or send nothing.")
    db = userdata.services.db
    if not await texts.may_text(db, to):
        raise Refusal("That number opted out of our texts (STOP). Tell the caller they can "
                      "text START to us to get texts again; send nothing.")
    sender = next(iter(settings.numbers), "") or userdata.dialed or settings.phone
    if not sender:
        raise Refusal("The restaurant has no number to text from; tell the caller sorry.")
    lang = userdata.language
    if isinstance(saved, Order):
        body = order_text(saved, lang, settings.name, saved.pickup_time.astimezone(settings.tz))
        about = saved.id
    else:
        body, about = booking_text(saved, lang, settings.name), f"booking:{saved.code}"
    await set_text_consent(db, to, True, userdata.now, lang)
    await texts.queue(db, phone=to, sender=sender, body=body, about=about)
    userdata.text_offered = False
    if isinstance(saved, Reservation) and to == own:
        await remind_by_text(userdata, saved)
    return to


# ------------------------------------------------------------------ inbound


@dataclass(frozen=True)
class Reply:
    body: str
    kind: str  # stop | start | help | cancel | not_yours | other | unknown


async def inbound(db: FirebaseManager, *, sender: str, body: str, restaurant: str,
                  restaurant_phone: str, language: str, now: datetime) -> Reply:
    """What a guest's text does, and the answer Twilio sends back."""
    phone = to_e164(sender) or sender
    kind, code = keyword(body)
    fields = {"restaurant": restaurant, "phone": restaurant_phone}
    known = await customer(db, phone)
    lang = (known.sms_language if known and known.sms_language else language)
    await record_text(db, TextRecord(
        id=f"in-{hashlib.sha256(f'{phone}{now.isoformat()}{body}'.encode()).hexdigest()[:24]}",
        direction="in", phone=phone, state="received", body=body[:1000], at=now))
    if kind in ("stop", "start"):
        await set_opted_out(db, phone, kind == "stop")
        return Reply(text(lang, kind, **fields), kind)
    if kind == "help":
        return Reply(text(lang, "help", **fields), kind)
    if kind == "cancel" and code is not None:
        res = await db.get_reservation(code)
        if res is None or res.phone != phone:
            return Reply(text(lang, "not_yours", code=code, **fields), "not_yours")
        try:
            await db.cancel_reservation(code, call_id="sms", now=now)
        except ReservationNotFound:
            return Reply(text(lang, "not_yours", code=code, **fields), "not_yours")
        return Reply(text(lang, "cancelled", code=code, **fields), "cancel")
    who = "unknown" if known is None else "other"
    note = (f"Text from {'an unknown number' if known is None else known.name or 'a guest'}: "
            f"{body.strip()}")[:500]
    await db.save_message(Message(
        id=f"sms-{hashlib.sha256(f'{phone}{now.isoformat()}'.encode()).hexdigest()[:16]}",
        call_id="sms", name=(known.name if known and known.name else "Text message"),
        phone=phone, reason=note, created_at=now, language=lang))
    return Reply(text(lang, "noted", **fields), who)


def connect_texts(settings: TwilioSettings, db: FirebaseManager) -> Texts | None:
    """The worker's texts, or None when no Twilio is configured (no text is offered then)."""
    if not settings.twilio_enabled:
        return None
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    assert settings.twilio_auth_token is not None
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
                    http_client=AsyncTwilioHttpClient(timeout=settings.twilio_timeout_s))
    if settings.twilio_base_url:
        client.api.base_url = settings.twilio_base_url
    return Texts(client, Outbox(settings.sms_outbox_path), db.for_restaurant)


# ------------------------------------------------------------------ reminders by text


async def text_reminder(texts: Texts, db: FirebaseManager, call: OutboundCall,
                        settings: RestaurantSettings) -> str:
    """A leased text reminder (the queue already checked calling hours, do-not-call and
    attempts): queue and send it; the outcome to `finish` the lease with."""
    res = await db.get_reservation(call.reservation_code or "")
    if res is None or res.status == "cancelled":
        return "cancelled"
    lang = res.language or settings.default_language
    sender = next(iter(settings.numbers), "") or settings.phone
    body = booking_text(res, lang, settings.name, key="reminder")
    tid = await texts.queue(db, phone=res.phone, sender=sender, body=body,
                            about=f"reminder:{res.code}")
    await texts.send_pending()
    record = await text_record(db, tid)
    if record is not None and record.state in ("sent", "failed"):
        # failed is Twilio's or our final word (STOP, a landline): trying again changes nothing
        return "texted" if record.state == "sent" else "text_refused"
    return "failed"  # Twilio not reachable now: retried under the attempt rule
