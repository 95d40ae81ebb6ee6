"""Picking a call up after a crash: what the re-dispatched agent says first, and to whom.

The state comes from conversation/call_snapshot.py. The caller hears an apology and where they were
("Sorry about that, we were cut off. You have a large cappuccino and a BLT so far…"); an order or
booking that was already saved is announced, never taken again; one that was being confirmed
is read back again (confirming it again is a replay of the same id: "already saved").
"""

from __future__ import annotations

import logging

from agents.tools.confirm import save_confirmed
from conversation.call_snapshot import CallSnapshot
from conversation.state import UserData
from domain.duplicates import same_booking
from domain.ids import order_id, reservation_code
from domain.lines import say
from domain.spoken import spoken_in

logger = logging.getLogger("restaurant.resume")
SORRY = say("en", "resume_sorry")  # the English line (tests name it)
TOLD_SUFFIX = " Tell the caller"  # the confirm tool's instruction to the model, not for the caller


def spoken_confirmation(text: str | None) -> str:
    """What the confirm tool said was saved, as a sentence for the caller."""
    return (text or "").split(TOLD_SUFFIX, 1)[0].strip()


async def settle_saved_confirmation(userdata: UserData) -> None:
    """The job died after the save but before the state said so: find the record the pending
    confirmation would have created and, when it holds the same content, replay the confirmation
    (the store answers "already saved") so the caller is told it is placed."""
    db = userdata.services.db
    cart = userdata.cart
    r = userdata.reservation
    try:
        if r is None and cart and cart.customer_name:
            oid = (cart.pending_order.id if cart.pending_order
                   else order_id(userdata.call_id, userdata.order_seq + 1))
            stored = await db.get_order(oid)
            if (stored is not None and stored.lines == cart.lines
                    and stored.customer_name == cart.customer_name):
                userdata.last_confirmation = await save_confirmed(userdata)
        elif r is not None and r.action == "new" and r.day and r.at and r.party_size:
            seq = r.seq if r.seq is not None else userdata.reservation_seq + 1
            stored_res = await db.get_reservation(reservation_code(userdata.call_id, seq))
            if stored_res is not None:
                draft = stored_res.model_copy(update={
                    "date": r.day, "time": r.at, "party_size": r.party_size,
                    "name": r.name or "", "phone": r.phone or "", "history": []})
                if same_booking(stored_res, draft):
                    userdata.last_confirmation = await save_confirmed(userdata)
    except Exception:  # the caller can still confirm again: a replay is "already saved"
        logger.exception("could not check for a saved confirmation",
                         extra={"call_id": userdata.call_id})


def resume_plan(state: CallSnapshot, userdata: UserData) -> tuple[str, str]:
    """(the agent to start on, what it says first) for a call picked up after a crash, in the
    caller's language."""
    lang = userdata.language
    sp = spoken_in(lang)
    sorry = say(lang, "resume_sorry")
    told = spoken_confirmation(userdata.last_confirmation)
    pending = bool(userdata.cart) or userdata.reservation is not None
    if state.stage == "confirmation" and pending:
        return "confirmation", ""  # ConfirmationAgent reads it back after resume_note
    if userdata.cart:
        items = sp.items([sp.line(line) for line in userdata.cart.lines])
        return "order", say(lang, "resume_order", sorry=sorry, items=items)
    r = userdata.reservation
    if r is not None and r.action == "new":
        what = "".join([
            say(lang, "resume_party", party=r.party_size) if r.party_size else "",
            f" {sp.day(r.day, userdata.now.date())}" if r.day else "",
            say(lang, "resume_at", time=sp.time(r.at)) if r.at else ""])
        return "reservation", say(lang, "resume_booking", sorry=sorry, what=what)
    if r is not None:
        return "reservation", say(lang, "resume_other_booking", sorry=sorry)
    if told:
        return "classifier", say(lang, "resume_told", sorry=sorry, told=told)
    stage = state.stage if state.stage in ("order", "reservation") else "classifier"
    return stage, say(lang, "resume_help", sorry=sorry)
