"""Reads the order or booking back, takes corrections, and saves it once on "yes"."""

from __future__ import annotations

import datetime as dt

from livekit.agents import Agent, RunContext, function_tool

import booking
from agents.base import PHONE_MANNER, BaseAgent, caller_must_fix
from agents.order import (
    add_line,
    change_line,
    check_ready_to_confirm,
    estimated_pickup,
    remove_line,
    set_contact,
)
from agents.reservation import check_slot
from agents.userdata import UserData
from contact import clean_name, spoken
from firebase_manager import (
    CodeTaken,
    OrderIdTaken,
    ReservationCancelled,
    ReservationNotFound,
    SaveResult,
    SlotFull,
)
from ids import MAX_ID_ATTEMPTS, order_id, order_number, reservation_code
from models import Order, Reservation, ReservationChange
from pricing import describe_line, money, spoken_list, totals
from refusal import Refusal

INSTRUCTIONS = (
    "You confirm the caller's order or booking. The read-back has been spoken. " + PHONE_MANNER
    + "\nOn a clear yes, call confirm. If the caller corrects something, use the correction "
    "tools and read the new version back. If they say no without a correction, call decline. "
    "After confirm, tell the caller what it returned and ask if there is anything else; "
    "end_call when they are done."
)


def spell(code: str) -> str:
    return " ".join(code)


def order_readback(userdata: UserData) -> str:
    _, _, total = totals(userdata.cart, userdata.settings.tax_rate)
    items = spoken_list([describe_line(line) for line in userdata.cart])
    phone = spoken(userdata.customer_phone) if userdata.customer_phone else "no number"
    pickup = booking.say_time(estimated_pickup(userdata).time())
    return (
        f"Let me read that back: {items}. That's {money(total)} with tax, paid at pickup, "
        f"ready at about {pickup}, under the name {userdata.customer_name}, phone {phone}. "
        "Shall I place the order?"
    )


def reservation_readback(userdata: UserData) -> str:
    r = userdata.reservation
    assert r is not None and r.day and r.at and r.party_size
    when = f"{booking.say_day(r.day, userdata.now.date())} at {booking.say_time(r.at)}"
    table = f"a table for {r.party_size} {when}, under {r.name}"
    if r.action == "new":
        return f"Let me confirm: {table}, phone {spoken(r.phone or '')}. Shall I book it?"
    if r.action == "change":
        return f"Let me confirm the change to booking {spell(r.code or '')}: {table}. Shall I?"
    return f"Just to confirm: cancel booking {spell(r.code or '')}, {table}? "


def readback(userdata: UserData) -> str:
    return reservation_readback(userdata) if userdata.reservation else order_readback(userdata)


async def save_order_under_free_id(userdata: UserData) -> SaveResult:
    """Save the pending order; when its id holds a different order (this call's counter started
    over after a crash), move to the next number. The walk is the same on every retry."""
    for _ in range(MAX_ID_ATTEMPTS):
        order = userdata.pending_order
        assert order is not None
        try:
            return await userdata.services.db.save_order(order, order.created_at.date())
        except OrderIdTaken:
            userdata.order_seq += 1
            oid = order_id(userdata.call_id, userdata.order_seq)
            userdata.pending_order = order.model_copy(
                update={"id": oid, "order_number": order_number(oid)}
            )
    raise RuntimeError("could not find a free order id")


