"""What a call does to the restaurant, without LiveKit in it.

Each action takes the call's state (`call_state.UserData`) and the caller's arguments, checks
them in code, changes the state or the store, and returns a domain result — or raises
`refusal.Refusal` saying what the caller must fix. The agents' tools turn a Refusal into a
`ToolError` in one place (`agents.tools.base`) and word the results for the model.

* `orders`: the cart (add, the usual, change, remove, contact, ready check) and placing it;
* `reservations`: availability, drafts for a new booking, a change or a cancellation, and
  confirming a draft;
* `messages`: call-back requests for staff;
* `staff`: whether a person can take the call, and the transfer itself.
"""
