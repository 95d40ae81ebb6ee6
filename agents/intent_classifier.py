"""The agent that answers the phone: routes the caller and answers questions from data."""

from __future__ import annotations

from agents import tools
from agents.base import PHONE_MANNER, BaseAgent
from conversation.state import UserData
from domain import booking


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


# A deliberate same-shape pair (`duplicates`) with agents/reservation.ReservationAgent (and the
# other agents): an agent is its instructions and its list of tools, declared in its own class.
class IntentClassifier(BaseAgent):
    def __init__(self, userdata: UserData) -> None:
        super().__init__(
            instructions=instructions(userdata),
            tools=[tools.start_order, tools.start_reservation, tools.menu_info],
        )
