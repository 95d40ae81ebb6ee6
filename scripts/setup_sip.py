"""Create or update the LiveKit SIP inbound trunk and dispatch rule for the restaurant line.

Idempotent: the trunk and the rule are found by name and only changed when they differ from
what the environment asks for, so a second run prints "unchanged" twice and touches nothing.

- Inbound trunk `SIP_TRUNK_NAME` (default `restaurant-inbound`): every restaurant's numbers —
  those in RESTAURANT_NUMBERS (or SIP_INBOUND_NUMBERS), comma-separated, plus the `numbers:` of
  each restaurant file in RESTAURANT_FILES (comma-separated paths) — accepted only from
  FREESWITCH_ADDRESS (comma-separated IPs/CIDRs/host names; host names are resolved here).
  Optional SIP_INBOUND_USERNAME / SIP_INBOUND_PASSWORD add digest auth on top.
  SIP_MAX_CALL_DURATION_S (default 1800) is the longest a call may last: LiveKit SIP then
  hangs up, whatever the agent does.
- Outbound trunk `SIP_OUTBOUND_TRUNK_NAME` (default `restaurant-outbound`), when
  SIP_OUTBOUND_ADDRESS names FreeSWITCH's outbound profile (host:port, e.g. freeswitch:5090):
  the agent's calls out (reminders, call-backs, the warm transfer's call to staff) leave
  LiveKit SIP there, from the first restaurant number, with the digest credentials
  SIP_OUTBOUND_USERNAME (default livekit-outbound) / SIP_OUTBOUND_PASSWORD (required), the
  pair FreeSWITCH's directory/outbound.xml reads. The worker finds the trunk by its name.
- Dispatch rule `SIP_DISPATCH_RULE_NAME` (default `restaurant-agent-dispatch`): one room per
  call (`call-<caller>_<random>`), with the agent AGENT_NAME (default `restaurant-agent`)
  dispatched into it explicitly.

LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET say which LiveKit to talk to; it is retried
until reachable for SETUP_SIP_TIMEOUT seconds (default 60). Exit status 0 on success.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from livekit import api
from livekit.protocol import sip as sip_pb

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python scripts/setup_sip.py` puts scripts/ first, not the repo
    sys.path.insert(0, str(ROOT))

from actions.transfer import RETURNED_ATTRIBUTE, RETURNED_HEADER  # noqa: E402
from config import DEFAULT_AGENT_NAME  # noqa: E402
from telephony.sip_outbound import DEFAULT_OUTBOUND_TRUNK_NAME  # noqa: E402

DEFAULT_TRUNK_NAME = "restaurant-inbound"
DEFAULT_OUTBOUND_USERNAME = "livekit-outbound"
DEFAULT_RULE_NAME = f"{DEFAULT_AGENT_NAME}-dispatch"
ROOM_PREFIX = "call-"
DEFAULT_MAX_CALL_DURATION_S = 30 * 60


@dataclass(frozen=True)
class SipSetup:
    numbers: tuple[str, ...]
    allowed_addresses: tuple[str, ...]
    agent_name: str = DEFAULT_AGENT_NAME
    trunk_name: str = DEFAULT_TRUNK_NAME
    rule_name: str = DEFAULT_RULE_NAME
    auth_username: str = ""
    auth_password: str = ""
    room_prefix: str = ROOM_PREFIX
    # LiveKit SIP hangs up (BYE) a call after this long whatever happens to the agent: the
    # last resort against an open-ended call (its own default is 24 h).
    max_call_duration_s: int = DEFAULT_MAX_CALL_DURATION_S
    outbound: OutboundSetup | None = None
    # The outbound trunk's name, also without an outbound setup: a trunk of that name left
    # from an earlier run is removed then, or the agent could still call out through it.
    outbound_name: str = DEFAULT_OUTBOUND_TRUNK_NAME


@dataclass(frozen=True)
class OutboundSetup:
    address: str  # host:port of FreeSWITCH's outbound profile
    number: str  # caller ID the trunk presents (FreeSWITCH forces the restaurant's anyway)
    username: str
    password: str
    name: str = DEFAULT_OUTBOUND_TRUNK_NAME


@dataclass
class Report:
    trunk_id: str = ""
    rule_id: str = ""
    outbound_trunk_id: str = ""
    actions: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(not a.startswith("unchanged") for a in self.actions)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (value or "").replace(";", ",").split(",") if p.strip())


def resolve_addresses(entries: Sequence[str]) -> tuple[str, ...]:
    """IPs and CIDRs as given; host names (e.g. the compose service `freeswitch`) resolved."""
    out: list[str] = []
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
            out.append(entry)
            continue
        except ValueError:
            pass
        infos = socket.getaddrinfo(entry, None, family=socket.AF_INET)
        for ip in sorted({str(info[4][0]) for info in infos}):
            if ip not in out:
                out.append(ip)
    return tuple(out)


def numbers_of_files(paths: Sequence[str]) -> tuple[str, ...]:
    """The `numbers:` of each restaurant file (validated as the staff script validates it)."""
    from store.menu_file import MenuFileError, load_menu_file

    numbers: list[str] = []
    for path in paths:
        try:
            numbers.extend(load_menu_file(path).restaurant.numbers)
        except MenuFileError as e:
            raise SystemExit(f"RESTAURANT_FILES: {path}: {e}") from None
    return tuple(numbers)


def setup_from_env(env: dict[str, str] | None = None) -> SipSetup:
    env = dict(os.environ if env is None else env)
    listed = _split(env.get("RESTAURANT_NUMBERS") or env.get("SIP_INBOUND_NUMBERS"))
    from_files = numbers_of_files(_split(env.get("RESTAURANT_FILES")))
    numbers = tuple(dict.fromkeys((*listed, *from_files)))  # one trunk answers them all
    if not numbers:
        raise SystemExit("RESTAURANT_NUMBERS (or SIP_INBOUND_NUMBERS) must name the restaurant "
                         "number(s), e.g. +15550100, or RESTAURANT_FILES the restaurant files "
                         "that list them")
    addresses = _split(env.get("FREESWITCH_ADDRESS"))
    if not addresses:
        raise SystemExit("FREESWITCH_ADDRESS must say where calls come from (FreeSWITCH's IP, "
                         "CIDR or host name); the trunk accepts calls from nowhere else")
    allowed = resolve_addresses(addresses)
    wide = [a for a in allowed if ipaddress.ip_network(a, strict=False).prefixlen
            < (16 if ipaddress.ip_network(a, strict=False).version == 4 else 64)]
    if wide:
        raise SystemExit(f"FREESWITCH_ADDRESS {', '.join(wide)} is too wide: the trunk must take "
                         "calls from FreeSWITCH only (its IP, or a /16 or narrower network)")
    outbound = None
    outbound_name = env.get("SIP_OUTBOUND_TRUNK_NAME") or DEFAULT_OUTBOUND_TRUNK_NAME
    address = (env.get("SIP_OUTBOUND_ADDRESS") or "").strip()
    if address:
        password = env.get("SIP_OUTBOUND_PASSWORD") or ""
        if not password:
            raise SystemExit("SIP_OUTBOUND_PASSWORD must be set with SIP_OUTBOUND_ADDRESS: "
                             "FreeSWITCH lets the outbound trunk dial only with it")
        outbound = OutboundSetup(
            address=address, number=numbers[0], password=password,
            username=env.get("SIP_OUTBOUND_USERNAME") or DEFAULT_OUTBOUND_USERNAME,
            name=outbound_name,
        )
    return SipSetup(
        numbers=numbers,
        outbound=outbound,
        outbound_name=outbound_name,
        allowed_addresses=allowed,
        agent_name=env.get("AGENT_NAME") or DEFAULT_AGENT_NAME,
        trunk_name=env.get("SIP_TRUNK_NAME") or DEFAULT_TRUNK_NAME,
        rule_name=env.get("SIP_DISPATCH_RULE_NAME") or DEFAULT_RULE_NAME,
        auth_username=env.get("SIP_INBOUND_USERNAME", ""),
        auth_password=env.get("SIP_INBOUND_PASSWORD", ""),
        max_call_duration_s=int(env.get("SIP_MAX_CALL_DURATION_S")
                                or DEFAULT_MAX_CALL_DURATION_S),
    )


def desired_trunk(setup: SipSetup) -> sip_pb.SIPInboundTrunkInfo:
    return sip_pb.SIPInboundTrunkInfo(
        name=setup.trunk_name,
        numbers=list(setup.numbers),
        allowed_addresses=list(setup.allowed_addresses),
        auth_username=setup.auth_username,
        auth_password=setup.auth_password,
        krisp_enabled=False,
        max_call_duration=Duration(seconds=setup.max_call_duration_s),
        # a cold transfer nobody answered comes back marked (dialplan livekit_transfer)
        headers_to_attributes={RETURNED_HEADER: RETURNED_ATTRIBUTE},
    )


def desired_rule(setup: SipSetup, trunk_id: str) -> sip_pb.SIPDispatchRuleInfo:
    return sip_pb.SIPDispatchRuleInfo(
        name=setup.rule_name,
        trunk_ids=[trunk_id],
        rule=sip_pb.SIPDispatchRule(
            dispatch_rule_individual=sip_pb.SIPDispatchRuleIndividual(room_prefix=setup.room_prefix)
        ),
        room_config=api.RoomConfiguration(
            agents=[api.RoomAgentDispatch(agent_name=setup.agent_name)]
        ),
    )


def desired_outbound_trunk(outbound: OutboundSetup) -> sip_pb.SIPOutboundTrunkInfo:
    return sip_pb.SIPOutboundTrunkInfo(
        name=outbound.name,
        address=outbound.address,
        numbers=[outbound.number],
        auth_username=outbound.username,
        auth_password=outbound.password,
        transport=sip_pb.SIPTransport.SIP_TRANSPORT_UDP,
    )


def _outbound_key(t: sip_pb.SIPOutboundTrunkInfo) -> tuple[object, ...]:
    return (t.name, t.address, sorted(t.numbers), t.auth_username, t.auth_password, t.transport)


def _trunk_key(t: sip_pb.SIPInboundTrunkInfo) -> tuple[object, ...]:
    return (t.name, sorted(t.numbers), sorted(t.allowed_addresses), t.auth_username,
            t.auth_password, t.krisp_enabled, t.max_call_duration.seconds,
            sorted(t.headers_to_attributes.items()))


def _rule_key(r: sip_pb.SIPDispatchRuleInfo) -> tuple[object, ...]:
    return (r.name, sorted(r.trunk_ids), r.rule.SerializeToString(deterministic=True),
            sorted(a.agent_name for a in r.room_config.agents), r.hide_phone_number)


async def wait_for_livekit(lk: api.LiveKitAPI, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    delay = 0.5
    while True:
        try:
            await lk.sip.list_inbound_trunk(sip_pb.ListSIPInboundTrunkRequest())
            return
        except Exception as e:  # connection refused, 5xx while starting, …
            if time.monotonic() >= deadline:
                raise SystemExit(f"LiveKit not reachable after {wait_s:.0f}s: {e}") from None
            print(f"waiting for LiveKit ({type(e).__name__}: {e})", flush=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def ensure(lk: api.LiveKitAPI, setup: SipSetup) -> Report:
    report = Report()
    want = desired_trunk(setup)
    trunks = (await lk.sip.list_inbound_trunk(sip_pb.ListSIPInboundTrunkRequest())).items
    ours = [t for t in trunks if t.name == setup.trunk_name]
    for extra in ours[1:]:
        await lk.sip.delete_trunk(sip_pb.DeleteSIPTrunkRequest(sip_trunk_id=extra.sip_trunk_id))
        report.actions.append(f"deleted duplicate trunk {extra.sip_trunk_id}")
    if not ours:
        created = await lk.sip.create_inbound_trunk(
            sip_pb.CreateSIPInboundTrunkRequest(trunk=want)
        )
        report.trunk_id = created.sip_trunk_id
        report.actions.append(f"created trunk {created.sip_trunk_id}")
    else:
        current = ours[0]
        report.trunk_id = current.sip_trunk_id
        if _trunk_key(current) != _trunk_key(want):
            await lk.sip.update_inbound_trunk(current.sip_trunk_id, want)
            report.actions.append(f"updated trunk {current.sip_trunk_id}")
        else:
            report.actions.append(f"unchanged trunk {current.sip_trunk_id}")
    for other in trunks:
        if other.name != setup.trunk_name and set(other.numbers) & set(setup.numbers):
            print(f"warning: trunk {other.sip_trunk_id} ({other.name!r}) also claims "
                  f"{sorted(set(other.numbers) & set(setup.numbers))}", flush=True)

    if setup.outbound is not None:
        await ensure_outbound(lk, setup.outbound, report)
    else:
        await remove_outbound(lk, setup.outbound_name, report)

    want_rule = desired_rule(setup, report.trunk_id)
    rules = (await lk.sip.list_dispatch_rule(sip_pb.ListSIPDispatchRuleRequest())).items
    mine = [r for r in rules if r.name == setup.rule_name]
    for extra in mine[1:]:
        await lk.sip.delete_dispatch_rule(
            sip_pb.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=extra.sip_dispatch_rule_id)
        )
        report.actions.append(f"deleted duplicate dispatch rule {extra.sip_dispatch_rule_id}")
    if not mine:
        created_rule = await lk.sip.create_dispatch_rule(
            sip_pb.CreateSIPDispatchRuleRequest(dispatch_rule=want_rule)
        )
        report.rule_id = created_rule.sip_dispatch_rule_id
        report.actions.append(f"created dispatch rule {created_rule.sip_dispatch_rule_id}")
    else:
        current_rule = mine[0]
        report.rule_id = current_rule.sip_dispatch_rule_id
        if _rule_key(current_rule) != _rule_key(want_rule):
            await lk.sip.update_dispatch_rule(current_rule.sip_dispatch_rule_id, want_rule)
            report.actions.append(f"updated dispatch rule {current_rule.sip_dispatch_rule_id}")
        else:
            report.actions.append(f"unchanged dispatch rule {current_rule.sip_dispatch_rule_id}")
    return report


async def ensure_outbound(lk: api.LiveKitAPI, outbound: OutboundSetup, report: Report) -> None:
    want = desired_outbound_trunk(outbound)
    trunks = (await lk.sip.list_outbound_trunk(sip_pb.ListSIPOutboundTrunkRequest())).items
    ours = [t for t in trunks if t.name == outbound.name]
    for extra in ours[1:]:
        await lk.sip.delete_trunk(sip_pb.DeleteSIPTrunkRequest(sip_trunk_id=extra.sip_trunk_id))
        report.actions.append(f"deleted duplicate outbound trunk {extra.sip_trunk_id}")
    if not ours:
        created = await lk.sip.create_outbound_trunk(
            sip_pb.CreateSIPOutboundTrunkRequest(trunk=want))
        report.outbound_trunk_id = created.sip_trunk_id
        report.actions.append(f"created outbound trunk {created.sip_trunk_id}")
        return
    current = ours[0]
    report.outbound_trunk_id = current.sip_trunk_id
    if _outbound_key(current) != _outbound_key(want):
        await lk.sip.update_outbound_trunk(current.sip_trunk_id, want)
        report.actions.append(f"updated outbound trunk {current.sip_trunk_id}")
    else:
        report.actions.append(f"unchanged outbound trunk {current.sip_trunk_id}")


async def remove_outbound(lk: api.LiveKitAPI, name: str, report: Report) -> None:
    """No SIP_OUTBOUND_ADDRESS: the outbound trunk an earlier run made goes, so the agent
    cannot call out through it (the worker finds its trunk by this name)."""
    trunks = (await lk.sip.list_outbound_trunk(sip_pb.ListSIPOutboundTrunkRequest())).items
    for gone in [t for t in trunks if t.name == name]:
        await lk.sip.delete_trunk(sip_pb.DeleteSIPTrunkRequest(sip_trunk_id=gone.sip_trunk_id))
        report.actions.append(f"deleted outbound trunk {gone.sip_trunk_id} "
                              "(SIP_OUTBOUND_ADDRESS is not set)")


async def run(setup: SipSetup, *, url: str, key: str, secret: str, wait_s: float) -> Report:
    lk = api.LiveKitAPI(url, key, secret)
    try:
        await wait_for_livekit(lk, wait_s)
        return await ensure(lk, setup)
    finally:
        await lk.aclose()


def _load_dotenv() -> None:
    env_file = ROOT / ".env"
    if env_file.exists():
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float,
                        default=float(os.environ.get("SETUP_SIP_TIMEOUT", "60")))
    args = parser.parse_args(argv)
    _load_dotenv()
    url = os.environ.get("LIVEKIT_URL", "ws://127.0.0.1:7880")
    key = os.environ.get("LIVEKIT_API_KEY", "")
    secret = os.environ.get("LIVEKIT_API_SECRET", "")
    if not key or not secret:
        print("LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set", file=sys.stderr)
        return 2
    setup = setup_from_env()
    report = asyncio.run(run(setup, url=url, key=key, secret=secret, wait_s=args.timeout))
    print(f"inbound trunk {report.trunk_id}: numbers {', '.join(setup.numbers)}, "
          f"from {', '.join(setup.allowed_addresses)}")
    if setup.outbound is not None:
        print(f"outbound trunk {report.outbound_trunk_id} ({setup.outbound.name}): to "
              f"{setup.outbound.address} as {setup.outbound.username}, from "
              f"{setup.outbound.number}")
    else:
        print("no outbound trunk (SIP_OUTBOUND_ADDRESS not set): the agent cannot call out")
    print(f"dispatch rule {report.rule_id}: room prefix {setup.room_prefix!r}, "
          f"agent {setup.agent_name!r}")
    for action in report.actions:
        print(f"  {action}")
    print("changed" if report.changed else "nothing to change", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
