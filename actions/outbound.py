"""What a reminder or call-back call does to the restaurant, without LiveKit in it.

The dialer (services/dialer.py) leases a queue entry and dispatches the agent with an `OutboundJob`
as the job's metadata; the job loads the entry (`prepare`), and the guest's answer, by voice or
keypad, becomes one of these results, stored on the queue entry when the call ends (`finish`):

kept / changed / cancelled   the guest's word on the booking (the booking itself is changed
                             or cancelled through actions/reservations.py, as on an inbound call)
opted_out                    "don't call me again": do_not_call/{phone}, at once, for good
voicemail_left               a machine answered: a short message, no booking details
delivered                    a person answered and heard it, without a decision (or a call-back)
no_answer / busy / failed    tried again later, while attempts remain
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from actions import reservations
from actions.outbound_job import OutboundJob, OutboundState
from actions.state import CallState, Desk
from domain.lines import say
from domain.refusal import Refusal
from domain.spoken import refusal, spoken_in
from models import OutboundCall, Reservation, RestaurantSettings
from store.outbound import OutboundQueue

logger = logging.getLogger("restaurant.outbound")
# The SIP status of a failed dial, as LiveKit reports it, to the queue's retry outcome.
_BUSY = {486, 600}
_NO_ANSWER = {408, 480, 487, 603}


async def prepare(queue: OutboundQueue, job: OutboundJob) -> OutboundState:
    """The queue entry with its booking or message; Refusal when it is not (or no longer)
    leased to the dialer that dispatched this job (a late or duplicate dispatch)."""
    call = await queue.get(job.call_id)
    if call is None:
        raise Refusal(f"no outbound call {job.call_id}")
    if call.status != "leased" or call.lease_owner != job.lease_owner:
        raise Refusal(f"{job.call_id} is {call.status}, not leased to {job.lease_owner}")
    state = OutboundState(job=job, call=call)
    if call.reservation_code:
        state.booking = await queue.booking(call.reservation_code)
        if state.booking is None or state.booking.status == "cancelled":
            raise Refusal(f"booking {call.reservation_code} is gone or cancelled")
    if call.message_id:
        state.message = await queue.message(call.message_id)
    return state


def dial_failure(sip_status: int | None) -> Literal["busy", "no_answer", "failed"]:
    if sip_status in _BUSY:
        return "busy"
    if sip_status in _NO_ANSWER:
        return "no_answer"
    return "failed"


# ------------------------------------------------------------------ what the guest hears


def call_language(settings: RestaurantSettings, state: OutboundState) -> str:
    """The language the guest booked (or left the message) in, when the restaurant still
    offers it; else the restaurant's default (bookings and messages from before languages
    were stored have none)."""
    about = state.booking or state.message
    language = about.language if about is not None else None
    return language if language in settings.languages else settings.default_language


def booking_words(desk: Desk, res: Reservation) -> str:
    """"a table for 2 people today at 7 PM, under Sam Rivera" in the call's language."""
    lang = desk.language
    sp = spoken_in(lang)
    people = (say(lang, "party_one") if res.party_size == 1
              else say(lang, "party_many", n=res.party_size))
    when = sp.when(res.date, res.time, desk.now.date(), desk.now.time())
    return say(lang, "outbound_table", people=people, when=when, customer=res.name)


def keypad_menu(language: str) -> str:
    return say(language, "keypad_menu")


def still_there(language: str, state: OutboundState) -> str:
    """Said to a guest silent since the agent last spoke: a reminder's guest hears the keypad
    again (the key they pressed may never have arrived)."""
    asked = say(language, "still_there")
    return f"{asked} {keypad_menu(language)}" if state.booking is not None else asked


def introduction(desk: Desk, state: OutboundState) -> str:
    """The first thing a person hears: who calls, why, and what they can do."""
    name, lang = desk.settings.name, desk.language
    if state.booking is not None:
        table = booking_words(desk, state.booking)
        return say(lang, "reminder_intro", name=name, table=table, keypad=keypad_menu(lang))
    reason = state.message.reason if state.message else state.call.reason
    return say(lang, "callback_intro", name=name, reason=reason)


def resumption(desk: Desk, state: OutboundState) -> str:
    """What a new agent says first when the call's agent died with the guest on the line
    (no new dial): sorry, then why the restaurant calls, as the introduction says it."""
    return f"{say(desk.language, 'resume_sorry')} {introduction(desk, state)}"


# What the guest decided, as the call's outcomes say it (actions/state.py), to the queue result.
_DECIDED = {"kept": "kept", "opted_out": "opted_out", "change": "changed", "cancel": "cancelled"}


def resumed(state: OutboundState, outcomes: list[str]) -> None:
    """A call picked up again after its agent died: the guest answered (they are on the line)
    and was introduced; a decision the dead agent heard (its saved outcomes) stands, the
    latest one winning, as it did on the dead agent's call."""
    state.answered = state.introduced = True
    for outcome in reversed(outcomes):
        if outcome in _DECIDED:
            state.result = _DECIDED[outcome]
            return


def voicemail_message(desk: Desk, state: OutboundState) -> str:
    """Short, and without booking details a stranger could hear on a shared mailbox."""
    lang = desk.language
    what = say(lang, "voicemail_booking" if state.booking is not None else "voicemail_callback")
    return say(lang, "voicemail", name=desk.settings.name, what=what)


# ------------------------------------------------------------------ the guest's answer


def _state(userdata: CallState) -> OutboundState:
    if userdata.outbound is None:
        raise Refusal("This is not a reminder call.")
    return userdata.outbound


