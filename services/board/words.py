"""How the board writes times and phone numbers: the way the restaurant's staff read them.

One clock everywhere (orders, bookings, tickets, offered times): the restaurant's locale's,
"1:25 PM" in the US. board.js formats with the same locale (`data-locale` on the page).
"""

from __future__ import annotations

from datetime import time

import phonenumbers

from domain.contact import DEFAULT_REGION
from models import RestaurantSettings


def locale_of(restaurant: RestaurantSettings) -> str:
    """The BCP 47 locale the board formats with: the restaurant's language in its country."""
    return f"{restaurant.default_language or 'en'}-{DEFAULT_REGION}"


def clock_text(at: time) -> str:
    """1:25 PM (a 12-hour clock with minutes, as Intl writes en-US with hour: numeric)."""
    return f"{at.hour % 12 or 12}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"


def phone_text(e164: str | None) -> str:
    """(617) 555-0203 for a number at home, +44 20 7946 0958 for one abroad."""
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    home = phonenumbers.region_code_for_number(parsed) == DEFAULT_REGION
    return phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.NATIONAL if home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
