"""Who the restaurant may call, and when: the rules every outbound call obeys, without LiveKit
or Firestore (the queue in store/outbound.py applies them).

- Only numbers the restaurant holds: a call is scheduled from a booking or a saved message,
  never from a number typed in; this module then refuses numbers no guest should be called on:
  premium-rate, shared-cost, toll-free-looking personal numbers, and (unless the restaurant
  enables it) numbers outside the restaurant's country.
- Calling hours in the guest's local time: the guest's time zone comes from their number
  (phonenumbers' time-zone metadata: area code 617 is America/New_York); a number that spans
  several zones must be inside the window in every one of them; a number whose zone cannot be
  told (toll-free, mobile ranges spanning a continent) uses the restaurant's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as number_zones

from domain.refusal import Refusal

NEVER_DIAL = {
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.TOLL_FREE: "a toll-free number (not a guest's phone)",
    PhoneNumberType.UAN: "a universal access number",
    PhoneNumberType.PAGER: "a pager",
    # follow-me numbers (US 5XX, UK 070): billed at the number holder's rates, a toll-fraud
    # classic; FreeSWITCH's gate (scripts/dialable_area_codes.py) refuses them too
    PhoneNumberType.PERSONAL_NUMBER: "a personal (follow-me) number",
}
_MAX_ZONES = 4  # more than this: the number tells us nothing about where the guest is


@dataclass(frozen=True)
class CallingHours:
    start: time = time(9, 0)
    end: time = time(20, 0)  # no call starts at or after this, guest's local time


def check_dialable(number_e164: str, *, home_region: str, allow_international: bool) -> str:
    """The number to dial, or a Refusal saying why the restaurant must not call it."""
    try:
        number = phonenumbers.parse(number_e164, None)
    except phonenumbers.NumberParseException as e:
        raise Refusal(f"{number_e164!r} is not a phone number in E.164 form") from e
    if not phonenumbers.is_valid_number(number):
        raise Refusal(f"{number_e164} is not a valid phone number")
    kind = phonenumbers.number_type(number)
    if kind in NEVER_DIAL:
        raise Refusal(f"{number_e164} is {NEVER_DIAL[kind]}; the restaurant never dials those")
    region = phonenumbers.region_code_for_number(number)
    if region != home_region and not allow_international:
        raise Refusal(
            f"{number_e164} is an international number ({region}); international calls are "
            "off for this restaurant (outbound_international in settings/restaurant)"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def guest_zones(number_e164: str, restaurant_tz: ZoneInfo) -> list[ZoneInfo]:
    try:
        number = phonenumbers.parse(number_e164, None)
        names = [z for z in number_zones.time_zones_for_number(number) if z != "Etc/Unknown"]
    except phonenumbers.NumberParseException:
        names = []
    if not names or len(names) > _MAX_ZONES:
        return [restaurant_tz]
    return [ZoneInfo(n) for n in names]


def within_hours(now: datetime, zones: list[ZoneInfo], hours: CallingHours) -> bool:
    return all(hours.start <= now.astimezone(z).time() < hours.end for z in zones)


def next_calling_time(now: datetime, zones: list[ZoneInfo], hours: CallingHours) -> datetime:
    """`now` when it is inside calling hours everywhere the guest may be, else the first
    quarter hour that is (at most two days on: a window empty in every zone is a bad setting)."""
    at = now
    for _ in range(2 * 24 * 4 + 1):
        if within_hours(at, zones, hours):
            return at
        at = (at + timedelta(minutes=15)).replace(second=0, microsecond=0)
        at -= timedelta(minutes=at.minute % 15)
    raise ValueError(f"calling hours {hours} never open in {[z.key for z in zones]}")
