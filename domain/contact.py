"""Caller contact details: phone numbers (always E.164) and names."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from domain.natural import spoken_digits
from domain.redact import has_card_number
from domain.refusal import Refusal

DEFAULT_REGION = "US"


def to_e164(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """E.164 for a valid number, else None (SIP caller IDs can be 'anonymous' or garbage)."""
    if not raw:
        return None
    text = raw.strip()
    if text.startswith("sip:") or text.startswith("tel:"):
        text = text.split(":", 1)[1].split("@", 1)[0]
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def any_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """A valid number of any country (a visitor's mobile identifies their order as well as a
    local one): as said in the restaurant's country, or with its country code ("+44 7700
    900123", "four four seven seven…"). Spoken digits are understood."""
    digits = spoken_digits(raw)
    bare = re.sub(r"^(?:00|011)", "", re.sub(r"\D", "", digits))  # exit codes: 00, 011
    number = to_e164(raw, region) or to_e164(digits, region) or (
        to_e164(f"+{bare}") if len(bare) >= 10 else None)
    if number is None:
        raise Refusal(
            f"'{raw}' is not a valid phone number. Ask the caller to say their number again, "
            "digit by digit, including the area code (and the country code for a number "
            "abroad)."
        )
    return number


def require_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """A valid number in the restaurant's own country: staff must be able to call it back.
    Spoken digits ("six one seven five five five oh one two three") are understood."""
    number = any_e164(raw, region)
    if phonenumbers.region_code_for_number(phonenumbers.parse(number)) != region:
        raise Refusal(
            f"{number} is not a {region} number and staff cannot call it back. "
            "Ask for a local phone number."
        )
    return number


def number_or_caller_id(said: str | None, caller_id: str | None, ask: str, *,
                        region: str = DEFAULT_REGION, abroad: bool = False) -> str:
    """The number the caller said (validated) or else their caller ID; `ask` when neither.
    `abroad`: a number of another country is taken (it identifies an order or a booking;
    only a call-back must be one the line may dial)."""
    if said:
        return any_e164(said, region) if abroad else require_e164(said, region)
    if caller_id:
        return caller_id
    raise Refusal(f"There is no caller ID: {ask}")


def spoken(e164: str) -> str:
    """Digits grouped the way people read a number back: 617 555 0142; a number outside the
    +1 area with its country code, as its owner gives it: +44 7700 900123."""
    parsed = phonenumbers.parse(e164)
    form = (phonenumbers.PhoneNumberFormat.NATIONAL if parsed.country_code == 1
            else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    said = phonenumbers.format_number(parsed, form)
    return said.replace("(", "").replace(")", "").replace("-", " ")


MAX_NAME = 60


def clean_name(raw: str) -> str:
    """A name staff can call out at the counter: letters required, length bounded."""
    name = " ".join(raw.split())
    if not name or not any(ch.isalpha() for ch in name):
        raise Refusal("Ask the caller for the name to put it under.")
    if len(name) > MAX_NAME:
        raise Refusal("That name is too long for our system; ask for a shorter name or first name.")
    if any(ch in name for ch in "<>{}[]\\|`$@#") or any(
        unicodedata.category(ch)[0] == "C" for ch in name  # control, format, unassigned
    ):
        raise Refusal("Ask the caller to spell the name, letters only.")
    if has_card_number(name):
        raise Refusal(
            "That is a payment card number: never take card details, customers pay at pickup. "
            "Ask only for the name."
        )
    return name
