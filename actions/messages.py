"""Call-back requests for staff, saved once per call."""

from __future__ import annotations

import phonenumbers

from actions.state import CallState
from domain.contact import DEFAULT_REGION, clean_name, number_or_caller_id, to_e164
from domain.ids import message_id
from domain.masking import mask_personal
from domain.redact import redact_cards
from domain.refusal import Refusal
from models import Message

MAX_REASON = 500


async def take_message(
    userdata: CallState, name: str, reason: str, phone: str | None
) -> Message | None:
    """Save what the caller asked staff for; None when this call already left a message."""
    clean = clean_name(name)
    number = number_or_caller_id(
        phone, userdata.caller_phone, "ask for a number staff can call back."
    )
    # The call-back number lives in `phone`; the text keeps no numbers, e-mails, cards or
    # addresses.
    text = mask_personal(" ".join(reason.split()))
    if not text or len(text) > MAX_REASON:
        raise Refusal("Ask the caller briefly what the message is about.")
    if "message" in userdata.outcomes:
        return None
    return await _save(userdata, name=clean, phone=number, reason=text)


async def save_caller_words(userdata: CallState, said: str) -> Message:
    """When the assistant is down: the caller's own words for staff, with the number they said
    or the caller ID, and whatever the call left unfinished."""
    text = redact_cards(" ".join(said.split()))
    number = _number_in(text) or userdata.caller_phone or userdata.cart.customer_phone
    text = mask_personal(text)  # the number found above is the message's `phone`
    name = userdata.cart.customer_name or userdata.returning_name or "Caller (name in message)"
    pending = f" Unfinished: {userdata.summary()}." if userdata.has_unsaved_work else ""
    reason = f"Left while our phone assistant was down. Caller said: {text or '(nothing)'}"
    return await _save(userdata, name=name[:80], phone=number or "unknown",
                       reason=(reason + pending)[:MAX_REASON])


async def _save(userdata: CallState, *, name: str, phone: str, reason: str) -> Message:
    userdata.message_seq += 1
    msg = Message(
        id=message_id(userdata.call_id, userdata.message_seq), call_id=userdata.call_id,
        name=name, phone=phone, reason=reason, created_at=userdata.now,
        language=userdata.language,  # the call-back speaks it
    )
    await userdata.services.db.save_message(msg)
    userdata.outcomes.append("message")
    userdata.ids_created.append(msg.id)
    return msg


def _number_in(text: str) -> str | None:
    for match in phonenumbers.PhoneNumberMatcher(text, DEFAULT_REGION):
        number = to_e164(match.raw_string)
        if number:
            return number
    return None
