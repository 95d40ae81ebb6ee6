"""Tools of every agent (staff, messages, hang-up) and the routing ones (order, table, menu)."""

from __future__ import annotations

from typing import Literal

from livekit.agents import Agent, RunContext

from actions import messages, staff
from actions.transfer import StaffUnavailable
from agents.tools.base import hand_off, logger, tool
from conversation.state import UserData
from domain import diet
from domain.lines import say
from domain.pricing import describe_item


@tool
async def transfer_to_staff(context: RunContext[UserData], reason: str) -> str | None:
    """Connect the caller to a member of staff: when they ask for a person, for a party
    larger than we book by phone, or after repeated problems.

    Args:
        reason: Why the caller needs a person, in a few words.
    """
    userdata = context.userdata
    userdata.note_intent("transfer")
    destination = staff.staff_line(userdata.settings, userdata.now)
    if destination is None:
        return (
            "No one can take the call right now (we are closed). Apologise and offer to take "
            "a message for staff: ask for the name, then the phone number, then the reason, "
            "one question at a time, then use take_message."
        )
    speech = context.session.say(say(userdata.language, "connecting"))
    await speech.wait_for_playout()
    try:
        await staff.transfer_to_staff(userdata, destination, reason)
    except StaffUnavailable as e:
        logger.info("staff did not take the call: %s", e.why, extra={"call_id": userdata.call_id})
        return (
            f"The transfer did not go through: {e.why}. The caller is back with you. Apologise "
            "that nobody could come to the phone and offer to take a message with "
            "take_message (ask name, phone number and reason one at a time)."
        )
    except Exception:
        logger.exception("transfer to staff failed", extra={"call_id": userdata.call_id})
        return (
            "The transfer failed: nobody picked up. Apologise and offer to take a message "
            "with take_message (ask name, phone number and reason one at a time)."
        )
    logger.info("caller transferred to staff", extra={"call_id": userdata.call_id,
                                                      "steps": userdata.transfer_times})
    return None  # the caller has left for staff: no reply to generate


@tool
async def take_message(
    context: RunContext[UserData], name: str, reason: str, phone: str | None = None
) -> str:
    """Save a call-back request for staff when no one can take the call.

    Args:
        name: The caller's name.
        reason: What the caller needs, in a sentence.
        phone: The number to call back; leave empty to use the caller ID.
    """
    saved = await messages.take_message(context.userdata, name, reason, phone)
    if saved is None:
        return "The message is already saved. Tell the caller staff will call back."
    return (
        "Message saved. Tell the caller staff will call them back, then ask if there is "
        "anything else."
    )


@tool
async def end_call(context: RunContext[UserData]) -> str | None:
    """Say goodbye and hang up. Call only when the caller is done (e.g. "that's all, bye")
    and nothing is waiting for their confirmation."""
    userdata = context.userdata
    reading_back = getattr(context.session.current_agent, "reads_back_changes", False)
    if reading_back and userdata.has_unsaved_work and not userdata.asked_before_ending:
        # "that's all, thanks" at the read-back is not "no": nothing is saved yet.
        userdata.asked_before_ending = True
        what = "booking is not made" if userdata.reservation is not None else "order is not placed"
        return (f"Not hung up: the {what} yet, nothing is saved. Ask the caller once, in one "
                "short question: \"Shall I place it?\" On yes call confirm; if they do not "
                "want it, call end_call.")
    userdata.ended_by_agent = True
    session = context.session
    goodbye = say(userdata.language, "goodbye_outbound" if userdata.outbound else "goodbye",
                  name=userdata.settings.name)
    speech = session.say(goodbye, allow_interruptions=False)
    # Hang up only after the goodbye has been heard; closing the session ends the call.
    speech.add_done_callback(lambda _: session.shutdown())


EVERY_AGENT = [transfer_to_staff, take_message, end_call]


# ---------------------------------------------------------------- routing and questions


@tool
async def start_order(context: RunContext[UserData]) -> Agent:
    """The caller wants to order food or drinks for pickup."""
    context.userdata.note_intent("order")
    return hand_off(context, "order")


@tool
async def start_reservation(
    context: RunContext[UserData], action: Literal["new", "change", "cancel"] = "new"
) -> Agent:
    """The caller wants to book a table, or change or cancel a booking they have.

    Args:
        action: new booking, change an existing one, or cancel one.
    """
    context.userdata.note_intent("reservation")
    return hand_off(context, "reservation")


@tool
async def menu_info(context: RunContext[UserData], query: str) -> str:
    """Facts about the menu: one dish (price, sizes, options, allergens) or a group of dishes
    (a category like "pastries", a diet like "vegan", an allergen like "nuts"). Call it for
    every allergy or diet question, however sure you are: answer only from what it returns.

    Args:
        query: What the caller asked, with the dish and the allergy or diet in their words,
            e.g. "is the BLT gluten free", "dairy allergy", "vegan".
    """
    userdata = context.userdata
    userdata.note_intent("info")
    userdata.questions_answered += 1
    menu = userdata.services.catalog.menu
    safety = diet.answer(menu, query)  # allergies and diets: from what each dish declares
    if safety is not None:
        return safety
    group = menu.matching(query)
    if group:
        names = [i.name + ("" if i.available else " (sold out)") for i in group]
        return f"Dishes matching '{query}': {', '.join(names)}."
    heard = menu.hear(query)
    if heard is not None:
        return describe_item(heard.item)
    hints = menu.suggestions(query)
    return (
        f"Nothing on the menu matches '{query}'."
        + (f" Closest: {', '.join(hints)}." if hints else "")
    )


