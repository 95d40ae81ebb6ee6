"""The state of one call as what a call does (actions/) sees it: the cart, the booking draft,
the services, the clock and what was achieved. No LiveKit here: the agents' own part of the
state (which agent is which, the call log and snapshot writers) is `conversation.state.UserData`,
which extends this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Literal, Protocol

from domain.cart import Cart
from domain.menu import Catalog
from models import LastOrderLine, Order, Reservation, RestaurantSettings

if TYPE_CHECKING:
    from actions.outbound_job import OutboundState
    from actions.pos import PosHandoff
    from actions.pos_webhook import OrderWebhook
    from actions.transfer import StaffPhone
    from store import FirebaseManager


# What a call achieved, most telling first: the log's outcome is the first of these it has.
ACHIEVED_OUTCOMES = ("order", "reservation", "change", "cancel", "transfer", "message",
                     "opted_out", "kept", "voicemail", "no_answer")


def achieved_outcome(outcomes: list[str]) -> str | None:
    """The outcome a call's log shows for what it achieved (None: nothing was)."""
    return next((kind for kind in ACHIEVED_OUTCOMES if kind in outcomes), None)


class TextQueue(Protocol):
    """Texts to the guest as a call uses them (actions/texts.Texts)."""

    async def may_text(self, db: FirebaseManager, phone: str) -> bool: ...

    async def may_offer(self, db: FirebaseManager, phone: str) -> bool: ...

    async def queue(self, db: FirebaseManager, *, phone: str, sender: str, body: str,
                    about: str) -> str: ...


@dataclass
class CallServices:
    """What a call needs from outside: persistence, the live menu, a clock and the phone line."""

    db: FirebaseManager
    catalog: Catalog
    clock: Callable[[], datetime]
    # Cold-transfers the SIP caller to a destination; raises when the transfer fails.
    transfer: Callable[[str], Awaitable[None]]
    # Warm transfer through the outbound trunk (actions/transfer.py); None: cold only.
    staff_phone: StaffPhone | None = None
    staff_ring_s: float = 25.0  # how long staff's phone rings before the agent takes back
    # The point of sale (actions/pos.py): a saved order is queued for it; None: no POS.
    pos: PosHandoff | OrderWebhook | None = None
    # Texts to the guest (actions/texts.py); None: no text is offered.
    texts: TextQueue | None = None


@dataclass(frozen=True)
class Desk:
    """What an action reads of where it runs, a call or the staff board: the store, the live menu
    (and with it the restaurant's settings), the clock, who acts (the call's id, or the board's
    staff actor), in which language, the caller's words for the tool being run, and the number
    already known (the call's contact number or caller ID; at the board, the booking's own)."""

    db: FirebaseManager
    catalog: Catalog
    clock: Callable[[], datetime]
    by: str
    language: str = "en"
    heard: str = ""
    known_phone: str | None = None

    @property
    def settings(self) -> RestaurantSettings:
        return self.catalog.settings

    @property
    def now(self) -> datetime:
        return self.clock().astimezone(self.settings.tz)


@dataclass
class ReservationDraft:
    action: Literal["new", "change", "cancel"]
    day: date | None = None
    at: time | None = None
    party_size: int | None = None
    name: str | None = None
    phone: str | None = None
    code: str | None = None  # the existing booking, for change and cancel
    seq: int | None = None  # this call's booking number, fixed at the first confirm
    # Staff board: change/cancel only the version of the booking staff saw (two tablets)
    if_updated_at: datetime | None = None


@dataclass
class CallState:
    call_id: str
    services: CallServices
    caller_phone: str | None = None  # E.164 from SIP caller ID, when valid
    dialed: str | None = None
    returning_name: str | None = None
    usual: list[LastOrderLine] = field(default_factory=list)  # a returning caller's last order

    agents_visited: list[str] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)

    cart: Cart = field(default_factory=Cart)
    reservation: ReservationDraft | None = None

    ids_created: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    transfer_times: dict[str, float] = field(default_factory=dict)  # a warm transfer's steps
    order_seq: int = 0
    reservation_seq: int = 0
    message_seq: int = 0
    tool_errors_in_a_row: int = 0
    questions_answered: int = 0
    ended_by_agent: bool = False
    returned_from_staff: bool = False  # a cold transfer nobody took, back with the agent
    last_confirmation: str | None = None  # what the last confirm told the caller
    outbound: OutboundState | None = None  # a reminder or call-back this call is making
    # The language the caller is served in (domain/lines.py, domain/spoken.py), and every one used
    # so far.
    language: str = "en"
    languages_used: list[str] = field(default_factory=list)
    resumed: int = 0  # how many agents took this call over after a crash (0: the first)
    resume_note: str = ""  # said before the read-back when a call resumes at confirmation
    to_text: Order | Reservation | None = None  # what a text offered now would confirm
    text_offered: bool = False  # a text was offered and the caller has not said yes or no yet
    asked_before_ending: bool = False  # end_call with a read-back pending asked once
    collecting_phone: bool = False  # a phone number was refused: the caller is saying one
    # A "yes, and add a cookie" the confirm tool sent back: the words, and the order as it was
    held_yes: tuple[str, str] | None = None
    heard: str = ""  # the caller's last words, as the tool being run was asked them

    @property
    def settings(self) -> RestaurantSettings:
        return self.services.catalog.settings

    @property
    def now(self) -> datetime:
        return self.services.clock().astimezone(self.settings.tz)

    @property
    def desk(self) -> Desk:
        """This call as the actions see it now (a fresh snapshot: the language and the words
        heard change during the call)."""
        s = self.services
        return Desk(db=s.db, catalog=s.catalog, clock=s.clock, by=self.call_id,
                    language=self.language, heard=self.heard,
                    known_phone=self.cart.customer_phone or self.caller_phone)

    def note_intent(self, intent: str) -> None:
        if not self.intents or self.intents[-1] != intent:
            self.intents.append(intent)

    @property
    def has_unsaved_work(self) -> bool:
        return bool(self.cart) or self.reservation is not None

    def outcome(self) -> str:
        """The call's outcome for the log: what was achieved, else why it ended."""
        achieved = achieved_outcome(self.outcomes)
        if achieved is not None:
            return achieved
        if self.has_unsaved_work:
            return "abandoned"
        if self.questions_answered or self.ended_by_agent:
            return "info"
        return "abandoned"

    def summary(self) -> str:
        """Compact state handed to the next agent with the recent conversation."""
        parts = [f"now {self.now.strftime('%A %Y-%m-%d %H:%M')}"]
        if self.language != "en":
            parts.append(f"caller speaks {self.language}")
        if self.caller_phone:
            parts.append(f"caller ID {self.caller_phone}")
        name = self.cart.customer_name or self.returning_name
        if name:
            parts.append(f"name {name}")
        if self.cart.customer_phone:
            parts.append(f"contact phone {self.cart.customer_phone}")
        if self.cart:
            parts.append(f"order: {self.cart.summary(self.settings.tax_rate)}")
        r = self.reservation
        if r:
            fields = {k: v for k, v in vars(r).items() if v is not None}
            parts.append("reservation draft: " + ", ".join(f"{k}={v}" for k, v in fields.items()))
        if self.ids_created:
            parts.append(f"saved this call: {', '.join(self.ids_created)}")
        return "; ".join(parts)
