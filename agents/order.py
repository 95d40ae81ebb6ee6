"""The agent that takes a pickup order: items from the live menu, priced in code."""

from __future__ import annotations

from agents import tools
from agents.base import PHONE_MANNER, BaseAgent
from conversation.state import UserData


def instructions(userdata: UserData) -> str:
    s = userdata.settings
    return (
        f"You take pickup orders for {s.name}. {PHONE_MANNER}\n"
        "Add each item with add_item as soon as the caller names it (pass what they said; the "
        "tool matches the menu, sizes and options and prices it); several items said together "
        "go in one add_items call. Ask only for what a tool says is missing. Use change_item "
        "for changes (it keeps what is not mentioned; 'make the latte a cappuccino' is one "
        "change_item with item), remove_item, list_order to recap, menu_info for questions, "
        "order_the_usual when a returning caller asks for their usual. Get a name for the "
        "order with set_customer (the phone defaults to the caller ID). When the caller is "
        "done ordering, call review_order.\n"
        f"Menu:\n{userdata.services.catalog.menu.prompt_text()}"
    )


class OrderAgent(BaseAgent):
    def __init__(self, userdata: UserData) -> None:
        super().__init__(
            instructions=instructions(userdata),
            tools=[
                tools.add_item, tools.add_items, tools.order_the_usual, tools.change_item,
                tools.remove_item, tools.list_order, tools.menu_info, tools.set_customer,
                tools.review_order, tools.start_reservation,
            ],
        )
        self._menu_seen = userdata.services.catalog.menu

    def expects_short_answer(self) -> bool:
        # Items chosen and no name yet: the agent has asked for the name ("It's Sam Rivera").
        cart = self.userdata.cart
        return bool(cart.lines) and not cart.customer_name and not self.expects_number()

    def expects_number(self) -> bool:
        # A phone number was refused: the caller now says one, often in pieces.
        return self.userdata.collecting_phone

    def stale_instructions(self) -> str | None:
        # A sold-out change reaches this call on its next LLM request.
        menu = self.userdata.services.catalog.menu
        if menu is self._menu_seen:
            return None
        self._menu_seen = menu
        return instructions(self.userdata)
