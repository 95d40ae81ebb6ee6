"""What the dialer may run up for one restaurant: calls started in any 60 minutes, in any 24
hours, and calls under way at once (settings/restaurant: outbound_max_per_hour, _per_day,
_concurrent). A runaway queue, a bug or a hostile booking spree cannot turn into a phone bill.

One document, `outbound_caps/state`, read and written inside the claim's and the finish's
transactions (store/outbound.py), so two dialers cannot both take the last place:
`starts` (when each call of the last 24 hours was started), `active` (call id -> lease end) and
`refusing` (why the dialer is holding calls back now, for the board; None when it is not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

CAPS_DOC = "outbound_caps/state"
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@dataclass(frozen=True)
class Caps:
    per_hour: int = 20
    per_day: int = 100
    concurrent: int = 2


@dataclass
class CapsState:
    starts: list[datetime] = field(default_factory=list)
    active: dict[str, datetime] = field(default_factory=dict)
    refusing: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any] | None, now: datetime) -> CapsState:
        data = data or {}
        return cls(starts=[t for t in data.get("starts") or [] if t > now - DAY],
                   active={k: v for k, v in (data.get("active") or {}).items() if v > now},
                   refusing=data.get("refusing"))

    def to_doc(self, now: datetime) -> dict[str, Any]:
        return {"starts": self.starts, "active": self.active, "refusing": self.refusing,
                "updated_at": now}

    def refusal(self, caps: Caps, now: datetime) -> str | None:
        """Why no further call may start now, or None."""
        if len(self.active) >= caps.concurrent:
            return f"{caps.concurrent} outbound calls at once is the limit; waiting for one to end"
        last_hour = sorted(t for t in self.starts if t > now - HOUR)
        if len(last_hour) >= caps.per_hour:
            return (f"{caps.per_hour} outbound calls an hour is the limit; the next can start "
                    f"after {(last_hour[-caps.per_hour] + HOUR).isoformat()}")
        if len(self.starts) >= caps.per_day:
            first = sorted(self.starts)[-caps.per_day]
            return (f"{caps.per_day} outbound calls a day is the limit; the next can start "
                    f"after {(first + DAY).isoformat()}")
        return None

    def started(self, call_id: str, now: datetime, lease_until: datetime) -> None:
        self.starts.append(now)
        self.active[call_id] = lease_until
        self.refusing = None

    def ended(self, call_id: str) -> None:
        self.active.pop(call_id, None)
