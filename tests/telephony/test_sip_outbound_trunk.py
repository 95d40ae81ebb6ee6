"""scripts/setup_sip.py: the outbound trunk the agent calls out through, and the inbound
trunk's call limit and returned-transfer header.

What the environment asks for is checked field by field without a server; `ensure` then runs
against a real LiveKit server (with its redis; no SIP service is needed to store trunks): the
outbound trunk is created, left alone on a second run, changed in place when its password,
address or number changes, and a duplicate of it is deleted while another trunk is kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from livekit import api
from livekit.protocol import sip as sip_pb

from scripts.devstack import Stack
from scripts.setup_sip import (
    OutboundSetup,
    SipSetup,
    desired_outbound_trunk,
    desired_trunk,
    ensure,
    numbers_of_files,
    setup_from_env,
)
from tests.telephony.helpers import livekit_only

NUMBER = "+15550100"
SECOND = "+15550111"
ROOT = Path(__file__).resolve().parents[2]
CASA_LUPITA = ROOT / "data" / "casa-lupita.yaml"  # numbers: ["+15550200"]


def _env(**more: str) -> dict[str, str]:
    return {"RESTAURANT_NUMBERS": f"{NUMBER}, {SECOND}", "FREESWITCH_ADDRESS": "127.0.0.1",
            **more}


def _restaurant_file(tmp_path: Path, name: str, numbers: list[str]) -> Path:
    """A copy of a sample restaurant file answering `numbers`."""
    text = CASA_LUPITA.read_text()
    assert 'numbers: ["+15550200"]' in text
    quoted = ", ".join(f'"{n}"' for n in numbers)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace('numbers: ["+15550200"]', f"numbers: [{quoted}]"))
    return path


# ---------------------------------------------------------------- what the environment asks


def test_the_environment_names_the_whole_outbound_trunk():
    setup = setup_from_env(_env(
        SIP_OUTBOUND_ADDRESS="  freeswitch:5090 \t", SIP_OUTBOUND_PASSWORD="s3cret",
        SIP_OUTBOUND_USERNAME="agent-out", SIP_OUTBOUND_TRUNK_NAME="calls-out",
        SIP_MAX_CALL_DURATION_S="600"))
    assert setup == SipSetup(
        numbers=(NUMBER, SECOND), allowed_addresses=("127.0.0.1",), max_call_duration_s=600,
        outbound_name="calls-out",
        outbound=OutboundSetup(address="freeswitch:5090", number=NUMBER, username="agent-out",
                               password="s3cret", name="calls-out"))


def test_the_outbound_trunk_defaults_its_username_name_and_the_call_limit():
    setup = setup_from_env(_env(SIP_OUTBOUND_ADDRESS="freeswitch:5090",
                                SIP_OUTBOUND_PASSWORD="s3cret", SIP_OUTBOUND_USERNAME="",
                                SIP_OUTBOUND_TRUNK_NAME="", SIP_MAX_CALL_DURATION_S=""))
    assert setup.outbound == OutboundSetup(address="freeswitch:5090", number=NUMBER,
                                           username="livekit-outbound", password="s3cret",
                                           name="restaurant-outbound")
    assert setup.max_call_duration_s == 1800
    assert setup_from_env(_env()).max_call_duration_s == 1800


@pytest.mark.parametrize("address", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_without_an_address_there_is_no_outbound_trunk(address):
    env = _env(SIP_OUTBOUND_PASSWORD="s3cret", SIP_OUTBOUND_USERNAME="agent-out")
    if address is not None:
        env["SIP_OUTBOUND_ADDRESS"] = address
    assert setup_from_env(env).outbound is None


@pytest.mark.parametrize("password", [None, ""], ids=["unset", "empty"])
def test_an_address_without_a_password_is_refused(password):
    env = _env(SIP_OUTBOUND_ADDRESS="freeswitch:5090")
    if password is not None:
        env["SIP_OUTBOUND_PASSWORD"] = password
    with pytest.raises(SystemExit) as refused:
        setup_from_env(env)
    assert str(refused.value) == ("SIP_OUTBOUND_PASSWORD must be set with SIP_OUTBOUND_ADDRESS: "
                                  "FreeSWITCH lets the outbound trunk dial only with it")


def test_the_outbound_trunk_calls_from_the_first_number_of_the_restaurant_files(tmp_path):
    first = _restaurant_file(tmp_path, "first", ["+15550300", "+15550301"])
    second = _restaurant_file(tmp_path, "second", ["+15550400"])
    assert numbers_of_files([str(first), str(second)]) == ("+15550300", "+15550301",
                                                           "+15550400")
    assert numbers_of_files([]) == ()
    env = {"FREESWITCH_ADDRESS": "127.0.0.1", "RESTAURANT_FILES": f"{first}, {second}",
           "SIP_OUTBOUND_ADDRESS": "freeswitch:5090", "SIP_OUTBOUND_PASSWORD": "s3cret"}
    setup = setup_from_env(env)
    assert setup.numbers == ("+15550300", "+15550301", "+15550400")
    assert setup.outbound is not None and setup.outbound.number == "+15550300"
    listed_first = setup_from_env({**env, "RESTAURANT_NUMBERS": NUMBER})
    assert listed_first.numbers == (NUMBER, "+15550300", "+15550301", "+15550400")
    assert listed_first.outbound is not None and listed_first.outbound.number == NUMBER


def test_a_bad_restaurant_file_is_named(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(SystemExit) as refused:
        numbers_of_files([str(missing)])
    assert str(refused.value).startswith(f"RESTAURANT_FILES: {missing}: ")


OUTBOUND = OutboundSetup(address="freeswitch:5090", number=NUMBER, username="livekit-outbound",
                         password="s3cret")


def test_the_desired_outbound_trunk_carries_every_field():
    trunk = desired_outbound_trunk(replace(OUTBOUND, name="calls-out"))
    assert trunk == sip_pb.SIPOutboundTrunkInfo(
        name="calls-out", address="freeswitch:5090", numbers=[NUMBER],
        auth_username="livekit-outbound", auth_password="s3cret",
        transport=sip_pb.SIPTransport.SIP_TRANSPORT_UDP)
    assert (trunk.name, trunk.address, list(trunk.numbers), trunk.auth_username,
            trunk.auth_password, trunk.transport) == (
        "calls-out", "freeswitch:5090", [NUMBER], "livekit-outbound", "s3cret",
        sip_pb.SIPTransport.SIP_TRANSPORT_UDP)


def test_the_inbound_trunk_limits_calls_and_maps_the_returned_header():
    trunk = desired_trunk(SipSetup(numbers=(NUMBER,), allowed_addresses=("127.0.0.1",),
                                   max_call_duration_s=600))
    assert trunk.HasField("max_call_duration")
    assert (trunk.max_call_duration.seconds, trunk.max_call_duration.nanos) == (600, 0)
    assert dict(trunk.headers_to_attributes) == {"X-Phoneline-Returned": "phoneline.returned"}
    assert trunk.krisp_enabled is False
    default = desired_trunk(SipSetup(numbers=(NUMBER,), allowed_addresses=("127.0.0.1",)))
    assert default.max_call_duration.seconds == 1800


# ---------------------------------------------------------------- against LiveKit


@pytest.fixture(scope="module")
def livekit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from livekit_only(tmp_path_factory)


@pytest.fixture
async def lk(livekit_server: Stack) -> AsyncIterator[api.LiveKitAPI]:
    client = api.LiveKitAPI(livekit_server.livekit_http, livekit_server.api_key,
                            livekit_server.api_secret)
    try:
        trunks = [*(await client.sip.list_inbound_trunk(
                      sip_pb.ListSIPInboundTrunkRequest())).items,
                  *(await client.sip.list_outbound_trunk(
                      sip_pb.ListSIPOutboundTrunkRequest())).items]
        for t in trunks:
            await client.sip.delete_trunk(sip_pb.DeleteSIPTrunkRequest(sip_trunk_id=t.sip_trunk_id))
        for r in (await client.sip.list_dispatch_rule(sip_pb.ListSIPDispatchRuleRequest())).items:
            await client.sip.delete_dispatch_rule(sip_pb.DeleteSIPDispatchRuleRequest(
                sip_dispatch_rule_id=r.sip_dispatch_rule_id))
        yield client
    finally:
        await client.aclose()


async def _outbound(lk: api.LiveKitAPI) -> list[sip_pb.SIPOutboundTrunkInfo]:
    return list((await lk.sip.list_outbound_trunk(sip_pb.ListSIPOutboundTrunkRequest())).items)


def _fields(t: sip_pb.SIPOutboundTrunkInfo) -> tuple[object, ...]:
    return (t.name, t.address, list(t.numbers), t.auth_username, t.auth_password, t.transport)


BASE = SipSetup(numbers=(NUMBER,), allowed_addresses=("127.0.0.1",), outbound=OUTBOUND)
STORED = ("restaurant-outbound", "freeswitch:5090", [NUMBER], "livekit-outbound", "s3cret",
          sip_pb.SIPTransport.SIP_TRANSPORT_UDP)


async def test_the_outbound_trunk_is_created_then_left_alone(lk):
    first = await ensure(lk, BASE)
    (trunk,) = await _outbound(lk)
    assert first.outbound_trunk_id == trunk.sip_trunk_id != ""
    assert f"created outbound trunk {trunk.sip_trunk_id}" in first.actions
    assert first.actions == [f"created trunk {first.trunk_id}",
                             f"created outbound trunk {trunk.sip_trunk_id}",
                             f"created dispatch rule {first.rule_id}"]
    assert _fields(trunk) == STORED

    again = await ensure(lk, BASE)
    assert again.actions == [f"unchanged trunk {first.trunk_id}",
                             f"unchanged outbound trunk {trunk.sip_trunk_id}",
                             f"unchanged dispatch rule {first.rule_id}"]
    assert again.outbound_trunk_id == trunk.sip_trunk_id
    assert not again.changed
    (still,) = await _outbound(lk)
    assert still == trunk


async def test_without_an_outbound_setup_no_outbound_trunk_is_made(lk):
    report = await ensure(lk, replace(BASE, outbound=None))
    assert await _outbound(lk) == []
    assert report.outbound_trunk_id == ""
    assert not any("outbound" in a for a in report.actions)


async def test_unsetting_the_address_removes_the_outbound_trunk_an_earlier_run_made(lk):
    """The operator turns calling out off: the agent must not keep dialling through the trunk
    (it finds it by name); a trunk of another name is not ours and stays."""
    first = await ensure(lk, BASE)
    other = await lk.sip.create_outbound_trunk(sip_pb.CreateSIPOutboundTrunkRequest(
        trunk=_with(desired_outbound_trunk(OUTBOUND), name="someone-else")))

    off = await ensure(lk, replace(BASE, outbound=None))

    assert [t.sip_trunk_id for t in await _outbound(lk)] == [other.sip_trunk_id]
    assert off.actions == [f"unchanged trunk {first.trunk_id}",
                           f"deleted outbound trunk {first.outbound_trunk_id} "
                           "(SIP_OUTBOUND_ADDRESS is not set)",
                           f"unchanged dispatch rule {first.rule_id}"]
    assert off.outbound_trunk_id == ""
    again = await ensure(lk, replace(BASE, outbound=None))
    assert not again.changed, again.actions


@pytest.mark.parametrize("change", [
    {"password": "rotated"},
    {"address": "freeswitch:5091"},
    {"number": SECOND},
    {"username": "agent-out"},
], ids=["password", "address", "number", "username"])
async def test_a_changed_outbound_trunk_is_updated_in_place(lk, change):
    first = await ensure(lk, BASE)
    wanted = replace(BASE, outbound=replace(OUTBOUND, **change))
    report = await ensure(lk, wanted)
    assert report.actions == [f"unchanged trunk {first.trunk_id}",
                              f"updated outbound trunk {first.outbound_trunk_id}",
                              f"unchanged dispatch rule {first.rule_id}"]
    assert report.outbound_trunk_id == first.outbound_trunk_id
    (trunk,) = await _outbound(lk)
    assert trunk.sip_trunk_id == first.outbound_trunk_id
    assert _fields(trunk) == _fields(desired_outbound_trunk(wanted.outbound))
    again = await ensure(lk, wanted)
    assert not again.changed, again.actions


async def test_a_duplicate_outbound_trunk_is_deleted_and_another_is_kept(lk):
    want = desired_outbound_trunk(OUTBOUND)
    kept = await lk.sip.create_outbound_trunk(sip_pb.CreateSIPOutboundTrunkRequest(trunk=want))
    twin = await lk.sip.create_outbound_trunk(sip_pb.CreateSIPOutboundTrunkRequest(
        trunk=_with(want, address="elsewhere:5060")))
    other = await lk.sip.create_outbound_trunk(sip_pb.CreateSIPOutboundTrunkRequest(
        trunk=_with(want, name="someone-else", address="carrier:5060")))
    listed = [t.sip_trunk_id for t in await _outbound(lk) if t.name == OUTBOUND.name]
    assert sorted(listed) == sorted([kept.sip_trunk_id, twin.sip_trunk_id])
    survivor, duplicate = listed  # ensure keeps the first it lists, whatever its fields

    report = await ensure(lk, BASE)
    outbound_actions = [a for a in report.actions if "outbound" in a]
    changed = "unchanged" if survivor == kept.sip_trunk_id else "updated"
    assert outbound_actions == [f"deleted duplicate outbound trunk {duplicate}",
                                f"{changed} outbound trunk {survivor}"]
    assert report.outbound_trunk_id == survivor
    trunks = {t.sip_trunk_id: t for t in await _outbound(lk)}
    assert sorted(trunks) == sorted([survivor, other.sip_trunk_id])
    assert _fields(trunks[survivor]) == STORED
    assert _fields(trunks[other.sip_trunk_id]) == (
        "someone-else", "carrier:5060", [NUMBER], "livekit-outbound", "s3cret",
        sip_pb.SIPTransport.SIP_TRANSPORT_UDP)
    again = await ensure(lk, BASE)
    assert f"unchanged outbound trunk {survivor}" in again.actions and not again.changed


def _with(trunk: sip_pb.SIPOutboundTrunkInfo, **fields: str
                  ) -> sip_pb.SIPOutboundTrunkInfo:
    copy = sip_pb.SIPOutboundTrunkInfo()
    copy.CopyFrom(trunk)
    for name, value in fields.items():
        setattr(copy, name, value)
    return copy
