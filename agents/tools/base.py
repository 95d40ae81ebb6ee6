"""The one place a Refusal becomes a ToolError, and the hand-over between agents."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from livekit.agents import Agent, FunctionTool, RunContext, ToolError, function_tool

from conversation.state import UserData
from domain.refusal import Refusal

logger = logging.getLogger("restaurant.agents")

ERRORS_BEFORE_STAFF = 3


def refusal_text(userdata: UserData, message: str) -> str:
    """Count a refusal; the third in a row also points the model to staff."""
    userdata.tool_errors_in_a_row += 1
    if userdata.tool_errors_in_a_row >= ERRORS_BEFORE_STAFF:
        message += (
            " This is the third problem in a row: apologise and offer to connect the "
            "caller with a member of staff (transfer_to_staff)."
        )
    return message


def _context_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> RunContext[UserData]:
    return next(a for a in (*args, *kwargs.values()) if isinstance(a, RunContext))


def _caller_words(context: RunContext[UserData]) -> str:
    """What the caller said last: a tool checks the model's reading of it (a bare "8")."""
    for item in reversed(context.session.history.items):
        if item.type == "message" and item.role == "user":
            return item.text_content or ""
    return ""


def tool(fn: Callable[..., Awaitable[Any]]) -> FunctionTool:
    """A LiveKit tool whose Refusals reach the model as ToolErrors saying what to ask."""

    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        context = _context_of(args, kwargs)
        userdata = context.userdata
        userdata.heard = _caller_words(context)
        try:
            result = await fn(*args, **kwargs)
        except Refusal as e:
            raise ToolError(refusal_text(userdata, str(e))) from None
        userdata.tool_errors_in_a_row = 0
        return result

    return function_tool(run)


def hand_off(context: RunContext[UserData], name: str) -> Agent:
    """The next agent itself (no tuple), so the current one does not speak a transfer line."""
    userdata = context.userdata
    userdata.prev_agent = context.session.current_agent
    return userdata.agents[name]


def confirming(context: RunContext[UserData], *, adding: bool = False) -> bool:
    """Cart changes during the read-back are answered with the new read-back. An addition
    after an order was placed ("yes, and add a cookie") starts a follow-on order, read back
    and saved on its own "yes"."""
    userdata = context.userdata
    confirming = getattr(context.session.current_agent, "reads_back_changes", False)
    follow_on = adding and not userdata.cart and "order" in userdata.outcomes
    if confirming and (userdata.reservation is not None or not (userdata.cart or follow_on)):
        raise Refusal("There is no order being confirmed.")
    return confirming
