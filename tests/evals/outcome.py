"""What a scenario's call left in Firestore, compared exactly with its ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from store import FirebaseManager
from store.staff import StaffStore

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Saved:
    orders: list[dict[str, Any]]
    reservations: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    transfers: list[str]

    @property
    def outcome(self) -> str:
        if self.orders:
            return "order"
        if self.reservations:
            return "booking"
        if self.messages:
            return "message"
        if self.transfers:
            return "transfer"
        return "nothing"


async def saved(db: FirebaseManager, transfers: list[str]) -> Saved:
    """Every order, booking (but the scenario's earlier ones) and message the call saved,
    read through the store (store/staff.py)."""
    store = StaffStore(db.db)
    made = [r for r in await store.since("reservations", "date", "0000-00-00")
            if r.get("call_id") != "eval-setup"]
    return Saved(await store.since("orders", "created_at", EPOCH), made,
                 await store.since("messages", "created_at", EPOCH), list(transfers))


def _line(line: dict[str, Any]) -> dict[str, Any]:
    """A saved order line in the ground truth's terms: item id, size, quantity, option ids."""
    return {"item": line["item_id"], "size": line.get("size"), "quantity": line["quantity"],
            "options": sorted(o["option_id"] for o in line.get("options") or [])}


def _wanted_line(raw: dict[str, Any]) -> dict[str, Any]:
    return {"item": raw["item"], "size": raw.get("size"), "quantity": int(raw.get("quantity", 1)),
            "options": sorted(raw.get("options") or [])}


def _order_problems(expect: dict[str, Any], s: Saved) -> list[str]:
    if len(s.orders) != 1:
        return [f"{len(s.orders)} orders saved, wanted 1"]
    order = s.orders[0]
    got = sorted((_line(x) for x in order["lines"]), key=str)
    want = sorted((_wanted_line(x) for x in expect.get("lines") or []), key=str)
    problems = [] if got == want else [f"lines {got} != {want}"]
    if "name" in expect and order["customer_name"] != expect["name"]:
        problems.append(f"name {order['customer_name']!r} != {expect['name']!r}")
    if "phone" in expect and order["customer_phone"] != expect["phone"]:
        problems.append(f"phone {order['customer_phone']!r} != {expect['phone']!r}")
    return problems


def _booking_problems(expect: dict[str, Any], s: Saved) -> list[str]:
    live = [r for r in s.reservations if r.get("status", "confirmed") == "confirmed"]
    if len(live) != 1:
        return [f"{len(live)} bookings saved, wanted 1"]
    r = live[0]
    got = {"date": str(r["date"])[:10], "time": str(r["time"])[:5],
           "party_size": r["party_size"], "name": r["name"]}
    want = {k: str(expect[k]) if k in ("date", "time") else expect[k]
            for k in ("date", "time", "party_size", "name") if k in expect}
    return [f"{k} {got[k]!r} != {v!r}" for k, v in want.items() if got[k] != v]


def problems(expect: dict[str, Any], s: Saved) -> list[str]:
    """Every difference between what was saved and the ground truth ([] is a pass)."""
    wanted = expect["outcome"]
    out: list[str] = []
    if wanted != "order" and s.orders:
        out.append(f"{len(s.orders)} order(s) saved, wanted none")
    if wanted != "booking" and "and_booking" not in expect and s.reservations:
        out.append(f"{len(s.reservations)} booking(s) saved, wanted none")
    if wanted not in ("message", "transfer") and s.messages:
        out.append(f"{len(s.messages)} message(s) saved, wanted none")
    if "and_booking" in expect:
        out += _booking_problems(expect["and_booking"], s)
    if wanted == "order":
        out += _order_problems(expect, s)
    elif wanted == "booking":
        out += _booking_problems(expect, s)
    elif wanted == "message":
        if len(s.messages) != 1:
            out.append(f"{len(s.messages)} messages saved, wanted 1")
        elif "name" in expect and s.messages[0]["name"] != expect["name"]:
            out.append(f"message name {s.messages[0]['name']!r} != {expect['name']!r}")
    elif wanted == "transfer" and not s.transfers:
        out.append("not transferred to staff")
    elif wanted == "nothing" and s.transfers:
        out.append("transferred, wanted nothing")
    return out
