"""The agent's way out: the LiveKit SIP outbound trunk that scripts/setup_sip.py creates.

Calls out (reminders, call-backs, the warm transfer's call to staff) go LiveKit SIP -> this
trunk -> FreeSWITCH's `outbound` profile, which authenticates the trunk and dials only the
staff phone and guests' numbers (freeswitch-config/dialplan/restaurant.xml, agent_outbound).
The worker knows the trunk by name (SIP_OUTBOUND_TRUNK_NAME), not by an id that changes when
the trunk is recreated.
"""

from __future__ import annotations

from livekit import api
from livekit.protocol import sip as sip_pb

DEFAULT_OUTBOUND_TRUNK_NAME = "restaurant-outbound"


class NoOutboundTrunk(RuntimeError):
    """No trunk of that name: setup_sip.py was run without SIP_OUTBOUND_ADDRESS."""


async def outbound_trunk_id(lk: api.LiveKitAPI, name: str = DEFAULT_OUTBOUND_TRUNK_NAME) -> str:
    trunks = (await lk.sip.list_outbound_trunk(sip_pb.ListSIPOutboundTrunkRequest())).items
    for trunk in trunks:
        if trunk.name == name:
            return str(trunk.sip_trunk_id)
    raise NoOutboundTrunk(f"no LiveKit SIP outbound trunk named {name!r}: run "
                          "scripts/setup_sip.py with SIP_OUTBOUND_ADDRESS and "
                          "SIP_OUTBOUND_PASSWORD set (SIP_OUTBOUND_TRUNK_NAME names it)")
