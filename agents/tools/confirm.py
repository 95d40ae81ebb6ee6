"""The read-back: confirm, decline, and correcting a booking in place."""

from __future__ import annotations

import re

from livekit.agents import Agent, RunContext

from actions import orders, reservations, texts
from agents.readback import reservation_readback
from agents.tools.base import hand_off, tool
from conversation.state import UserData
from domain.contact import spoken
from domain.lines import say
from domain.refusal import Refusal
from domain.spoken import spoken_in

BACKCHANNELS = {"mm", "mhm", "mmhm", "mm hm", "mm hmm", "mmhmm", "uh huh", "uhuh", "hm", "hmm",
                "ah", "uh", "um", "aha", "ajá", "aja", "eh"}


def is_backchannel(words: str) -> bool:
    """Whether the caller's turn was only a listening noise ("mm-hmm", "uh-huh")."""
    said = " ".join(re.sub(r"[^\w\s]", " ", words.lower().replace("-", " ")).split())
    return said in BACKCHANNELS


# A yes that comes with more: "yes, and add a cookie", "sí, y otro café", "yes but no ice".
_MORE = re.compile(
    r"\b(?:add|also|plus|another|one more|and (?:a|an|one|two|three|some)|make (?:it|that)|"
    r"change|instead|actually|but|wait|remove|take (?:off|out)|without|"
    r"añad\w*|agreg\w*|también|otr[oa]s?|y (?:un|una|dos|tres)|cambi\w*|pero|quit\w*)\b",
    re.IGNORECASE)


def asks_for_more(words: str) -> bool:
    """Whether the caller's yes also adds or changes something."""
    return _MORE.search(words) is not None


def _held_yes(userdata: UserData) -> None:
    """A yes with an addition or change is not the yes that saves: the change is made and
    read back first. Asked again in the same turn with nothing changed, the yes stands (the
    words were no change after all); with the order changed since, the new version must be
    read back before anything is saved."""
    shown = userdata.cart.summary(userdata.settings.tax_rate) + repr(userdata.reservation)
    if not asks_for_more(userdata.heard):
        userdata.held_yes = None
        return
    if userdata.held_yes == (userdata.heard, shown):
        return
    changed = userdata.held_yes is not None and userdata.held_yes[0] == userdata.heard
    userdata.held_yes = (userdata.heard, "changed" if changed else shown)
    if changed:
        raise Refusal("The order changed after the caller's yes: nothing is saved. Read the "
                      "new version back whole and save on the caller's next yes.")
    raise Refusal(f"The caller said yes but also asked for more or a change "
                  f"(\"{userdata.heard}\"): nothing is saved yet. Make the change with the "
                  "tools first (add_item, change_item, remove_item, update_booking); it is "
                  "read back, and the caller's next yes is confirm.")


@tool
async def confirm(context: RunContext[UserData]) -> str:
    """The caller said yes to the read-back: save it."""
    userdata = context.userdata
    if is_backchannel(userdata.heard):
        # "mm-hmm" while the read-back plays is listening, not agreeing
        raise Refusal("The caller only said 'mm-hmm' (listening), not yes: nothing is saved. "
                      "Ask once: \"Shall I place it?\"")
    _held_yes(userdata)
    if userdata.reservation is None and not userdata.cart and userdata.last_confirmation:
        # A second "yes" (or a repeated tool call) must not save a twin.
        return f"Already done, nothing new saved. {userdata.last_confirmation}"
    text = await save_confirmed(userdata)
    userdata.last_confirmation = text
    userdata.asked_before_ending = False  # a later read-back may be asked about again
    return text


async def save_confirmed(userdata: UserData) -> str:
    """Save the order or booking being confirmed; what to tell the caller. Also replays a
    confirmation a crashed agent saved, for the agent that resumes the call (agents/resume.py)."""
    if userdata.reservation is not None:
        done = await reservations.confirm_call_booking(userdata)
        said = _booking_said(done, userdata.language)
        if done.kind == "reservation" and done.status != "queued":
            saved = await userdata.services.db.get_reservation(done.code)
            if saved is not None and await texts.offer_text(userdata, saved):
                said = said.replace(_NEXT, _OFFER_BOOKING)
        return said
    placed = await orders.place_order(userdata)
    said = _order_said(userdata, placed)
    if placed.status != "queued" and await texts.offer_text(userdata, placed.order):
        said = said.replace(_NEXT, _OFFER_ORDER)
    return said


