"""Every tool the agents offer, declared once; each agent picks its list (see `agents/*.py`).

Tools are thin: they take the model's arguments, call an action (`actions/`), and word the
result for the model. A `Refusal` from an action becomes a `ToolError` here, in `tool`, and
only here; the third problem in a row also points the model to staff.
"""

from agents.tools.base import hand_off, tool
from agents.tools.common import (
    EVERY_AGENT,
    end_call,
    menu_info,
    start_order,
    start_reservation,
    take_message,
    transfer_to_staff,
)
from agents.tools.confirm import confirm, decline, no_text, send_text, update_booking
from agents.tools.order import (
    add_item,
    add_items,
    change_item,
    list_order,
    order_the_usual,
    remove_item,
    review_order,
    set_customer,
)
from agents.tools.tables import (
    book_table,
    cancel_reservation,
    change_reservation,
    check_availability,
    find_reservations,
)

__all__ = [
    "EVERY_AGENT",
    "add_item",
    "add_items",
    "book_table",
    "cancel_reservation",
    "change_item",
    "change_reservation",
    "check_availability",
    "confirm",
    "decline",
    "end_call",
    "find_reservations",
    "hand_off",
    "list_order",
    "menu_info",
    "no_text",
    "order_the_usual",
    "remove_item",
    "review_order",
    "send_text",
    "set_customer",
    "start_order",
    "start_reservation",
    "take_message",
    "tool",
    "transfer_to_staff",
    "update_booking",
]
