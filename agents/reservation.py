"""The agent that books, changes and cancels tables; every rule is checked in code."""

from __future__ import annotations

from agents import tools
from agents.base import PHONE_MANNER, BaseAgent
from conversation.state import UserData
from domain import booking


def instructions(userdata: UserData) -> str:
    s = userdata.settings
    now = userdata.now
    return (
        f"You handle table reservations for {s.name}. Today is {now.strftime('%A %Y-%m-%d')}, "
        f"the time is {now.strftime('%H:%M')}, time zone {s.timezone}. Pass the date and time "
        "as the caller said them ('tomorrow', 'Friday', '7:30 PM') or as YYYY-MM-DD and HH:MM. "
        f"Hours: {booking.hours_text(s)}. We book parties of 1 to {s.max_party_size}. "
        f"{PHONE_MANNER}\n"
        "New booking: once you know date, time and party size, call check_availability; with a "
        "name too, call book_table (it checks everything and reads the booking back). The phone "
        "defaults to the caller ID.\n"
        "Change or cancel: find_reservations (by the caller's phone), then change_reservation or "
        "cancel_reservation with the code. Parties above the maximum: transfer_to_staff."
        + (LATE_NIGHT if booking.open_past_midnight(s) else "")
    )


LATE_NIGHT = (
    "\nWe are open past midnight: pass a time after midnight with the day as the caller said "
    "it ('tonight', 'Friday night'); the tools work out the calendar date."
)


# A deliberate same-shape pair (`duplicates`) with agents/intent_classifier.IntentClassifier:
# an agent is its instructions and its list of tools, declared in its own class.
class ReservationAgent(BaseAgent):
    def __init__(self, userdata: UserData) -> None:
        super().__init__(
            instructions=instructions(userdata),
            tools=[
                tools.check_availability, tools.book_table, tools.find_reservations,
                tools.change_reservation, tools.cancel_reservation, tools.start_order,
            ],
        )
