"""scripts/setup_sip.py: who the trunk admits, and that every kind of change reaches LiveKit.

The allowed-address rule is tested at its edge (a /16 is the widest IPv4 network accepted, a
/64 the widest IPv6 one), and `ensure` runs against a real LiveKit server (with its redis; no
SIP service is needed to store trunks): a change to the allowed addresses alone, the numbers
alone, the digest password alone, or the agent alone is applied in place, and a second run
then changes nothing.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from livekit import api
from livekit.protocol import sip as sip_pb

from scripts import setup_sip
from scripts.devstack import Stack
from scripts.setup_sip import SipSetup, desired_trunk, ensure, resolve_addresses, setup_from_env
from tests.telephony.helpers import livekit_only

NUMBER = "+15550100"


def _env(addresses: str, **more: str) -> dict[str, str]:
    return {"RESTAURANT_NUMBERS": NUMBER, "FREESWITCH_ADDRESS": addresses, **more}


# ---------------------------------------------------------------- the address rule


@pytest.mark.parametrize("allowed", [
    "10.20.0.0/16", "172.30.57.10", "172.30.57.10/32", "fd00:1:2:3::/64", "fd00::5", "::1",
    "172.30.57.10/16",  # host bits set: still the /16 it names
])
def test_networks_up_to_the_limit_are_admitted_as_given(allowed):
    assert setup_from_env(_env(allowed)).allowed_addresses == (allowed,)


@pytest.mark.parametrize("too_wide", [
    "10.20.0.0/15", "10.0.0.0/8", "0.0.0.0/0", "fd00:1:2::/63", "::/0",
    "172.30.57.10, 10.20.0.0/15",  # one wide entry spoils the list
])
def test_networks_wider_than_the_limit_are_refused_by_name(too_wide):
    with pytest.raises(SystemExit) as refused:
        setup_from_env(_env(too_wide))
    message = str(refused.value)
    assert "too wide" in message and too_wide.split(", ")[-1] in message
    assert "172.30.57.10," not in message  # names only the wide one


def test_host_names_are_resolved_and_lists_keep_their_order():
    assert resolve_addresses(["localhost"]) == ("127.0.0.1",)
    setup = setup_from_env(_env("172.30.57.10; localhost,10.1.0.0/16 ,"))
    assert setup.allowed_addresses == ("172.30.57.10", "127.0.0.1", "10.1.0.0/16")
    assert resolve_addresses(["127.0.0.1", "localhost"]) == ("127.0.0.1",)  # no duplicate


def test_the_environment_names_numbers_names_and_auth():
    setup = setup_from_env({"SIP_INBOUND_NUMBERS": "+15550100, +15550111",
                            "FREESWITCH_ADDRESS": "127.0.0.1", "AGENT_NAME": "front-desk",
                            "SIP_TRUNK_NAME": "t", "SIP_DISPATCH_RULE_NAME": "r",
                            "SIP_INBOUND_USERNAME": "fs", "SIP_INBOUND_PASSWORD": "pw"})
    assert setup == SipSetup(numbers=("+15550100", "+15550111"),
                             allowed_addresses=("127.0.0.1",), agent_name="front-desk",
                             trunk_name="t", rule_name="r", auth_username="fs",
                             auth_password="pw")
    defaults = setup_from_env(_env("127.0.0.1", RESTAURANT_NUMBERS="+15550100",
                                   SIP_INBOUND_NUMBERS="+15559999"))
    assert defaults.numbers == (NUMBER,)  # RESTAURANT_NUMBERS wins
    assert (defaults.agent_name, defaults.trunk_name, defaults.rule_name) == (
        "restaurant-agent", "restaurant-inbound", "restaurant-agent-dispatch")
    assert (defaults.auth_username, defaults.auth_password) == ("", "")
    with pytest.raises(SystemExit, match="RESTAURANT_NUMBERS"):
        setup_from_env({"FREESWITCH_ADDRESS": "127.0.0.1"})
    trunk = desired_trunk(setup)
    assert (list(trunk.allowed_addresses), trunk.auth_username, trunk.auth_password,
            trunk.krisp_enabled) == (["127.0.0.1"], "fs", "pw", False)


# ---------------------------------------------------------------- against LiveKit


@pytest.fixture(scope="module")
def livekit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from livekit_only(tmp_path_factory)


@pytest.fixture
async def lk(livekit_server: Stack) -> AsyncIterator[api.LiveKitAPI]:
    client = api.LiveKitAPI(livekit_server.livekit_http, livekit_server.api_key,
                            livekit_server.api_secret)
    try:
        for t in (await client.sip.list_inbound_trunk(sip_pb.ListSIPInboundTrunkRequest())).items:
            await client.sip.delete_trunk(sip_pb.DeleteSIPTrunkRequest(sip_trunk_id=t.sip_trunk_id))
        for r in (await client.sip.list_dispatch_rule(sip_pb.ListSIPDispatchRuleRequest())).items:
            await client.sip.delete_dispatch_rule(sip_pb.DeleteSIPDispatchRuleRequest(
                sip_dispatch_rule_id=r.sip_dispatch_rule_id))
        yield client
    finally:
        await client.aclose()


async def _trunks(lk: api.LiveKitAPI) -> list[sip_pb.SIPInboundTrunkInfo]:
    return list((await lk.sip.list_inbound_trunk(sip_pb.ListSIPInboundTrunkRequest())).items)


async def _rules(lk: api.LiveKitAPI) -> list[sip_pb.SIPDispatchRuleInfo]:
    return list((await lk.sip.list_dispatch_rule(sip_pb.ListSIPDispatchRuleRequest())).items)


BASE = SipSetup(numbers=(NUMBER,), allowed_addresses=("127.0.0.1",))


@pytest.mark.parametrize("change", [
    {"allowed_addresses": ("127.0.0.2",)},  # FreeSWITCH moved: nothing else differs
    {"allowed_addresses": ("127.0.0.1", "127.0.0.0/16")},
    {"numbers": (NUMBER, "+15550111")},
    {"auth_username": "fs", "auth_password": "s3cret"},
    {"auth_password": "rotated"},
], ids=["address-moved", "address-added", "number-added", "auth-added", "password-only"])
async def test_a_single_trunk_change_is_applied_in_place(lk, change):
    before = replace(BASE, auth_username="fs", auth_password="old") \
        if "auth_password" in change and "auth_username" not in change else BASE
    first = await ensure(lk, before)
    assert [a.split()[0] for a in first.actions] == ["created", "created"]

    wanted = replace(before, **change)
    report = await ensure(lk, wanted)
    assert report.actions == [f"updated trunk {first.trunk_id}",
                              f"unchanged dispatch rule {first.rule_id}"]
    (trunk,) = await _trunks(lk)
    assert trunk.sip_trunk_id == first.trunk_id
    assert sorted(trunk.allowed_addresses) == sorted(wanted.allowed_addresses)
    assert sorted(trunk.numbers) == sorted(wanted.numbers)
    assert trunk.auth_username == wanted.auth_username
    again = await ensure(lk, wanted)
    assert not again.changed, again.actions


async def test_a_changed_agent_or_room_prefix_updates_the_rule_in_place(lk):
    first = await ensure(lk, BASE)
    for change in ({"agent_name": "front-desk"}, {"room_prefix": "sip-"}):
        report = await ensure(lk, replace(BASE, **change))
        assert report.actions == [f"unchanged trunk {first.trunk_id}",
                                  f"updated dispatch rule {first.rule_id}"], change
        assert (report.trunk_id, report.rule_id) == (first.trunk_id, first.rule_id)
    (rule,) = await _rules(lk)
    assert [a.agent_name for a in rule.room_config.agents] == ["restaurant-agent"]
    assert rule.rule.dispatch_rule_individual.room_prefix == "sip-"
    assert list(rule.trunk_ids) == [first.trunk_id]


async def test_duplicates_by_name_are_removed_and_a_foreign_claim_is_reported(lk, capsys):
    want = desired_trunk(BASE)
    await lk.sip.create_inbound_trunk(sip_pb.CreateSIPInboundTrunkRequest(trunk=want))
    twin = sip_pb.SIPInboundTrunkInfo(name=BASE.trunk_name, numbers=["+15550177"],
                                      allowed_addresses=["127.0.0.1"])
    await lk.sip.create_inbound_trunk(sip_pb.CreateSIPInboundTrunkRequest(trunk=twin))
    # LiveKit lets another trunk share the number only for calls from given callers.
    other = sip_pb.SIPInboundTrunkInfo(name="someone-else", numbers=[NUMBER],
                                       allowed_addresses=["127.0.0.9"],
                                       allowed_numbers=["+15551230000"])
    await lk.sip.create_inbound_trunk(sip_pb.CreateSIPInboundTrunkRequest(trunk=other))
    unrelated = sip_pb.SIPInboundTrunkInfo(name="unrelated", numbers=["+15550123"],
                                           allowed_addresses=["127.0.0.8"])
    await lk.sip.create_inbound_trunk(sip_pb.CreateSIPInboundTrunkRequest(trunk=unrelated))
    rule_ids = []
    for trunk_id in ("ST_old1", "ST_old2"):  # LiveKit refuses two rules for one trunk
        made = await lk.sip.create_dispatch_rule(sip_pb.CreateSIPDispatchRuleRequest(
            dispatch_rule=setup_sip.desired_rule(BASE, trunk_id)))
        rule_ids.append(made.sip_dispatch_rule_id)
    report = await ensure(lk, BASE)
    assert report.actions[0].startswith("deleted duplicate trunk ")
    assert report.actions[1].split()[0] in ("updated", "unchanged")
    assert report.actions[2].startswith("deleted duplicate dispatch rule ")
    assert report.actions[3] == f"updated dispatch rule {report.rule_id}"
    trunks = await _trunks(lk)
    assert sorted(t.name for t in trunks) == ["restaurant-inbound", "someone-else", "unrelated"]
    ours = next(t for t in trunks if t.name == "restaurant-inbound")
    assert list(ours.numbers) == [NUMBER] and ours.sip_trunk_id == report.trunk_id
    (kept,) = await _rules(lk)
    assert kept.sip_dispatch_rule_id in rule_ids and list(kept.trunk_ids) == [report.trunk_id]
    warnings = [ln for ln in capsys.readouterr().out.splitlines() if "also claims" in ln]
    assert len(warnings) == 1 and "'someone-else'" in warnings[0]
    assert "also claims ['+15550100']" in warnings[0]


# ---------------------------------------------------------------- the command itself


@pytest.fixture
def command_env(livekit_server: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Stack:
    """The environment `python scripts/setup_sip.py` reads, pointed at the test server; its
    .env lookup pointed at an empty directory (the repository's own .env is not read)."""
    monkeypatch.setattr(setup_sip, "ROOT", tmp_path)
    for name in ("SIP_INBOUND_NUMBERS", "SIP_INBOUND_USERNAME", "SIP_INBOUND_PASSWORD",
                 "AGENT_NAME", "SIP_TRUNK_NAME", "SIP_DISPATCH_RULE_NAME", "SETUP_SIP_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LIVEKIT_URL", livekit_server.livekit_http)
    monkeypatch.setenv("LIVEKIT_API_KEY", livekit_server.api_key)
    monkeypatch.setenv("LIVEKIT_API_SECRET", livekit_server.api_secret)
    monkeypatch.setenv("RESTAURANT_NUMBERS", NUMBER)
    monkeypatch.setenv("FREESWITCH_ADDRESS", "127.0.0.1")
    return livekit_server


async def test_the_command_sets_up_the_trunk_then_finds_nothing_to_change(lk, command_env,
                                                                          capsys):
    assert await asyncio.to_thread(setup_sip.main, []) == 0
    first = capsys.readouterr().out
    (trunk,) = await _trunks(lk)
    (rule,) = await _rules(lk)
    assert f"inbound trunk {trunk.sip_trunk_id}: numbers {NUMBER}, from 127.0.0.1" in first
    assert (f"dispatch rule {rule.sip_dispatch_rule_id}: room prefix 'call-', "
            "agent 'restaurant-agent'") in first
    assert first.rstrip().endswith("changed")
    assert await asyncio.to_thread(setup_sip.main, ["--timeout", "5"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("nothing to change")


async def test_the_dotenv_file_fills_in_what_the_environment_lacks(lk, command_env,
                                                                  monkeypatch, capsys):
    monkeypatch.delenv("FREESWITCH_ADDRESS")
    (setup_sip.ROOT / ".env").write_text("FREESWITCH_ADDRESS=127.0.0.7\n"
                                         "RESTAURANT_NUMBERS=+15559999\n")
    assert await asyncio.to_thread(setup_sip.main, []) == 0
    (trunk,) = await _trunks(lk)
    assert list(trunk.allowed_addresses) == ["127.0.0.7"]  # from .env
    assert list(trunk.numbers) == [NUMBER]  # the environment wins over .env


@pytest.mark.parametrize("missing", ["LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"])
def test_the_command_needs_the_api_key_and_secret(command_env, monkeypatch, capsys, missing):
    monkeypatch.delenv(missing)
    assert setup_sip.main([]) == 2
    assert "LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set" in capsys.readouterr().err


def test_an_unreachable_livekit_is_waited_for_then_named(command_env, monkeypatch, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("LIVEKIT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SETUP_SIP_TIMEOUT", "1.2")
    started = time.monotonic()
    with pytest.raises(SystemExit, match="LiveKit not reachable after 1s"):
        setup_sip.main([])
    assert time.monotonic() - started >= 1.2  # it kept trying for the whole timeout
    assert "waiting for LiveKit" in capsys.readouterr().out


def test_without_livekit_url_the_default_address_is_tried(command_env, monkeypatch, capsys):
    monkeypatch.delenv("LIVEKIT_URL")
    monkeypatch.setenv("SETUP_SIP_TIMEOUT", "0.5")
    # Nothing of ours listens at ws://127.0.0.1:7880 (whatever does rejects our key), so the
    # command waits for LiveKit there and names it, rather than failing on a missing URL.
    with pytest.raises(SystemExit, match="LiveKit not reachable after"):
        setup_sip.main([])


def test_setup_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("RESTAURANT_NUMBERS", NUMBER)
    monkeypatch.setenv("FREESWITCH_ADDRESS", "172.30.57.10/24")  # host bits set: as given
    assert setup_from_env().allowed_addresses == ("172.30.57.10/24",)
