"""The agents of calls the restaurant makes: a booking reminder and a call-back.

They hold the conversation only. Who is called and when is the dialer's (services/dialer.py); the
first words (who calls and why) are fixed text spoken by telephony/outbound_call.py once a person
has
answered; keeping, changing, cancelling and "don't call me again" run through actions/.
"""

from __future__ import annotations

from livekit.agents import StopResponse, llm
from livekit.agents.voice.turn import TurnHandlingOptions

from actions.outbound import booking_words
from agents import tools
from agents.base import PHONE_MANNER, BaseAgent
from agents.tools.outbound import do_not_call, keep_booking
from conversation.state import UserData


def reminder_instructions(userdata: UserData) -> str:
    state = userdata.outbound
    assert state is not None and state.booking is not None
    s, now = userdata.settings, userdata.now
    return (
        f"You are {s.name}'s assistant and you called the guest to remind them of their "
        f"booking: {booking_words(userdata.desk, state.booking)}, code {state.booking.code}. "
        f"Today is {now.strftime('%A %Y-%m-%d')}, the time is {now.strftime('%H:%M')}. "
        f"{PHONE_MANNER}\n"
        "The reminder has been read to the guest. If they keep it, call keep_booking. To "
        "change the day, time or party size, call change_reservation with the code and what "
        "changes; to cancel, cancel_reservation with the code (both read it back for a yes). "
        "If they ask not to be called again, call do_not_call. When they are done, end_call."
    )


def callback_instructions(userdata: UserData) -> str:
    state = userdata.outbound
    assert state is not None
    reason = state.message.reason if state.message else state.call.reason
    name = f" ({state.message.name})" if state.message else ""
    return (
        f"You are {userdata.settings.name}'s assistant and you are calling the guest{name} "
        f"back about the message they left: {reason}. {PHONE_MANNER}\n"
        "Help with what they called about: start_order for an order, start_reservation for a "
        "booking, take_message if staff must answer, transfer_to_staff if they want a person. "
        "If they ask not to be called again, call do_not_call. When they are done, end_call."
    )


# No preemptive generation: it would ask the LLM to answer a voicemail greeting or the
# guest's "Hello?" before on_user_turn_completed could say those get no answer.
NO_PREEMPTIVE: TurnHandlingOptions = {"preemptive_generation": {"enabled": False}}


class _OutboundAgent(BaseAgent):
    async def on_enter(self) -> None:
        # the opening words are spoken by telephony/outbound_call.py
        await self._take_over_context()

    async def on_user_turn_completed(
        self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage
    ) -> None:
        state = self.userdata.outbound
        if state is None:
            return
        spoke = state.guest_spoke_at
        if state.introduced_at is None or (spoke is not None and spoke < state.introduced_at):
            # "Hello?" said while the voicemail detector listened (its words may reach us
            # after the introduction began): the introduction is the answer.
            raise StopResponse()


class ReminderAgent(_OutboundAgent):
    def __init__(self, userdata: UserData) -> None:
        super().__init__(
            instructions=reminder_instructions(userdata),
            tools=[keep_booking, tools.change_reservation, tools.cancel_reservation,
                   do_not_call],
            turn_handling=NO_PREEMPTIVE,
        )


class CallbackAgent(_OutboundAgent):
    def __init__(self, userdata: UserData) -> None:
        super().__init__(
            instructions=callback_instructions(userdata),
            tools=[tools.start_order, tools.start_reservation, do_not_call],
            turn_handling=NO_PREEMPTIVE,
        )
