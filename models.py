"""Typed records the restaurant keeps in Firestore.

Money is always integer cents; times that a caller hears are in the restaurant's time zone.
Every model here is what one Firestore document holds (``to_doc`` / ``from_doc``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from enum import Enum
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.seating import SeatingPlan

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
E164_RE = re.compile(r"^\+[1-9][0-9]{3,14}$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The languages the line speaks (domain/lines.py holds every fixed line in each), and the lines a
# restaurant writes itself and must give in every language it offers.
LANGUAGES = ("en", "es")
RESTAURANT_LINES = ("recording_notice", "large_party_note")

# Where the staff menu lives in Firestore (the seed script writes it, the worker watches it).
MENU = "menu_items"  # one document per item id
SETTINGS_DOC = "settings/restaurant"

# Every restaurant's documents live under restaurants/{rid}/ (store/scope.py); the document
# restaurants/{rid} itself is its directory entry (name and the dialled numbers that ring it).
RESTAURANTS = "restaurants"
DEFAULT_RESTAURANT_ID = "main"  # a single-restaurant deployment's restaurant, no setting needed
# The collections one restaurant owns; the migration script moves exactly these.
RESTAURANT_COLLECTIONS = (
    "menu_items", "settings", "orders", "reservations", "seating", "slots", "customers",
    "messages", "call_logs", "analytics",
    # the staff board's accounts and sign-ins: a staff account belongs to one restaurant
    "staff_users", "staff_sessions",
    # sign-in back-off counters and the browsers an account signed in from (store/signin.py)
    "signin_backoff", "staff_devices",
    # the outbound call queue (store/outbound.py)
    "outbound_calls", "outbound_phones", "do_not_call", "outbound_caps",
    # what a re-dispatched agent needs to resume a crashed call (conversation/call_snapshot.py)
    "call_snapshots",
    # where each order stands in the point of sale (store/pos_orders.py)
    "pos_orders",
    # texts sent and received, masked (store/texts.py)
    "texts",
)


def check_restaurant_id(rid: str) -> str:
    if not SLUG_RE.match(rid or ""):
        raise ValueError(
            f"restaurant id {rid!r} is not a slug (lowercase letters, digits and dashes)"
        )
    return rid


# The name a guest gives (an order, a booking, a message): one limit everywhere it is kept.
GuestName = Annotated[str, Field(min_length=1, max_length=80)]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    def to_doc(self) -> dict[str, Any]:
        """A Firestore-ready dict (dates and times as ISO strings, datetimes kept native)."""
        return _firestore_safe(self.model_dump(mode="python"))

    @classmethod
    def from_doc(cls, data: dict[str, Any]) -> Any:
        return cls.model_validate(data)


def map_leaves(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """A document's value with `leaf` applied to every value that is not a dict, list or tuple:
    the one walk both ways (to Firestore here, to the board's JSON in store/staff.to_json)."""
    if isinstance(value, dict):
        return {k: map_leaves(v, leaf) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [map_leaves(v, leaf) for v in value]
    return leaf(value)


def _firestore_leaf(value: Any) -> Any:
    # Firestore stores datetimes natively but has no date-only or time-only type.
    if isinstance(value, datetime):
        return value
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _firestore_safe(value: Any) -> Any:
    return map_leaves(value, _firestore_leaf)


def _check_slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError(f"{value!r} is not a slug (lowercase letters, digits and dashes)")
    return value


def _cents_not_bool(value: Any) -> Any:
    # YAML `true` would otherwise be accepted as 1 cent.
    if isinstance(value, bool):
        raise ValueError("must be a whole number of cents, not true/false")
    return value


# ---------------------------------------------------------------- menu


class Size(_Doc):
    id: str
    name: str
    price_delta_cents: int = 0

    _slug = field_validator("id")(_check_slug)
    _cents = field_validator("price_delta_cents", mode="before")(_cents_not_bool)


class Option(_Doc):
    id: str
    name: str
    price_delta_cents: int = Field(default=0, ge=0)
    available: bool = True
    # What choosing it adds (feta: dairy) and takes out of the dish (oat milk: dairy), and the
    # diets it keeps (None: it keeps the dish's; bacon: []). See domain/diet.py.
    allergens: list[str] = []
    removes: list[str] = []
    dietary: list[str] | None = None

    _cents = field_validator("price_delta_cents", mode="before")(_cents_not_bool)

    _slug = field_validator("id")(_check_slug)


class OptionGroup(_Doc):
    id: str
    name: str
    required: bool = False
    min_picks: int = Field(default=0, ge=0)
    max_picks: int = Field(default=1, ge=1)
    options: list[Option] = Field(min_length=1)

    _slug = field_validator("id")(_check_slug)

    @model_validator(mode="after")
    def _consistent(self) -> OptionGroup:
        if self.required and self.min_picks < 1:
            self.min_picks = 1
        if self.min_picks > self.max_picks:
            raise ValueError(f"min_picks {self.min_picks} exceeds max_picks {self.max_picks}")
        if self.max_picks > len(self.options):
            raise ValueError(
                f"max_picks {self.max_picks} exceeds the {len(self.options)} options offered"
            )
        ids = [o.id for o in self.options]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate option ids {dupes}")
        return self


class MenuItem(_Doc):
    id: str
    name: str = Field(min_length=1)
    category: str = Field(min_length=1)
    price_cents: int = Field(gt=0)
    description: str = ""
    aliases: list[str] = []
    sizes: list[Size] = []
    default_size: str | None = None
    option_groups: list[OptionGroup] = []
    allergens: list[str] = []
    # Traces the kitchen cannot rule out (made next to nuts): never "free of" them.
    may_contain: list[str] = []
    dietary: list[str] = []
    available: bool = True

    _slug = field_validator("id")(_check_slug)
    _cents = field_validator("price_cents", mode="before")(_cents_not_bool)

    @model_validator(mode="after")
    def _consistent(self) -> MenuItem:
        size_ids = [s.id for s in self.sizes]
        if len(set(size_ids)) != len(size_ids):
            raise ValueError(f"duplicate size ids {size_ids}")
        if self.default_size is not None and self.default_size not in size_ids:
            raise ValueError(f"default_size {self.default_size!r} is not one of {size_ids}")
        for s in self.sizes:
            if self.price_cents + s.price_delta_cents <= 0:
                raise ValueError(f"size {s.id!r} makes the price zero or negative")
        group_ids = [g.id for g in self.option_groups]
        if len(set(group_ids)) != len(group_ids):
            raise ValueError(f"duplicate option group ids {group_ids}")
        return self

    def size(self, size_id: str | None) -> Size | None:
        return next((s for s in self.sizes if s.id == size_id), None)


# Hours may run past midnight ("open 17:00, close 02:00": the night's close is the next
# morning), but only into the small hours: a close before the open and after this is a mistake.
LATEST_NIGHT_CLOSE = time(6, 0)


class TimeRange(_Doc):
    """Opening hours of one day; a `close` before the `open` is that night's, after midnight."""

    open: time
    close: time

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.close == self.open:
            raise ValueError(f"close {self.close} is the same as open {self.open}")
        if self.close < self.open and self.close > LATEST_NIGHT_CLOSE:
            raise ValueError(
                f"close {self.close} is before open {self.open}: hours past midnight must "
                f"close by {LATEST_NIGHT_CLOSE.strftime('%H:%M')} (e.g. open 17:00, close 02:00)")
        return self

    @property
    def past_midnight(self) -> bool:
        """Closes after midnight, in the small hours of the next day."""
        return self.close < self.open

    @property
    def span(self) -> tuple[int, int]:
        """(open, close) in minutes from the day's midnight; a close past midnight is > 1440."""
        close = self.close.hour * 60 + self.close.minute
        return (self.open.hour * 60 + self.open.minute,
                close + (24 * 60 if self.past_midnight else 0))


class RestaurantSettings(_Doc):
    name: str = Field(min_length=1)
    address: str = ""
    phone: str = ""
    timezone: str = "America/New_York"
    # weekday ("mon".."sun") -> opening ranges; a missing day is closed
    hours: dict[str, list[TimeRange]] = {}
    tax_rate: float = Field(default=0.0, ge=0, lt=0.5)
    prep_minutes: int = Field(default=15, ge=1, le=240)
    slot_minutes: int = Field(default=30, ge=5, le=240)
    # Tables (or seats), dining time by party size and pacing: see domain/seating.py.
    seating: SeatingPlan = Field(default_factory=lambda: SeatingPlan(seats=20))
    max_party_size: int = Field(default=8, ge=1)
    staff_transfer_to: str = ""
    # The dialled numbers (E.164, as the SIP trunk passes them on) that ring this restaurant.
    # None listed anywhere: a single-restaurant deployment, every call comes here.
    numbers: list[str] = []
    large_party_note: str = "For parties larger than that, our manager arranges it personally."
    # Call recording is opt-in; callers hear the notice before anything else.
    record_calls: bool = False
    recording_notice: str = "This call is recorded so we can get your order right."
    recording_retention_days: int = Field(default=30, ge=1, le=3650)
    # Outbound calls (reminders, call-backs): guest-local calling hours, attempts, reach.
    reminder_hours_before: int = Field(default=24, ge=1, le=168)
    outbound_max_attempts: int = Field(default=3, ge=1, le=10)
    outbound_hours: TimeRange | None = None  # default 09:00-20:00 in the guest's time zone
    outbound_international: bool = False
    # The country whose numbers are domestic (ISO 3166 code, e.g. "US", "CA"); unset: the
    # country of the restaurant's `phone`, else the US.
    region: str | None = None
    # What the dialer may run up: calls started in any 60 minutes, in any 24 hours, and at once
    outbound_max_per_hour: int = Field(default=20, ge=0, le=1000)
    outbound_max_per_day: int = Field(default=100, ge=0, le=10000)
    outbound_max_concurrent: int = Field(default=2, ge=0, le=100)
    # Languages: the one a call starts in, the ones callers may switch to, the voice of each
    # (Cartesia voice ids; unset: CARTESIA_VOICE_ID / CARTESIA_VOICE_ID_ES), and the
    # restaurant's own lines (RESTAURANT_LINES) in every offered language but English.
    default_language: str = "en"
    languages: list[str] = ["en"]
    # When a caller's turn is over: "local" (the worker's VAD and turn detector) or "flux"
    # (Deepgram Flux decides, with an eager end of turn to start the answer early; English
    # only: a restaurant offering another language keeps "local"). conversation/turn_taking.py
    turn_taking: Literal["local", "flux"] = "local"
    # The language staff are briefed in before a warm transfer; unset: `default_language`.
    staff_language: str | None = None
    voices: dict[str, str] = {}
    lines: dict[str, dict[str, str]] = {}
    # The restaurant's Square location (docs/pos.md): its orders go there and its sold-out
    # follows that location. Unset: SQUARE_LOCATION_ID, the deployment's one location.
    square_location_id: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {value!r}") from e
        return value

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        import phonenumbers

        if value in (None, ""):
            return None
        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"region {value!r} is not a country code such as US or CA")
        return value.upper()

    @property
    def home_region(self) -> str:
        """Where a number is domestic: `region`, else the country of the restaurant's phone."""
        import phonenumbers

        if self.region:
            return self.region
        try:
            found = phonenumbers.region_code_for_number(phonenumbers.parse(self.phone, None))
        except phonenumbers.NumberParseException:
            found = None
        return found if found and found != "001" else "US"

    @field_validator("numbers")
    @classmethod
    def _dialable(cls, value: list[str]) -> list[str]:
        bad = [n for n in value if not E164_RE.match(n)]
        if bad:
            raise ValueError(f"numbers {bad} are not E.164 (a '+', the country code, the number)")
        return value

    @field_validator("hours")
    @classmethod
    def _weekdays(cls, value: dict[str, list[TimeRange]]) -> dict[str, list[TimeRange]]:
        bad = sorted(set(value) - set(WEEKDAYS))
        if bad:
            raise ValueError(f"unknown weekdays {bad}; use {list(WEEKDAYS)}")
        for n, key in enumerate(WEEKDAYS):
            spans = sorted(r.span for r in value.get(key, []))
            for (_, end), (start, _) in pairwise(spans):
                if start < end:
                    raise ValueError(f"{key}: two opening ranges overlap")
            nxt = WEEKDAYS[(n + 1) % 7]
            first = min((r.span[0] for r in value.get(nxt, [])), default=None)
            if spans and first is not None and spans[-1][1] > 24 * 60 + first:
                raise ValueError(f"{key}: the night runs past {nxt}'s opening; close "
                                 f"{key}'s last range before {nxt} opens")
        return value

    @field_validator("outbound_hours")
    @classmethod
    def _daytime_calls(cls, value: TimeRange | None) -> TimeRange | None:
        if value is not None and value.past_midnight:
            raise ValueError("outbound_hours cannot run past midnight; nobody is called then")
        return value

    @model_validator(mode="before")
    @classmethod
    def _legacy_seats_per_slot(cls, data: Any) -> Any:
        # Settings saved before the seating model capped covers per start slot; the nearest
        # honest reading of that number is the room's seats (now held for the whole meal).
        if isinstance(data, dict) and "seats_per_slot" in data:
            data = dict(data)
            seats = data.pop("seats_per_slot")
            data.setdefault("seating", {"seats": seats})
        return data

    @model_validator(mode="after")
    def _every_language_has_its_lines(self) -> RestaurantSettings:
        unknown = [x for x in [*self.languages, self.default_language, *self.voices,
                               *self.lines, *([self.staff_language] if self.staff_language
                                              else [])] if x not in LANGUAGES]
        if unknown:
            raise ValueError(f"language {unknown[0]!r} is not one the line speaks "
                             f"{list(LANGUAGES)}")
        if self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not in "
                             f"languages {self.languages}")
        for lang in self.languages:
            if lang == "en":
                continue  # the English lines are the fields themselves
            given = self.lines.get(lang) or {}
            for key in RESTAURANT_LINES:
                if not str(given.get(key) or "").strip():
                    raise ValueError(f"languages lists {lang!r} but lines.{lang}.{key} is "
                                     f"missing (the {key.replace('_', ' ')} callers hear "
                                     f"in that language)")
        return self

    @model_validator(mode="after")
    def _room_takes_the_largest_party(self) -> RestaurantSettings:
        largest = self.seating.largest_party
        if self.max_party_size > largest:
            raise ValueError(
                f"max_party_size {self.max_party_size} is more than the largest table or "
                f"combination of tables seats ({largest}); lower it or let tables join"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def briefing_language(self) -> str:
        """The language staff hear their briefing in."""
        return self.staff_language or self.default_language

    def ranges_on(self, day: date) -> list[TimeRange]:
        return self.hours.get(WEEKDAYS[day.weekday()], [])


# ---------------------------------------------------------------- orders


class ChosenOption(_Doc):
    group_id: str
    option_id: str
    name: str
    price_delta_cents: int = 0


class OrderLine(_Doc):
    item_id: str
    name: str
    size: str | None = None
    size_name: str | None = None
    options: list[ChosenOption] = []
    quantity: int = Field(ge=1, le=20)
    unit_price_cents: int = Field(gt=0)
    line_price_cents: int = Field(gt=0)
    special_instructions: str = ""

    @model_validator(mode="after")
    def _priced(self) -> OrderLine:
        if self.line_price_cents != self.unit_price_cents * self.quantity:
            raise ValueError("line price is not unit price times quantity")
        return self


# "confirmed" is a new order to the kitchen; "preparing", "ready", "collected" (picked up) and
# "cancelled" (with `cancel_reason`) are set by staff on the board.
OrderStatus = Literal[
    "confirmed", "pending_staff_confirmation", "preparing", "ready", "collected", "cancelled"
]


# A deliberate same-shape pair (`duplicates`) with Reservation below: both records declare a
# guest's name, phone, call and notes with the same limits.
class Order(_Doc):
    id: str
    order_number: str
    call_id: str
    lines: list[OrderLine] = Field(min_length=1)
    subtotal_cents: int = Field(gt=0)
    tax_cents: int = Field(ge=0)
    total_cents: int = Field(gt=0)
    customer_name: GuestName
    customer_phone: str
    # Set when the line may not call or text `customer_phone` back (a number abroad with
    # international calls off, a premium number): staff see why (domain/outbound_rules.py).
    callback_note: str = ""
    pickup_time: datetime
    status: OrderStatus = "confirmed"
    notes: str = ""
    created_at: datetime
    cancel_reason: str = ""
    updated_at: datetime | None = None  # last staff change (the board)
    updated_by: str = ""

    @model_validator(mode="after")
    def _totals(self) -> Order:
        if self.subtotal_cents != sum(line.line_price_cents for line in self.lines):
            raise ValueError("subtotal is not the sum of the lines")
        if self.total_cents != self.subtotal_cents + self.tax_cents:
            raise ValueError("total is not subtotal plus tax")
        return self


# ---------------------------------------------------------------- reservations

# A call books, changes and cancels; the host stand also marks a party seated, finished or
# a no-show (the board).
ReservationStatus = Literal["confirmed", "changed", "cancelled", "seated", "finished", "no_show"]


class ReservationChange(_Doc):
    at: datetime
    call_id: str  # the call, or "board:<staff user>" for a change made on the staff board
    action: Literal["created", "changed", "cancelled", "seated", "finished", "no_show"]
    before: dict[str, Any] = {}


# A deliberate same-shape pair (`duplicates`) with Order above (the guest's fields).
class Reservation(_Doc):
    code: str
    date: date
    time: time
    party_size: int = Field(ge=1)
    name: GuestName
    phone: str
    status: ReservationStatus = "confirmed"
    call_id: str
    notes: str = ""
    history: list[ReservationChange] = []
    created_at: datetime
    updated_at: datetime
    # What the booking holds in the dining room (domain/seating.py): its tables and minutes there.
    tables: list[str] = []
    minutes: int | None = None
    # The language of the call that booked it, so reminders speak it (actions/outbound.py).
    # None on bookings from before languages: read as the restaurant's default language.
    language: str | None = None

    @property
    def slot_id(self) -> str:
        return slot_id(self.date, self.time)


def slot_id(day: date, at: time) -> str:
    """Firestore id of the capacity counter for one time slot: ``2026-11-22T19:00``."""
    return f"{day.isoformat()}T{at.strftime('%H:%M')}"


# ---------------------------------------------------------------- people and calls


class LastOrderLine(_Doc):
    item_id: str
    name: str
    size: str | None = None
    option_ids: list[str] = []
    quantity: int = 1


class Customer(_Doc):
    phone: str
    name: str = ""
    first_seen: datetime
    last_seen: datetime
    order_count: int = 0
    reservation_count: int = 0
    last_order: list[LastOrderLine] = []
    # Texts (actions/texts.py): the caller's answer to "want a text?", and STOP / START
    sms_consent: bool | None = None
    sms_consent_at: datetime | None = None
    sms_language: str | None = None
    sms_opted_out: bool = False


CallOutcome = Literal[
    "order", "reservation", "change", "cancel", "info", "transfer", "message", "abandoned",
    # outbound calls: a reminder kept, a voicemail left, "don't call me again", nobody there
    "kept", "voicemail", "opted_out", "no_answer",
]


class TranscriptLine(_Doc):
    role: str
    text: str
    agent: str | None = None


CallStatus = Literal["in_progress", "completed", "crashed"]


class CallLog(_Doc):
    call_id: str
    caller: str | None = None
    dialed: str | None = None
    restaurant_id: str | None = None
    language: str = "en"  # the language the call ended in
    languages: list[str] = []  # every language the caller was served in, in order
    started_at: datetime
    ended_at: datetime | None = None
    duration_s: float | None = None
    agents_visited: list[str] = []
    intents: list[str] = []
    outcome: CallOutcome = "abandoned"
    ids_created: list[str] = []
    transcript: list[TranscriptLine] = []
    turn_latency_ms: list[float] = []
    usage: dict[str, float] = {}
    close_reason: str | None = None
    # Written "in_progress" when the call starts, "completed" at its end; "crashed" when no
    # agent finished it (the reaper in services/call_watch.py). Logs from before had no status.
    status: CallStatus = "completed"
    resumed: int = 0  # how many times an agent took the call over after a crash
    analytics_day: date | None = None  # the day the call is counted on (restaurant time)
    recording: str | None = None  # relative to RECORDINGS_DIR; None once deleted
    recording_expires_at: datetime | None = None
    direction: Literal["inbound", "outbound"] = "inbound"
    outbound_call_id: str | None = None  # outbound_calls/{id} this call dialled for


OutboundKind = Literal["reminder", "callback"]
OutboundStatus = Literal["pending", "leased", "done", "failed", "skipped"]


class OutboundCall(_Doc):
    """One guest to call (outbound_calls/{id}); the id comes from what it is about, so a
    booking gets one reminder and a message one call-back however often they are scheduled."""

    id: str
    kind: OutboundKind
    phone: str
    # "text": a booking reminder sent as a text (actions/texts.py), under the same calling
    # hours, opt-out and attempt rules as a call
    channel: Literal["call", "text"] = "call"
    reservation_code: str | None = None
    message_id: str | None = None
    reason: str = ""
    status: OutboundStatus = "pending"
    attempts: int = 0
    max_attempts: int = Field(default=3, ge=1)
    next_try_at: datetime | None = None  # None once finished: the queue never looks again
    lease_owner: str | None = None
    lease_until: datetime | None = None
    outcome: str | None = None
    call_ids: list[str] = []
    created_at: datetime
    updated_at: datetime


class Message(_Doc):
    id: str
    call_id: str
    name: GuestName
    phone: str
    reason: str = Field(min_length=1, max_length=500)
    status: Literal["new", "handled"] = "new"
    created_at: datetime
    handled_at: datetime | None = None  # when staff marked it done on the board
    handled_by: str = ""
    # The language the caller left it in, so the call-back speaks it (actions/outbound.py).
    # None on messages from before languages: read as the restaurant's default language.
    language: str | None = None


class DailyAnalytics(_Doc):
    """Counters only; averages are derived when read (see ``averages``)."""

    calls: int = 0
    orders: int = 0
    revenue_cents: int = 0
    reservations: int = 0
    covers: int = 0
    transfers: int = 0
    abandoned: int = 0
    messages: int = 0
    crashed: int = 0  # calls no agent finished (counted in `calls` too)

    def averages(self) -> dict[str, float]:
        return {
            "average_order_cents": self.revenue_cents / self.orders if self.orders else 0.0,
            "average_party_size": self.covers / self.reservations if self.reservations else 0.0,
        }
