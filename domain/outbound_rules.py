"""Who the restaurant may call, and when: the rules every outbound call obeys, without LiveKit
or Firestore (the queue in store/outbound.py applies them).

- Only numbers the restaurant holds: a call is scheduled from a booking or a saved message,
  never from a number typed in; this module then refuses numbers no guest should be called on:
  premium-rate, shared-cost, toll-free-looking personal numbers, and (unless the restaurant
  enables it) numbers outside the restaurant's country.
- The deny list (`deny_patterns`, `NEVER_DIAL_CODES`, `NANP_REGIONS`), the same in FreeSWITCH's
  dialplan (scripts/outbound_deny.py writes it there): by number type from phonenumbers'
  metadata, for every region sharing a country code; whole codes that are satellite or
  international networks (+870, +881, +882, +883 …), where the metadata has no type to refuse;
  and every +1 number outside the US and Canada (the Caribbean's 876, 809, 284 …, billed as
  international and the classic toll-fraud targets), so also +1 5XX, 700, N11 and 900.
- Calling hours in the guest's local time: the guest's time zone comes from their number
  (phonenumbers' time-zone metadata: area code 617 is America/New_York); a number that spans
  several zones must be inside the window in every one of them; a number whose zone cannot be
  told (toll-free, mobile ranges spanning a continent) uses the restaurant's time zone.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType
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
# Country codes dialled as a whole never: satellite and international networks, global
# freephone/shared-cost/premium services, and former or trial codes phonenumbers does not know.
NEVER_DIAL_CODES = frozenset({800, 808, 870, 871, 872, 873, 874, 878, 881, 882, 883, 888,
                              979, 991})
NANP_REGIONS = frozenset({"US", "CA"})  # the +1 regions a guest may be called in
_DENY_TYPES = ("premium_rate", "shared_cost", "toll_free", "uan", "pager", "personal_number")
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
    why = _denied(number)
    if why:
        raise Refusal(f"{number_e164} is {why}; the restaurant never dials those")
    region = phonenumbers.region_code_for_number(number)
    if region != home_region and not allow_international:
        raise Refusal(
            f"{number_e164} is an international number ({region}); international calls are "
            "off for this restaurant (outbound_international in settings/restaurant)"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def callback_note(number_e164: str, *, home_region: str, allow_international: bool) -> str:
    """What staff must know about a guest's number the line may not dial: "" when it may."""
    try:
        check_dialable(number_e164, home_region=home_region,
                       allow_international=allow_international)
    except Refusal as e:
        return f"the line will not call or text this number back: {e}"
    return ""


def _denied(number: phonenumbers.PhoneNumber) -> str | None:
    code = number.country_code
    if code in NEVER_DIAL_CODES:
        return "a satellite or international-network number"
    if code == 1:
        if phonenumbers.region_code_for_number(number) not in NANP_REGIONS:
            return "a +1 number outside the US and Canada (billed as international)"
        if str(number.national_number)[:3] not in _nanp_set():
            return "a +1 number outside the US's and Canada's geographic area codes"
        return None
    national = phonenumbers.national_significant_number(number)
    if any(re.fullmatch(p, national) for p in deny_patterns().get(code, ())):
        return "a premium-rate, shared-cost or other non-personal number"
    return None


@functools.cache
def deny_patterns() -> dict[int, tuple[str, ...]]:
    """Country code -> the national-number patterns of every type the restaurant never dials,
    over all the regions sharing that code (phonenumbers' metadata; +1 and the whole codes
    above are handled apart)."""
    out: dict[int, tuple[str, ...]] = {}
    for code, regions in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()):
        if code == 1 or code in NEVER_DIAL_CODES:
            continue
        found: list[str] = []
        for region in regions:
            meta = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
            for kind in _DENY_TYPES if meta is not None else ():
                desc = getattr(meta, kind)
                pattern = desc.national_number_pattern if desc is not None else None
                if pattern and pattern not in found:
                    found.append(pattern)
        if found:
            out[code] = tuple(found)
    return out


@functools.cache
def _nanp_set() -> frozenset[str]:
    return frozenset(nanp_area_codes())


def nanp_area_codes() -> list[str]:
    """The +1 area codes whose numbers are US or Canadian fixed-line or mobile numbers."""
    geographic = {PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE,
                  PhoneNumberType.FIXED_LINE_OR_MOBILE}
    codes = []
    for npa in range(200, 1000):
        number = phonenumbers.parse(f"+1{npa}2345678", None)
        if (phonenumbers.region_code_for_number(number) in NANP_REGIONS
                and phonenumbers.is_valid_number(number)
                and phonenumbers.number_type(number) in geographic):
            codes.append(str(npa))
    return codes


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
