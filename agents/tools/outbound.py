"""Tools of the reminder and call-back calls: keep the booking, never call again. Changing
and cancelling reuse the inbound tools (agents/tools/tables.py) and their read-back."""

from __future__ import annotations

from livekit.agents import RunContext

from actions import outbound
from agents.tools.base import tool
from conversation.state import UserData
from store.outbound import OutboundQueue, Policy


@tool
async def keep_booking(context: RunContext[UserData]) -> str:
    """The guest keeps the booking as it is (e.g. "yes, we'll be there")."""
    said = outbound.keep(context.userdata)
    return f"{said} Thank the guest briefly, then call end_call."


@tool
async def do_not_call(context: RunContext[UserData]) -> str:
    """The guest asks not to be called again (e.g. "don't call me again", "take me off")."""
    userdata = context.userdata
    queue = OutboundQueue(userdata.services.db.db, Policy.of(userdata.settings))
    said = await outbound.opt_out(userdata, queue)
    return f"{said} Apologise for the disturbance, say it is noted, then call end_call."
