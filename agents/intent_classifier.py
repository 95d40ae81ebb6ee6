"""The agent that answers the phone: routes the caller and answers questions from data."""

from __future__ import annotations

from typing import Literal

from livekit.agents import Agent, RunContext, function_tool

import booking
from agents.base import PHONE_MANNER, BaseAgent
from agents.userdata import UserData
from pricing import describe_item


def instructions(userdata: UserData) -> str:
    s = userdata.settings
    return (
        f"You answer the phone for {s.name}, {s.address}. Today is "
        f"{userdata.now.strftime('%A %Y-%m-%d')}, it is {userdata.now.strftime('%H:%M')} "
        f"({s.timezone}). Hours: {booking.hours_text(s)}. {PHONE_MANNER}\n"
        "Decide what the caller wants and act at once:\n"
        "- to order food or drinks for pickup: start_order\n"
        "- to book, change or cancel a table: start_reservation\n"
        "- a question about the menu, prices, allergens or diet: menu_info, then answer\n"
        "- hours or address: answer from the facts above\n"
        "- a person: transfer_to_staff; if that is not possible, take_message\n"
        "- anything else: answer politely and briefly, say what you can help with\n"
        "- done: end_call"
    )


class IntentClassifier(BaseAgent):
    def __init__(self, userdata: UserData) -> None:
        super().__init__(instructions=instructions(userdata))

    @function_tool
    async def start_order(self, context: RunContext[UserData]) -> Agent:
        """The caller wants to order food or drinks for pickup."""
        context.userdata.note_intent("order")
        return self._handoff(context, "order")

    @function_tool
    async def start_reservation(
        self, context: RunContext[UserData], action: Literal["new", "change", "cancel"]
    ) -> Agent:
        """The caller wants to book a table, or change or cancel a booking they have.

        Args:
            action: new booking, change an existing one, or cancel one.
        """
        context.userdata.note_intent(f"reservation_{action}")
        return self._handoff(context, "reservation")

    @function_tool
    async def menu_info(self, context: RunContext[UserData], query: str) -> str:
        """Facts about the menu: one dish (price, sizes, options, allergens) or a group of dishes
        (a category like "pastries", a diet like "vegan", an allergen like "nuts").

        Args:
            query: The dish, category, diet or allergen the caller asked about.
        """
        return menu_answer(context.userdata, query)


def menu_answer(userdata: UserData, query: str) -> str:
    userdata.note_intent("info")
    userdata.questions_answered += 1
    menu = userdata.services.catalog.menu
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