class ConfirmationAgent(BaseAgent):
    def __init__(self, userdata: UserData) -> None:
        super().__init__(instructions=INSTRUCTIONS)

    async def on_enter(self) -> None:
        await self._take_over_context()
        # The read-back is built from the saved state, not generated: exact and instant.
        # After a crash it follows the apology (agents/resume.py).
        note, self.userdata.resume_note = self.userdata.resume_note, ""
        self.session.say(note + readback(self.userdata))

    @function_tool
    async def confirm(self, context: RunContext[UserData]) -> str:
        """The caller said yes to the read-back: save it."""
        userdata = context.userdata
        if userdata.reservation is None and not userdata.cart and userdata.last_confirmation:
            # A second "yes" (or a repeated tool call) must not save a twin.
            return f"Already done, nothing new saved. {userdata.last_confirmation}"
        if userdata.reservation is not None:
            text = await self._confirm_reservation(userdata)
        else:
            text = await self._confirm_order(userdata)
        userdata.last_confirmation = text
        return text

    @function_tool
    async def decline(self, context: RunContext[UserData]) -> Agent:
        """The caller said no to the read-back and wants to change it with the previous agent."""
        target = "reservation" if context.userdata.reservation is not None else "order"
        if context.userdata.reservation is not None:
            context.userdata.reservation = None
        return self._handoff(context, target)

    # ----- corrections without starting over

    @function_tool
    async def add_item(
        self, context: RunContext[UserData], item: str, quantity: int = 1,
        size: str | None = None, options: list[str] | None = None,
        special_instructions: str = "",
    ) -> str:
        """Add an item to the order being confirmed.

        Args:
            item: The item as the caller said it.
            quantity: How many, 1 to 20.
            size: small, medium or large if said.
            options: Choices the caller named.
            special_instructions: A short kitchen note.
        """
        self._only_order(context.userdata)
        add_line(context.userdata, item, quantity, size, options, special_instructions)
        return order_readback(context.userdata)

    @function_tool
    async def change_item(
        self, context: RunContext[UserData], line_number: int, quantity: int | None = None,
        size: str | None = None, options: list[str] | None = None,
        special_instructions: str | None = None,
    ) -> str:
        """Change a line of the order being confirmed (lines numbered from 1 in read-back order).

        Args:
            line_number: Which line.
            quantity: New quantity.
            size: New size.
            options: The full new list of choices for the line.
            special_instructions: New kitchen note.
        """
        self._only_order(context.userdata)
        change_line(context.userdata, line_number, quantity, size, options, special_instructions)
        return order_readback(context.userdata)

    @function_tool
    async def remove_item(self, context: RunContext[UserData], line_number: int) -> str:
        """Remove a line of the order being confirmed.

        Args:
            line_number: Which line, from 1.
        """
        self._only_order(context.userdata)
        remove_line(context.userdata, line_number)
        if not context.userdata.cart:
            return "The order is now empty. Ask what the caller would like instead."
        return order_readback(context.userdata)

    @function_tool
    async def set_customer(
        self, context: RunContext[UserData], name: str, phone: str | None = None
    ) -> str:
        """Correct the name or phone on the order.

        Args:
            name: The name for the order.
            phone: A contact number, or empty to keep the current one.
        """
        userdata = context.userdata
        self._only_order(userdata)
        set_contact(userdata, name, phone or userdata.customer_phone)
        return order_readback(userdata)

    @function_tool
    async def update_booking(
        self, context: RunContext[UserData], date: dt.date | None = None,
        time: dt.time | None = None, party_size: int | None = None, name: str | None = None,
    ) -> str:
        """Correct the booking being confirmed.

        Args:
            date: New day, YYYY-MM-DD.
            time: New time, HH:MM 24-hour.
            party_size: New number of people.
            name: New name.
        """
        userdata = context.userdata
        r = userdata.reservation
        with caller_must_fix(userdata):
            if r is None or r.action == "cancel":
                raise Refusal("There is no booking being made here; nothing to correct.")
            day, at = date or r.day, time or r.at
            party = party_size or r.party_size
            assert day and at and party
            new_name = clean_name(name) if name else r.name
            await check_slot(userdata, day, at, party)
        r.day, r.at, r.party_size, r.name = day, at, party, new_name
        return reservation_readback(userdata)

    @function_tool
    async def start_order(self, context: RunContext[UserData]) -> Agent:
        """After confirming, the caller also wants to order food for pickup."""
        context.userdata.note_intent("order")
        return self._handoff(context, "order")

    @function_tool
    async def start_reservation(self, context: RunContext[UserData]) -> Agent:
        """After confirming, the caller also wants to book, change or cancel a table."""
        context.userdata.note_intent("reservation")
        return self._handoff(context, "reservation")

    # ----- saving

    def _only_order(self, userdata: UserData) -> None:
        with caller_must_fix(userdata):
            if userdata.reservation is not None or not userdata.cart:
                raise Refusal("There is no order being confirmed.")

    async def _confirm_order(self, userdata: UserData) -> str:
        with caller_must_fix(userdata):
            check_ready_to_confirm(userdata)
        if userdata.pending_order is None:
            subtotal, tax, total = totals(userdata.cart, userdata.settings.tax_rate)
            userdata.order_seq += 1
            oid = order_id(userdata.call_id, userdata.order_seq)
            userdata.pending_order = Order(
                id=oid, order_number=order_number(oid), call_id=userdata.call_id,
                lines=list(userdata.cart), subtotal_cents=subtotal, tax_cents=tax,
                total_cents=total, customer_name=userdata.customer_name or "",
                customer_phone=userdata.customer_phone or "",
                pickup_time=estimated_pickup(userdata), created_at=userdata.now,
            )
        result = await save_order_under_free_id(userdata)
        order = userdata.pending_order
        userdata.pending_order = None
        userdata.cart = []
        userdata.outcomes.append("order")
        userdata.ids_created.append(order.id)
        pickup = booking.say_time(order.pickup_time.astimezone(userdata.settings.tz).time())
        if result.status == "queued":
            return (
                f"The order is noted as number {spell(order.order_number)} but our system could "
                "not confirm it just now; staff will call to confirm. Tell the caller exactly "
                "that, and ask if there is anything else."
            )
        return (
            f"Order placed: number {spell(order.order_number)}, total {money(order.total_cents)} "
            f"paid at pickup, ready at about {pickup}. Tell the caller, and ask if there is "
            "anything else."
        )

    async def _confirm_reservation(self, userdata: UserData) -> str:
        r = userdata.reservation
        assert r is not None and r.day and r.at and r.party_size
        db = userdata.services.db
        capacity = userdata.settings.seats_per_slot
        now = userdata.now
        try:
            if r.action == "cancel":
                saved = await db.cancel_reservation(r.code or "", call_id=userdata.call_id, now=now)
                kind, text = "cancel", f"Booking {spell(saved.code)} is cancelled."
            elif r.action == "change":
                saved = await db.change_reservation(
                    r.code or "", new_date=r.day, new_time=r.at, new_party_size=r.party_size,
                    call_id=userdata.call_id, capacity=capacity, now=now,
                )
                kind, text = "change", f"Booking {spell(saved.code)} is changed."
            else:
                kind, text = "reservation", await self._book(userdata, capacity)
        except SlotFull:
            with caller_must_fix(userdata):
                await check_slot(userdata, r.day, r.at, r.party_size)  # names the free times
                raise Refusal("That time was just taken; ask for another time.") from None
            raise
        except (ReservationNotFound, ReservationCancelled):
            userdata.reservation = None
            with caller_must_fix(userdata):
                raise Refusal(
                    f"Booking {spell(r.code or '')} is no longer active (cancelled or not "
                    "found). Tell the caller and offer a new booking."
                ) from None
            raise
        userdata.reservation = None
        userdata.outcomes.append(kind)
        return text + " Tell the caller, and ask if there is anything else."

    async def _book(self, userdata: UserData, capacity: int) -> str:
        r = userdata.reservation
        assert r is not None and r.day and r.at and r.party_size
        if r.seq is None:
            # Fixed once per draft so a retried confirm produces the same code, never a twin.
            userdata.reservation_seq += 1
            r.seq = userdata.reservation_seq
        now = userdata.now
        for attempt in range(MAX_ID_ATTEMPTS):
            code = reservation_code(userdata.call_id, r.seq, attempt)
            res = Reservation(
                code=code, date=r.day, time=r.at, party_size=r.party_size, name=r.name or "",
                phone=r.phone or "", call_id=userdata.call_id, created_at=now, updated_at=now,
                history=[ReservationChange(at=now, call_id=userdata.call_id, action="created")],
            )
            try:
                result = await userdata.services.db.book_reservation(res, capacity, now.date())
            except CodeTaken:
                continue
            userdata.ids_created.append(code)
            if result.status == "queued":
                return (
                    f"The booking is noted under code {spell(code)}, but our system could not "
                    "confirm it just now; staff will call to confirm."
                )
            return f"Booked: code {spell(code)}."
        raise RuntimeError("could not find a free reservation code")
