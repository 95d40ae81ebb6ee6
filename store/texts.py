"""Texts in Firestore: the caller's consent and opt-out on `customers/{phone}`, and every text
sent or received in `texts/{id}`, its body masked as transcripts are (domain/masking.py).

A sent text's record goes "sending" before Twilio is asked and "sent" (with Twilio's sid) or
"failed" (with Twilio's reason) after: a sender that died in between finds "sending" and asks
Twilio what it sent before sending again (actions/texts.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.masking import mask_personal
from models import Customer
from store.repository import FirebaseManager

TEXTS = "texts"
TextState = Literal["sending", "sent", "failed", "received"]


class TextRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    direction: Literal["out", "in"]
    phone: str  # the guest's number (the customers/ key), never in a log line
    about: str = ""  # the order or booking id the text confirms
    state: TextState
    body: str = ""  # masked
    sid: str = ""
    reason: str = ""
    at: datetime


async def set_text_consent(db: FirebaseManager, phone: str, consent: bool, at: datetime,
                           language: str) -> None:
    doc = {"phone": phone, "sms_consent": consent, "sms_consent_at": at,
           "sms_language": language}
    await db._with_retries(lambda: db.db.document(f"customers/{phone}").set(doc, merge=True))


async def set_opted_out(db: FirebaseManager, phone: str, out: bool) -> None:
    doc = {"phone": phone, "sms_opted_out": out}
    await db._with_retries(lambda: db.db.document(f"customers/{phone}").set(doc, merge=True))


async def customer(db: FirebaseManager, phone: str) -> Customer | None:
    snap = await db.db.document(f"customers/{phone}").get()
    if not snap.exists:
        return None
    data = snap.to_dict() or {}
    if "first_seen_ms" not in data:  # known only from texts so far
        return Customer(phone=phone, first_seen=data.get("sms_consent_at") or datetime.min,
                        last_seen=data.get("sms_consent_at") or datetime.min,
                        sms_opted_out=bool(data.get("sms_opted_out")),
                        sms_consent=data.get("sms_consent"))
    return await db.get_customer(phone)


async def record_text(db: FirebaseManager, record: TextRecord) -> None:
    doc = record.model_dump()
    doc["body"] = mask_personal(record.body)
    await db._with_retries(lambda: db.db.document(f"{TEXTS}/{record.id}").set(doc))


async def text_record(db: FirebaseManager, text_id: str) -> TextRecord | None:
    snap = await db.db.document(f"{TEXTS}/{text_id}").get()
    return TextRecord.model_validate(snap.to_dict() or {}) if snap.exists else None
