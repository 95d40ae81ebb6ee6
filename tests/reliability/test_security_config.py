"""A phone line is public: what the configuration lets in. Complements
tests/telephony/test_freeswitch_config.py (fixed routes) and tests/test_firestore_rules.py.

* FreeSWITCH: whatever number an outside caller (or a registered softphone, or a REFER from
  the agent) dials, the call reaches only the restaurant's agent or our own extensions: never
  a gateway or an outside number (toll fraud), checked over generated numbers.
* LiveKit: no API key has a default that could reach production; SIP, Redis, the Event
  Socket and the Firestore emulator are not published; the SIP trunk admits FreeSWITCH only.
* No payment card data: nothing asks for it, nothing stores it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scripts.setup_sip import desired_trunk, setup_from_env
from tests.telephony.fsconfig import preprocess, route

ROOT = Path(__file__).resolve().parents[2]
NUMBER = "+15550100"
ENV = {
    "RESTAURANT_NUMBER": NUMBER, "LIVEKIT_SIP_HOST": "livekit-sip",
    "FS_EXTERNAL_IP": "203.0.113.7", "FS_DEV_PHONE_PASSWORD": "dev-secret-from-env",
    "FS_STAFF_PHONE_PASSWORD": "staff-secret-from-env", "FS_ESL_PASSWORD": "esl-from-env",
    "SIP_OUTBOUND_PASSWORD": "outbound-secret-from-env",
    "PROVIDER_CIDRS": "198.51.100.0/24",
}
DOC = preprocess(env=ENV).xml()
AGENT = re.compile(rf"sofia/external/sip:{re.escape(NUMBER)}@livekit-sip:\d+$")
dialled = st.one_of(
    st.text("0123456789", min_size=1, max_size=18),
    st.text("0123456789+*#", min_size=1, max_size=18),
    st.builds(lambda p, n: p + n, st.sampled_from(["+1", "1", "011", "00", "+44", "9", "*",
                                                   "+1900", "1900", "+", "#"]),
              st.text("0123456789", min_size=0, max_size=12)),
    st.sampled_from([NUMBER, NUMBER[1:], "5000", "1001", "1002", "911", "112", "0", "*97",
                     "sip:attacker@evil.example", "1002@phoneline.local", "5000;x=1"]),
    st.text(max_size=30),
)
caller_ids = st.one_of(st.just("+16175550199"), st.just(NUMBER), st.just("1002"),
                       st.text("0123456789+", max_size=15))


def bridges(context: str, number: str, caller: str = "+16175550199") -> list[str]:
    return [a.data for a in route(DOC, context, number, caller) if a.app == "bridge"]


def targets(data: str) -> list[str]:
    """The dial strings of a bridge (the part after any {...} or [...] variable block)."""
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", data)
    return [part.strip() for part in re.split(r"[,|]", bare) if part.strip()]


@settings(max_examples=600, deadline=None)
@given(number=dialled, caller=caller_ids)
def test_outside_callers_reach_only_the_agent(number, caller):
    for data in bridges("public", number, caller):
        assert all(AGENT.search(t) for t in targets(data)), (number, data)
    if number not in (NUMBER, NUMBER[1:]):
        assert bridges("public", number, caller) == [], number


@settings(max_examples=600, deadline=None)
@given(number=dialled)
def test_softphones_reach_only_the_agent_and_our_extensions(number):
    for data in bridges("default", number):
        for t in targets(data):
            assert AGENT.search(t) or re.fullmatch(r"user/100[12]@\S+", t), (number, t)
            assert "gateway" not in t


@settings(max_examples=300, deadline=None)
@given(number=dialled)
def test_agent_transfers_reach_only_the_staff_phone(number):
    for data in bridges("livekit_transfer", number):
        for t in targets(data):
            assert AGENT.search(t) or re.fullmatch(r"user/1002@\S+", t), (number, t)


# ---------------------------------------------------------------- LiveKit and compose


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_livekit_has_no_keys_in_files_and_no_dev_defaults():
    lk = yaml.safe_load((ROOT / "livekit-config.yaml").read_text())
    assert "keys" not in lk and "key_file" not in lk and not lk.get("development")
    sip = yaml.safe_load((ROOT / "livekit-sip-config.yaml").read_text())
    assert not sip.get("api_key") and not sip.get("api_secret")
    compose = _compose()
    text = (ROOT / "docker-compose.yml").read_text()
    # Every use of the LiveKit key or secret is required (`:?`), never defaulted (`:-`).
    uses = re.findall(r"\$\{(LIVEKIT_API_(?:KEY|SECRET))([^}]*)\}", text)
    assert uses and all(rest.startswith(":?") for _, rest in uses), uses
    for name, service in compose["services"].items():
        command = " ".join(map(str, service.get("command") or []))
        assert "--dev" not in command, name
    for path in [*ROOT.glob("*.yaml"), *ROOT.glob("*.yml"), ROOT / ".env.example",
                 *ROOT.glob("scripts/*.py"), *ROOT.glob("*.py"), *ROOT.glob("Dockerfile*")]:
        body = path.read_text().lower()
        assert "devkey" not in body, path  # livekit-server --dev's well-known key
        assert not re.search(r"^\s*\w+:\s*['\"]?secret['\"]?\s*$", body, re.MULTILINE), path


def test_env_example_leaves_every_secret_empty():
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    secrets = [k for k in values if re.search(r"KEY|SECRET|PASSWORD|TOKEN", k)
               and "VOICE" not in k]
    assert {"LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "OPENAI_API_KEY"} <= set(secrets)
    assert {k: values[k] for k in secrets if values[k]} == {}


def test_only_phones_and_livekit_media_are_published():
    services = _compose()["services"]
    published = {name: [str(p) for p in s.get("ports", [])] for name, s in services.items()}
    for name in ("redis", "livekit-sip", "agent", "setup"):
        assert published.get(name, []) == [], f"{name} must not be reachable from outside"
    assert all(p.startswith("127.0.0.1:") for p in published["firestore"]), "emulator: local"
    everything = " ".join(p for ports in published.values() for p in ports)
    for private in ("8021", "6379", "5080", "8081"):
        assert not re.search(rf"(^|[ :]){private}[:/]", everything), private


def test_sip_trunk_admits_freeswitch_only():
    env = {"RESTAURANT_NUMBERS": NUMBER, "FREESWITCH_ADDRESS": "172.30.57.10"}
    trunk = desired_trunk(setup_from_env(env))
    assert list(trunk.allowed_addresses) == ["172.30.57.10"]
    assert list(trunk.numbers) == [NUMBER]
    with pytest.raises(SystemExit, match="FREESWITCH_ADDRESS must say"):
        setup_from_env({"RESTAURANT_NUMBERS": NUMBER})
    for anywhere in ("0.0.0.0/0", "10.0.0.0/8", "::/0", "172.30.57.10, 0.0.0.0/1"):
        with pytest.raises(SystemExit, match="too wide"):
            setup_from_env({**env, "FREESWITCH_ADDRESS": anywhere})
    compose_setup = _compose()["services"]["setup"]["environment"]
    assert compose_setup["FREESWITCH_ADDRESS"] == "172.30.57.10"


# ---------------------------------------------------------------- payment cards


def test_nothing_asks_for_card_details():
    asks = re.compile(r"(ask|take|need|get|collect)\w*\s+(for\s+)?(the\s+|a\s+|their\s+)?"
                      r"(credit\s+|debit\s+|payment\s+)?card", re.IGNORECASE)
    for path in [*ROOT.glob("agents/*.py"), ROOT / "data" / "menu.yaml"]:
        for line in path.read_text().splitlines():
            if asks.search(line):
                assert re.search(r"never|no card|not", line, re.IGNORECASE), (path, line)