def keep(userdata: CallState) -> str:
    state = _state(userdata)
    if state.booking is None:
        raise Refusal("There is no booking on this call to keep.")
    state.result = "kept"
    if "kept" not in userdata.outcomes:
        userdata.outcomes.append("kept")
    return say(userdata.language, "kept", table=booking_words(userdata.desk, state.booking))


async def opt_out(userdata: CallState, queue: OutboundQueue) -> str:
    """Stored at once, not at hang-up: no other dialer may ring this guest again."""
    state = _state(userdata)
    await queue.opt_out(state.call.phone, userdata.services.clock(), userdata.call_id)
    state.result = "opted_out"
    if "opted_out" not in userdata.outcomes:
        userdata.outcomes.append("opted_out")
    return say(userdata.language, "opted_out")


async def cancel_now(userdata: CallState) -> str:
    """The keypad's cancel (3): the same draft and confirm an inbound caller's yes runs."""
    state = _state(userdata)
    if state.booking is None:
        raise Refusal("There is no booking on this call to cancel.")
    userdata.reservation = await reservations.draft_cancel(userdata.desk, state.booking.code)
    done = await reservations.confirm_call_booking(userdata)
    state.result = "cancelled"
    lang = userdata.language
    return say(lang, "cancelled_now", code=spoken_in(lang).code(done.code))


_KEYPAD_TIME = re.compile(r"^(\d{1,2})(\d{2})$")


def keypad_time(digits: str) -> str:
    """'1930' or '730' (HHMM, 24-hour or as the restaurant's hours read it) as HH:MM."""
    m = _KEYPAD_TIME.match(digits)
    if not m or int(m.group(2)) > 59:
        raise Refusal(f"{digits or 'nothing'} is not a time",
                      said=("refused_unreadable_time", {}))
    return f"{int(m.group(1))}:{m.group(2)}"


async def change_time_now(userdata: CallState, digits: str) -> str:
    """The keypad's change (2, then the new time and #): same day, same party."""
    state = _state(userdata)
    if state.booking is None:
        raise Refusal("There is no booking on this call to change.")
    at = keypad_time(digits)
    userdata.reservation = await reservations.draft_change(
        userdata.desk, state.booking.code, None, at, None)
    await reservations.confirm_call_booking(userdata)
    state.result = "changed"
    res = state.booking
    updated = await userdata.services.db.get_reservation(res.code) or res
    state.booking = updated
    return say(userdata.language, "changed_now", table=booking_words(userdata.desk, updated))


def result_of(userdata: CallState) -> str:
    """The queue outcome of the call that just ended."""
    state = _state(userdata)
    if state.result:
        return state.result
    if "change" in userdata.outcomes:
        return "changed"
    if "cancel" in userdata.outcomes:
        return "cancelled"
    return "delivered" if state.answered else "no_answer"


async def finish(queue: OutboundQueue, userdata: CallState, now: datetime) -> OutboundCall:
    state = _state(userdata)
    return await queue.finish(state.call, state.job.lease_owner, result_of(userdata), now,
                              room=userdata.call_id)


# ------------------------------------------------------------------ the keypad


async def keypad_answer(userdata: CallState, queue: OutboundQueue, what: str,
                        digits: str = "") -> tuple[str, bool]:
    """What the guest's complete keypad request (`Keypad.press`) does, and the fixed line
    that answers it in the call's language; True when the call then hangs up."""
    lang = userdata.language
    try:
        if what == "keep":
            return say(lang, "keypad_kept", kept=keep(userdata)), True
        if what == "ask_time":
            return say(lang, "keypad_ask_time"), False
        if what == "change":
            changed = await change_time_now(userdata, digits)
            return say(lang, "keypad_changed", changed=changed), True
        if what == "cancel":
            return say(lang, "keypad_cancelled", cancelled=await cancel_now(userdata)), True
        if what == "opt_out":
            await opt_out(userdata, queue)
            return say(lang, "keypad_opted_out"), True
        return keypad_menu(lang), False
    except Refusal as e:
        logger.info("keypad request refused: %s", e, extra={"call_id": userdata.call_id})
        # A refusal with its fixed line is said in the call's language; any other is English,
        # written for the model: its first sentence is said to English callers only.
        if e.said is not None:
            why = ": " + refusal(lang, e)
        else:
            why = ": " + str(e).split(".")[0] if lang == "en" else ""
        return say(lang, "keypad_failed", why=why), False


@dataclass
class Keypad:
    """Digits to what the guest asked for: 1 keep, 2 then a time and # change, 3 cancel,
    9 never call again. `press` returns the request once it is complete, else None.

    A time is complete at its fourth digit or at #. The prompt asks for four digits *then*
    the pound key, so a # right after a fourth digit belongs to that time: it is swallowed,
    not read as a new key (which would answer with the menu)."""

    collecting: bool = False
    digits: str = ""
    pound_due: bool = False  # the last key completed a four-digit time

    def press(self, digit: str) -> tuple[str, str] | None:
        pound_due, self.pound_due = self.pound_due, False
        if pound_due and digit == "#":
            return None
        if self.collecting:
            if digit == "#" or (digit.isdigit() and len(self.digits) == 3):
                if digit.isdigit():
                    self.digits += digit
                    self.pound_due = True
                typed, self.digits, self.collecting = self.digits, "", False
                return ("change", typed)
            if digit == "*":
                self.digits, self.collecting = "", False
                return ("menu", "")
            if digit.isdigit():
                self.digits += digit
            return None
        if digit == "1":
            return ("keep", "")
        if digit == "2":
            self.collecting = True
            return ("ask_time", "")
        if digit == "3":
            return ("cancel", "")
        if digit == "9":
            return ("opt_out", "")
        return ("menu", "")