_NEXT = " Tell the caller, and ask if there is anything else."
# One short question after the confirmation; a yes is send_text, a no is no_text (stored with
# the caller, so they are not asked again).
_OFFER_ORDER = (" Tell the caller, then ask in one short question whether they want a text "
                "with the order (yes: call send_text; no: call no_text), and if there is "
                "anything else.")
_OFFER_BOOKING = (" Tell the caller, then ask in one short question whether they want a text "
                  "with the booking (yes: call send_text; no: call no_text), and if there is "
                  "anything else.")


@tool
async def send_text(context: RunContext[UserData], phone: str | None = None) -> str:
    """The caller said yes to a text with their order or booking. `phone`: only when they
    give another mobile number for it; by default the order's or booking's number."""
    to = await texts.text_confirmation(context.userdata, phone)
    return f"The text is on its way to {spoken(to)}. Say so in a few words."


@tool
async def no_text(context: RunContext[UserData]) -> str:
    """The caller said no to the text offered with their order or booking."""
    await texts.no_text(context.userdata)
    return ("Noted: no text, and we will not ask again. If the caller is done, say goodbye "
            "with end_call; otherwise help with what else they want.")


def _order_said(userdata: UserData, placed: orders.PlacedOrder) -> str:
    order, lang = placed.order, userdata.language
    sp = spoken_in(lang)
    number = sp.code(order.order_number)
    if placed.status == "queued":
        return (say(lang, "order_queued", number=number)
                + " Tell the caller exactly that, and ask if there is anything else.")
    pickup = sp.time(order.pickup_time.astimezone(userdata.settings.tz).time())
    return (say(lang, "order_placed", number=number, total=sp.money(order.total_cents),
                pickup=pickup)
            + " Tell the caller, and ask if there is anything else.")


def _booking_said(done: reservations.BookingDone, language: str) -> str:
    code = spoken_in(language).code(done.code)
    if done.kind == "cancel":
        text = say(language, "booking_cancelled", code=code)
    elif done.kind == "change":
        text = say(language, "booking_changed", code=code)
    elif done.status == "queued":
        text = say(language, "booking_queued", code=code)
    else:
        text = say(language, "booked", code=code)
    return text + " Tell the caller, and ask if there is anything else."


@tool
async def decline(context: RunContext[UserData]) -> Agent | str:
    """The caller said no to the read-back and wants to change it with the previous agent."""
    userdata = context.userdata
    if not userdata.has_unsaved_work and userdata.last_confirmation:
        # "no, that's everything" answers "anything else?" (and the text offer), not the saved
        # read-back
        answered = "'anything else?'"
        if userdata.text_offered:
            await texts.no_text(userdata)
            answered = "the text offer (stored: no text) and 'anything else?'"
        return ("Nothing is waiting for confirmation: it is already saved ("
                f"{userdata.last_confirmation}) The caller's no answers {answered}: if "
                "they are done, say goodbye with end_call.")
    target = "reservation" if userdata.reservation is not None else "order"
    userdata.reservation = None
    return hand_off(context, target)


@tool
async def update_booking(
    context: RunContext[UserData], date: str | None = None, time: str | None = None,
    party_size: int | str | None = None, name: str | None = None,
) -> str:
    """Correct the booking being confirmed.

    Args:
        date: New day, as said ("Saturday") or YYYY-MM-DD.
        time: New time, as said ("8pm") or HH:MM 24-hour.
        party_size: New number of people.
        name: New name.
    """
    userdata = context.userdata
    await reservations.correct_draft(userdata.desk, userdata.reservation, date, time,
                                     party_size, name)
    return reservation_readback(userdata)
