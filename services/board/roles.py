"""What staff see, enforced on the server (the owner sees everything).

At the pass staff need today's orders with their totals (to take the money) and today's calls;
they do not need the restaurant's takings, so nothing from another day reaches them: no past
order (list, stream or ticket) and no past day's calls, whose transcripts say the totals too.
The day is the restaurant's (its time zone). Revenue on the Numbers page is owner-only
(board/numbers.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.board.auth import Session

# topic -> the field whose day decides whether staff may see a document
# (an order's POS state carries its totals: staff see the states written today)
DAY_FIELD = {"orders": "created_at", "calls": "started_at", "pos": "updated_at"}


def day_of(value: Any, tz: ZoneInfo) -> date | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.astimezone(tz).date()
    return None


def may_see(session: Session, topic: str, doc: dict[str, Any], tz: ZoneInfo) -> bool:
    field = DAY_FIELD.get(topic)
    if session.role == "owner" or field is None:
        return True
    return day_of(doc.get(field), tz) == datetime.now(tz).date()


def visible(session: Session, topic: str, docs: list[dict[str, Any]],
            tz: ZoneInfo) -> list[dict[str, Any]]:
    return [d for d in docs if may_see(session, topic, d, tz)]


def may_see_day(session: Session, day: date, tz: ZoneInfo) -> bool:
    return session.role == "owner" or day == datetime.now(tz).date()
