"""An outbound call's identity and progress: the job the dialer hands the agent (`OutboundJob`,
carried as the dispatch's metadata) and what the call has done so far (`OutboundState`, on the
call's state). Data only: what the call does is actions/outbound.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from models import DEFAULT_RESTAURANT_ID, Message, OutboundCall, Reservation

JOB_KEY = "outbound_call_id"


@dataclass(frozen=True)
class OutboundJob:
    """What the dialer hands the agent: which queue entry, leased to whom."""

    call_id: str
    lease_owner: str
    restaurant_id: str = DEFAULT_RESTAURANT_ID  # whose queue, menu and voice the call uses
    # > 0: a new agent for a call whose agent died, with the guest still on the line
    # (telephony/redispatch.py merges it into the dialer's metadata): it must not dial again
    resume: int = 0

    def to_metadata(self) -> str:
        return json.dumps({JOB_KEY: self.call_id, "lease_owner": self.lease_owner,
                           "restaurant": self.restaurant_id})

    @classmethod
    def from_metadata(cls, metadata: str | None) -> OutboundJob | None:
        """The job of an outbound dispatch; None for an inbound call (no such metadata)."""
        try:
            data = json.loads(metadata or "")
        except ValueError:
            return None
        if not isinstance(data, dict) or not data.get(JOB_KEY):
            return None
        resume = data.get("resume")
        return cls(str(data[JOB_KEY]), str(data.get("lease_owner") or ""),
                   str(data.get("restaurant") or DEFAULT_RESTAURANT_ID),
                   resume if type(resume) is int and resume > 0 else 0)


@dataclass
class OutboundState:
    """The call being made, on the call's UserData (`userdata.outbound`)."""

    job: OutboundJob
    call: OutboundCall
    booking: Reservation | None = None
    message: Message | None = None
    result: str | None = None
    answered: bool = False
    introduced: bool = False
    introduced_at: float | None = None  # time.time() when the introduction began
    guest_spoke_at: float | None = None  # time.time() the guest last started speaking
    pressed_at: float | None = None  # time.time() the guest last pressed a key
    events: list[tuple[datetime, str]] = field(default_factory=list)  # the call's timeline

    @property
    def about(self) -> str:
        return self.call.kind
