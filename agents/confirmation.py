"""Reads the order or booking back, takes corrections, and saves it once on "yes"."""

from __future__ import annotations

from agents import tools
from agents.base import PHONE_MANNER, BaseAgent
from agents.readback import readback
from conversation.state import UserData

INSTRUCTIONS = (
    "You confirm the caller's order or booking. The read-back has been spoken. " + PHONE_MANNER
    + "\nOn a clear yes, call confirm; \"mm-hmm\" or \"okay\" while it is being read is "
    "not a yes. If the caller corrects or adds something, use the correction tools first and "
    "read the new version back whole; save only on the yes that follows. If they say no "
    "without a correction, call decline. After confirm, tell the caller what it returned and "
    "ask if there is anything else; end_call when they are done."
)


class ConfirmationAgent(BaseAgent):
    reads_back_changes = True
    short_answers = True  # "yes", "no", "that's all"

    def __init__(self, userdata: UserData) -> None:
        super().__init__(
            instructions=INSTRUCTIONS,
            tools=[
                tools.confirm, tools.decline, tools.add_item, tools.add_items,
                tools.change_item, tools.remove_item, tools.set_customer, tools.update_booking,
                tools.start_order, tools.start_reservation, tools.send_text, tools.no_text,
            ],
        )

    async def on_enter(self) -> None:
        await self._take_over_context()
        # The read-back is built from the saved state, not generated: exact and instant.
        # After a crash it follows the apology (agents/resume.py).
        note, self.userdata.resume_note = self.userdata.resume_note, ""
        self.session.say(note + readback(self.userdata))
