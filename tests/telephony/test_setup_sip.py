"""scripts/setup_sip.py against a real LiveKit server: create, no-op, update."""

from __future__ import annotations

import asyncio

from livekit import api
from livekit.protocol import sip as sip_pb

from scripts.devstack import Ports, Stack, StackError, StackOptions, find_binary
from tests.telephony.helpers import require, require_tools


def _require_livekit() -> None:
    require_tools("redis-server")
    for env_var, names in (("LIVEKIT_SERVER_BIN", ("livekit-server", "server")),
                           ("LIVEKIT_SIP_BIN", ("livekit-sip",))):
        try:
            find_binary(env_var, *names)
        except StackError:
            require(False, f"`{names[0]}` (built by scripts/install_deps.sh)")


async def _state(stack: Stack) -> tuple[list, list]:
    lk = api.LiveKitAPI(stack.livekit_http, stack.api_key, stack.api_secret)
    try:
        trunks = (await lk.sip.list_inbound_trunk(sip_pb.ListSIPInboundTrunkRequest())).items
        rules = (await lk.sip.list_dispatch_rule(sip_pb.ListSIPDispatchRuleRequest())).items
        return list(trunks), list(rules)
    finally:
        await lk.aclose()


async def test_setup_sip_is_idempotent_and_updates_in_place(firestore_emulator, tmp_path):
    _require_livekit()
    stack = Stack(StackOptions(ports=Ports.ephemeral(), workdir=tmp_path, worker=None,
                               seed_menu=False, firestore_host=firestore_emulator.host,
                               numbers=("+15550100",), allow=("127.0.0.1",),
                               ignore_load=True))  # LiveKit SIP's health: the shared CPU
    try:
        await asyncio.to_thread(stack.start)
        assert "created trunk" in stack.setup_output
        assert "created dispatch rule" in stack.setup_output
        trunks, rules = await _state(stack)
        assert len(trunks) == 1 and len(rules) == 1
        trunk, rule = trunks[0], rules[0]
        # the stack's number, then the sample second restaurant's (data/casa-lupita.yaml)
        assert list(trunk.numbers) == ["+15550100", "+15550200"]
        assert list(trunk.allowed_addresses) == ["127.0.0.1"]
        assert trunk.max_call_duration.seconds == 30 * 60  # LiveKit SIP's BYE of last resort
        assert list(rule.trunk_ids) == [trunk.sip_trunk_id]
        assert rule.rule.dispatch_rule_individual.room_prefix == "call-"
        assert [a.agent_name for a in rule.room_config.agents] == ["restaurant-agent"]

        again = await asyncio.to_thread(stack.setup_sip)
        assert "nothing to change" in again and "unchanged trunk" in again

        # a new number and a second FreeSWITCH address: the same trunk is updated in place
        stack.options.numbers = ("+15550100", "+15550111")
        stack.options.allow = ("127.0.0.1", "127.0.0.2/32")
        changed = await asyncio.to_thread(stack.setup_sip)
        assert f"updated trunk {trunk.sip_trunk_id}" in changed
        assert "unchanged dispatch rule" in changed
        trunks, rules = await _state(stack)
        assert [t.sip_trunk_id for t in trunks] == [trunk.sip_trunk_id]
        assert sorted(trunks[0].numbers) == ["+15550100", "+15550111", "+15550200"]
        assert sorted(trunks[0].allowed_addresses) == ["127.0.0.1", "127.0.0.2/32"]
        assert len(rules) == 1
    finally:
        await asyncio.to_thread(stack.stop)


def test_outbound_trunk_needs_its_password_and_is_optional():
    import pytest

    from scripts.setup_sip import setup_from_env

    base = {"RESTAURANT_NUMBERS": "+15550100", "FREESWITCH_ADDRESS": "127.0.0.1"}
    assert setup_from_env(base).outbound is None  # no address: no trunk, nothing can dial out
    with pytest.raises(SystemExit, match="SIP_OUTBOUND_PASSWORD"):
        setup_from_env({**base, "SIP_OUTBOUND_ADDRESS": "freeswitch:5090"})
    outbound = setup_from_env({**base, "SIP_OUTBOUND_ADDRESS": "freeswitch:5090",
                               "SIP_OUTBOUND_PASSWORD": "pw"}).outbound
    assert outbound is not None
    assert (outbound.address, outbound.number, outbound.username, outbound.name) == (
        "freeswitch:5090", "+15550100", "livekit-outbound", "restaurant-outbound")


def test_the_trunk_takes_every_restaurants_numbers(tmp_path) -> None:
    from scripts.setup_sip import setup_from_env

    env = {"RESTAURANT_NUMBERS": "+15550100", "FREESWITCH_ADDRESS": "127.0.0.1",
           "RESTAURANT_FILES": "data/casa-lupita.yaml, data/menu.yaml"}
    assert setup_from_env(env).numbers == ("+15550100", "+15550200")
    only_files = {**env, "RESTAURANT_NUMBERS": ""}
    assert setup_from_env(only_files).numbers == ("+15550200",)
    broken = tmp_path / "broken.yaml"
    broken.write_text("restaurant: {name: X, numbers: ['5550100']}\nitems: []\n")
    try:
        setup_from_env({**env, "RESTAURANT_FILES": str(broken)})
    except SystemExit as e:
        assert str(broken) in str(e) and "numbers" in str(e)
    else:
        raise AssertionError("a restaurant file with a bad number was accepted")
