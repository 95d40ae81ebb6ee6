"""freeswitch-config/, checked statically (test_freeswitch_calls.py runs it for real).

The config is preprocessed as FreeSWITCH does it (tests/telephony/fsconfig.py) and the
dialplan is walked for sample numbers: only the restaurant number and the internal
extension reach LiveKit SIP; the staff phone is reachable from inside only.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.telephony.fsconfig import BUILTINS, CONFIG_DIR, Action, preprocess, route

ROOT = CONFIG_DIR.parent
ENV = {
    "RESTAURANT_NUMBER": "+15550100",
    "LIVEKIT_SIP_HOST": "livekit-sip",
    "FS_EXTERNAL_IP": "203.0.113.7",
    "FS_DEV_PHONE_PASSWORD": "dev-secret-from-env",
    "FS_STAFF_PHONE_PASSWORD": "staff-secret-from-env",
    "FS_ESL_PASSWORD": "esl-secret-from-env",
    "PROVIDER_CIDRS": "198.51.100.0/24",
    "SIP_OUTBOUND_PASSWORD": "outbound-secret-from-env",
    "PROVIDER_OUTBOUND": "sip.provider.example:5060",
}
LIVEKIT_SIP_IP = "172.30.57.20"  # compose's fixed address for livekit-sip (the default ACL)
NUMBER = ENV["RESTAURANT_NUMBER"]


@pytest.fixture(scope="module")
def config():
    return preprocess(env=ENV)


@pytest.fixture(scope="module")
def doc(config) -> ET.Element:
    return config.xml()


def _all_files() -> list[Path]:
    return sorted(p for p in CONFIG_DIR.rglob("*") if p.is_file())


def _params(element: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in element.iter("param")}


def _profile(doc: ET.Element, name: str) -> dict[str, str]:
    profiles = [p for p in doc.iter("profile") if p.get("name") == name]
    assert len(profiles) == 1, f"sofia profile {name!r}"
    return _params(profiles[0].find("settings"))  # type: ignore[arg-type]


def _configuration(doc: ET.Element, name: str) -> ET.Element:
    found = [c for c in doc.iter("configuration") if c.get("name") == name]
    assert len(found) == 1, f"configuration {name!r}"
    return found[0]


def _livekit_sip_config() -> dict:
    return yaml.safe_load((ROOT / "livekit-sip-config.yaml").read_text())


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _range(text: str) -> tuple[int, int]:
    start, _, end = str(text).partition("-")
    return int(start), int(end or start)


# --- files and preprocessing ----------------------------------------------------------------


@pytest.mark.parametrize("path", _all_files(), ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_every_file_is_well_formed_xml(path: Path):
    ET.fromstring(path.read_text())


@pytest.mark.parametrize("path", _all_files(), ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_preprocessor_lines_are_safe(path: Path):
    """FreeSWITCH drops whole lines holding <include>/</include>/<?, and runs (or drops) any
    line mentioning X-PRE-PROCESS, even inside a comment."""
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if "<include>" in line or "</include>" in line:
            assert line.strip() in ("<include>", "</include>"), f"{path}:{n}: {line}"
        if "<?" in line:
            assert n == 1 and line.startswith("<?xml"), f"{path}:{n}: {line}"
        if "x-pre-process" in line.lower():
            assert re.match(r'^\s*<X-PRE-PROCESS cmd="[a-z-]+" data="[^"]*"/>\s*$', line), \
                f"{path}:{n}: X-PRE-PROCESS outside a directive line: {line}"


def test_preprocessed_config_parses_and_includes_everything(config, doc):
    assert doc.tag == "document"
    loaded = {p.resolve().relative_to(CONFIG_DIR).as_posix() for p in config.files}
    expected = {p.relative_to(CONFIG_DIR).as_posix() for p in _all_files()
                if p.suffix == ".xml"}
    assert loaded == expected, f"not loaded: {expected - loaded}; unexpected: {loaded - expected}"
    for name in ("modules.conf", "switch.conf", "sofia.conf", "event_socket.conf", "acl.conf"):
        _configuration(doc, name)


def test_every_variable_used_is_defined(config):
    assert not config.undefined, f"$${{...}} used but never set: {config.undefined}"


def test_disabled_provider_template_is_valid_and_its_variables_defined(config):
    template = CONFIG_DIR / "sip_profiles" / "external" / "provider.xml.disabled"
    assert template.exists()
    body = template.read_text()
    for name in re.findall(r"\$\$\{([^}]+)\}", body):
        assert name in config.variables, name
    lines = [ln for ln in body.splitlines() if ln.strip() not in ("<include>", "</include>")]
    gateway = ET.fromstring("\n".join(lines).split("-->", 1)[1])
    assert gateway.get("name") == "provider"
    assert _params(gateway)["password"] == "$${provider_password}"


def test_secrets_come_from_the_environment(config):
    for var, env in (("dev_phone_password", "FS_DEV_PHONE_PASSWORD"),
                     ("staff_phone_password", "FS_STAFF_PHONE_PASSWORD"),
                     ("esl_password", "FS_ESL_PASSWORD"),
                     ("provider_password", "PROVIDER_SIP_PASSWORD"),
                     ("outbound_password", "SIP_OUTBOUND_PASSWORD")):
        assert config.env_vars.get(var) == env, var
        assert var in config.exec_set, f"{var} needs a random default, not a fixed one"
    # without the environment, no secret is a guessable constant
    bare = preprocess(env={})
    for var in ("dev_phone_password", "staff_phone_password", "esl_password",
                "outbound_password"):
        assert bare.variables[var].startswith("<output of: cat /proc/sys/kernel/random/uuid")


def test_an_empty_environment_variable_means_the_default():
    """compose passes unset optional settings as "" (PROVIDER_SIP_PROXY: ${PROVIDER_SIP_PROXY:-});
    FreeSWITCH's env-set would copy that "" over the default, so every override is an
    exec-set of printenv, which leaves the default alone when it prints nothing."""
    defaults = preprocess(env={})
    assert not defaults.env_set, f"env-set copies an empty variable: {defaults.env_set}"
    every_var_empty = {env_var: "" for env_var in defaults.env_vars.values()}
    assert {"PROVIDER_SIP_PROXY", "PROVIDER_SIP_PASSWORD", "FS_EXTERNAL_IP", "FS_BIND_IP"} <= \
        set(every_var_empty)
    empty = preprocess(env=every_var_empty)
    for name in defaults.env_vars:
        assert empty.variables[name] == defaults.variables[name], name
        assert empty.variables[name], f"{name} has no default"
    assert empty.variables["provider_proxy"] == "sip.provider.invalid"
    assert empty.variables["provider_password"].startswith("<output of: cat /proc/sys/kernel")
    # and a value that is set does win
    assert preprocess(env={"PROVIDER_SIP_PROXY": "sip.example.net"}).variables[
        "provider_proxy"] == "sip.example.net"


def test_profiles_bind_to_the_bind_address(config):
    secrets = {k: v for k, v in ENV.items() if k.endswith("_PASSWORD")}
    cases = (({}, BUILTINS["local_ip_v4"]), ({"FS_BIND_IP": "127.0.0.1"}, "127.0.0.1"))
    for env, expected in cases:
        doc = preprocess(env={**secrets, **env}).xml()
        for name in ("internal", "external"):
            profile = _profile(doc, name)
            assert profile["sip-ip"] == profile["rtp-ip"] == expected, (env, name)
            # a test binding to loopback must not advertise the LAN address either
            assert profile["ext-sip-ip"] == profile["ext-rtp-ip"] == expected, (env, name)
    # compose's external address still wins over the bind address
    composed = _profile(config.xml(), "internal")
    assert composed["ext-sip-ip"] == ENV["FS_EXTERNAL_IP"]
    assert composed["sip-ip"] == BUILTINS["local_ip_v4"]


def test_media_timeouts_use_the_channel_variables(config, doc):
    """rtp-timeout-sec / rtp-hold-timeout-sec are deprecated (FreeSWITCH warns at start)."""
    for name in ("internal", "external"):
        profile = _profile(doc, name)
        assert "rtp-timeout-sec" not in profile and "rtp-hold-timeout-sec" not in profile
    assert int(config.variables["media_timeout"]) == 300_000  # ms
    assert int(config.variables["media_hold_timeout"]) == 1_800_000


def test_no_stock_password_anywhere():
    for path in _all_files():
        text = path.read_text().lower()
        assert "cluecon" not in text, path
        assert 'value="1234"' not in text, path


# --- SIP profiles ---------------------------------------------------------------------------


def test_softphones_must_register_and_authenticate_calls(doc):
    internal = _profile(doc, "internal")
    assert internal["auth-calls"] == "true"
    assert internal["accept-blind-reg"] == "false"
    assert internal["accept-blind-auth"] == "false"
    assert internal.get("disable-register", "false") == "false"
    assert internal["context"] == "default"
    users = {u.get("id"): _params(u) for u in doc.iter("user")}
    assert users["1001"]["password"] == ENV["FS_DEV_PHONE_PASSWORD"]
    assert users["1002"]["password"] == ENV["FS_STAFF_PHONE_PASSWORD"]
    domains = [d for d in doc.iter("domain") if d.find("params") is not None]
    assert sorted(d.get("name") for d in domains) == ["livekit-outbound.invalid", "phoneline.local"]
    # the phones' profile authenticates against the phones' domain only: the outbound
    # trunk's credentials are no good on 5060
    assert internal["force-register-domain"] == "phoneline.local"
    phones = next(d for d in domains if d.get("name") == "phoneline.local")
    domain_params = _params(phones.find("params"))  # type: ignore[arg-type]
    assert domain_params["allow-empty-password"] == "false"


def test_provider_profile_takes_new_calls_only_from_provider_addresses(doc):
    external = _profile(doc, "external")
    assert external["context"] == "public"
    assert external["apply-inbound-acl"] == "providers"
    assert external["disable-register"] == "true"
    lists = {lst.get("name"): lst for lst in doc.iter("list")}
    providers = lists["providers"]
    assert providers.get("default") == "deny"
    cidrs = [n.get("cidr") for n in providers.iter("node") if n.get("type") == "allow"]
    assert cidrs == [ENV["PROVIDER_CIDRS"]]
    default_only = preprocess(env={})
    assert default_only.variables["provider_cidrs"] == "192.0.2.1/32"  # TEST-NET: nobody


def test_media_is_never_late_offer_or_bypassed(doc, config):
    for name in ("internal", "external", "outbound"):
        profile = _profile(doc, name)
        assert profile["inbound-late-negotiation"] == "false", name
        assert profile.get("inbound-bypass-media", "false") == "false", name
        assert profile.get("inbound-proxy-media", "false") == "false", name
        assert profile["outbound-codec-prefs"].split(",")[0] in ("PCMU", "PCMA"), name
    forbidden = ("bypass_media=true", "proxy_media=true", "bypass_media_after_bridge",
                 "3pcc", "late-negotiation\" value=\"true")
    for path in _all_files():
        text = path.read_text()
        for word in forbidden:
            assert word not in text, f"{path}: {word}"


def test_event_socket_is_loopback_only_with_env_password(doc):
    esl = _params(_configuration(doc, "event_socket.conf"))
    assert ipaddress.ip_address(esl["listen-ip"]).is_loopback
    assert esl["password"] == ENV["FS_ESL_PASSWORD"]
    assert esl.get("apply-inbound-acl") == "loopback.auto"


def test_ports_do_not_collide_and_match_compose_and_livekit_sip(doc):
    internal, external = _profile(doc, "internal"), _profile(doc, "external")
    sip_conf = _livekit_sip_config()
    outbound = _profile(doc, "outbound")
    ports = {int(internal["sip-port"]), int(external["sip-port"]), int(sip_conf["sip_port"]),
             int(outbound["sip-port"])}
    assert ports == {5060, 5070, 5080, 5090}

    switch = _params(_configuration(doc, "switch.conf"))
    fs_rtp = (int(switch["rtp-start-port"]), int(switch["rtp-end-port"]))
    lk_sip_rtp = _range(sip_conf["rtp_port"])
    lk_conf = yaml.safe_load((ROOT / "livekit-config.yaml").read_text())["rtc"]
    lk_rtc = (lk_conf["port_range_start"], lk_conf["port_range_end"])
    ranges = sorted([fs_rtp, lk_sip_rtp, lk_rtc])
    for (_, a_end), (b_start, _) in itertools.pairwise(ranges):
        assert a_end < b_start, f"RTP ranges overlap: {ranges}"

    # FreeSWITCH allocates even RTP ports and rounds an odd end down: say what it uses
    assert fs_rtp[0] % 2 == 0 and fs_rtp[1] % 2 == 0, fs_rtp
    fs_service = _compose()["services"]["freeswitch"]
    published = [str(p) for p in fs_service["ports"]]
    udp_ranges = [p for p in published if "-" in p and p.endswith("/udp")]
    assert udp_ranges == [f"{fs_rtp[0]}-{fs_rtp[1]}:{fs_rtp[0]}-{fs_rtp[1]}/udp"], udp_ranges
    for port in (5060, 5070):
        assert f"{port}:{port}/udp" in published and f"{port}:{port}/tcp" in published
    # the outbound profile is for LiveKit SIP on compose's network only: never published
    assert not any("5090" in p for p in published), published
    assert fs_service["volumes"][0].startswith("./freeswitch-config:/etc/freeswitch")


# --- dialplan -------------------------------------------------------------------------------


def _outcome(actions: list[Action]) -> str:
    """What the call ends up doing: 'livekit', 'user/<ext>', 'rejected' or 'nothing'."""
    for a in actions:
        assert a.app not in ("socket", "sleep", "park"), f"{a.app} in the call path"
        if a.app == "bridge":
            if "sofia/external/sip:" in a.data and "@livekit-sip:" in a.data:
                return "livekit"
            if a.data.startswith("user/"):
                return a.data.split("@")[0]
            return f"bridge {a.data}"
        if a.app in ("respond", "hangup"):
            return "rejected"
    return "nothing"


def _livekit_bridge(actions: list[Action]) -> Action:
    bridges = [a for a in actions if a.app == "bridge"]
    assert bridges, actions
    return bridges[0]


@pytest.mark.parametrize(
    ("context", "number", "expected"),
    [
        ("public", NUMBER, "livekit"),
        ("public", NUMBER.lstrip("+"), "livekit"),
        ("public", "5000", "rejected"),
        ("public", "1002", "rejected"),
        ("public", "1001", "rejected"),
        ("public", "+15550101", "rejected"),
        ("public", "01144207946000", "rejected"),
        ("public", "9005551234", "rejected"),
        ("public", "+19005551234", "rejected"),
        ("default", "5000", "livekit"),
        ("default", NUMBER, "livekit"),
        ("default", "1002", "user/1002"),
        ("default", "1001", "user/1001"),
        ("default", "01144207946000", "rejected"),
        ("default", "011", "rejected"),
        ("default", "9005551234", "rejected"),
        ("default", "+19005551234", "rejected"),
        ("default", "50000", "rejected"),
        ("livekit_transfer", "1002", "user/1002"),
        ("livekit_transfer", "1001", "rejected"),
        ("livekit_transfer", "5000", "rejected"),
        ("livekit_transfer", NUMBER, "rejected"),
        ("livekit_transfer", "01144207946000", "rejected"),
    ],
)
def test_dialplan_routes(doc, context, number, expected):
    assert _outcome(route(doc, context, number)) == expected


@pytest.mark.parametrize(("context", "number"), [("public", NUMBER), ("default", "5000")])
def test_bridge_to_livekit_sip_keeps_the_number_the_caller_and_g711(doc, context, number):
    actions = route(doc, context, number)
    bridge = _livekit_bridge(actions)
    sip_port = _livekit_sip_config()["sip_port"]
    assert bridge.data.endswith(f"sofia/external/sip:{NUMBER}@livekit-sip:{sip_port}")
    assert "absolute_codec_string='PCMU,PCMA'" in bridge.data
    # the caller ID is not rewritten on the way (LiveKit SIP reads it from From)
    assert not any("caller_id" in a.data for a in actions if a.app in ("set", "export"))
    before = actions[: actions.index(bridge)]
    assert not any(a.app in ("answer", "sleep", "pre_answer", "playback") for a in before)
    sets = {a.data.partition("=")[0]: a.data.partition("=")[2] for a in before if a.app == "set"}
    # a REFER from the agent lands in the transfer context, never back in public/default
    assert sets["force_transfer_context"] == "livekit_transfer"


def test_staff_transfer_falls_back_to_the_agent(doc):
    actions = route(doc, "livekit_transfer", "1002")
    bridges = [a.data for a in actions if a.app == "bridge"]
    assert bridges[0].startswith("user/1002@")
    assert "@livekit-sip:" in bridges[1]
    # marked, so the agent greets the returning caller with a message offer (issue 10)
    assert "sip_h_X-Phoneline-Returned=staff-unavailable" in bridges[1]
    assert Action("set", "continue_on_fail=true") in actions


def test_staff_phone_is_unreachable_from_outside(doc):
    for number in ("1002", "+1002", "11002", "1002#"):
        assert _outcome(route(doc, "public", number)) == "rejected", number


def test_livekit_sip_host_follows_the_environment():
    other = preprocess(env={**ENV, "LIVEKIT_SIP_HOST": "127.0.0.1"}).xml()
    bridge = _livekit_bridge(route(other, "public", NUMBER))
    assert f"@127.0.0.1:{_livekit_sip_config()['sip_port']}" in bridge.data


# --- the agent's outbound trunk -------------------------------------------------------------

OUTBOUND_GLOBALS = ("provider_outbound", "outbound_international")


def _outbound(doc: ET.Element, config, number: str, *, network_addr: str = LIVEKIT_SIP_IP,
              **overrides: str) -> list[Action]:
    """route() in agent_outbound, with the globals the context reads at call time."""
    variables = {name: config.variables[name] for name in OUTBOUND_GLOBALS}
    variables.update(overrides)
    variables["network_addr"] = network_addr
    return route(doc, "agent_outbound", number, caller=NUMBER, variables=variables)


def test_outbound_profile_authenticates_every_call_in_a_domain_of_its_own(doc, config):
    outbound = _profile(doc, "outbound")
    assert outbound["context"] == "agent_outbound"
    assert outbound["auth-calls"] == "true"
    # an inbound ACL that matches lets a call in WITHOUT the password (mod_sofia): the source
    # address is checked in the dialplan instead, after authentication
    assert "apply-inbound-acl" not in outbound
    assert outbound["accept-blind-auth"] == "false" and outbound["disable-register"] == "true"
    domain = config.variables["outbound_domain"]
    assert outbound["force-register-domain"] == domain != config.variables["domain"]
    domains = {d.get("name"): d for d in doc.iter("domain") if d.find("params") is not None}
    users = {u.get("id"): _params(u) for u in domains[domain].iter("user")}
    assert users == {"livekit-outbound": {"password": ENV["SIP_OUTBOUND_PASSWORD"]}}
    variables = {v.get("name"): v.get("value") for v in domains[domain].iter("variable")}
    assert variables["user_context"] == "agent_outbound"
    # the phones' domain does not know the trunk's user, nor the trunk's domain the phones
    phones = {u.get("id") for u in domains[config.variables["domain"]].iter("user")}
    assert "livekit-outbound" not in phones and not {"1001", "1002"} & set(users)
    lists = {lst.get("name"): lst for lst in doc.iter("list")}
    assert lists["livekit_sip"].get("default") == "deny"
    assert [n.get("cidr") for n in lists["livekit_sip"].iter("node")] == [f"{LIVEKIT_SIP_IP}/32"]


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("1002", "user/1002"),
        ("+16175550123", "bridge +16175550123@sip.provider.example:5060"),  # Boston
        ("+12125550123", "bridge +12125550123@sip.provider.example:5060"),  # New York
        ("+13125550123", "bridge +13125550123@sip.provider.example:5060"),  # Chicago
        ("+17875550123", "rejected"),  # Puerto Rico: region PR, as domain/outbound_rules.py sees it
        ("+19005550123", "rejected"),  # premium rate
        ("+19765550123", "rejected"),  # premium (976)
        ("+18005550123", "rejected"),  # toll-free: nobody's phone
        ("+18885550123", "rejected"),
        ("+18095550123", "rejected"),  # Dominican Republic: +1, but international
        ("+18765550123", "rejected"),  # Jamaica
        ("+14165550123", "rejected"),  # Toronto
        ("+442079460000", "rejected"),  # London
        ("011442079460000", "rejected"),
        ("16175550123", "rejected"),  # not E.164
        ("+1617555012", "rejected"),
        ("+161755501234", "rejected"),
        ("+16171550123", "rejected"),  # exchange code cannot start with 1
        ("1001", "rejected"),
        ("5000", "rejected"),
        (NUMBER, "rejected"),
        ("", "rejected"),
    ],
)
def test_outbound_trunk_reaches_staff_and_us_guests_only(doc, config, number, expected):
    outcome = _outcome(_outbound(doc, config, number))
    assert outcome == (f"bridge {{absolute_codec_string='PCMU,PCMA'}}sofia/external/"
                       f"{expected.split(' ', 1)[1]}" if expected.startswith("bridge ")
                       else expected)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+442079460000", "bridge"),
        ("+18095550123", "bridge"),
        ("+14165550123", "bridge"),
        ("+16175550123", "bridge"),
        ("+19005550123", "rejected"),
        ("+19765550123", "rejected"),
        ("+18005550123", "rejected"),
        ("+0442079460000", "rejected"),
        ("1001", "rejected"),
    ],
)
def test_international_only_when_the_restaurant_enables_it(doc, config, number, expected):
    outcome = _outcome(_outbound(doc, config, number, outbound_international="true"))
    assert outcome.split(" ")[0] == expected, outcome


def test_outbound_env_switches_international_on():
    on = preprocess(env={**ENV, "OUTBOUND_INTERNATIONAL": "true"})
    assert on.variables["outbound_international"] == "true"
    assert preprocess(env=ENV).variables["outbound_international"] == "false"


@pytest.mark.parametrize("source", ["127.0.0.1", "172.30.57.10", "203.0.113.9", ""])
def test_outbound_trunk_credentials_from_elsewhere_are_refused(doc, config, source):
    for number in ("1002", "+16175550123"):
        actions = _outbound(doc, config, number, network_addr=source)
        assert actions == [Action("respond", "403 Forbidden")], (source, number, actions)


def test_guest_calls_carry_the_restaurants_number_and_g711(doc, config):
    actions = _outbound(doc, config, "+16175550123")
    sets = {a.data.partition("=")[0]: a.data.partition("=")[2] for a in actions if a.app == "set"}
    assert sets["effective_caller_id_number"] == NUMBER
    assert sets["hangup_after_bridge"] == "true" and sets["continue_on_fail"] == "false"


def test_guests_go_through_the_gateway_or_nowhere(doc, config):
    gateway = _outcome(_outbound(doc, config, "+16175550123", provider_outbound="gateway"))
    assert gateway.endswith("sofia/gateway/provider/+16175550123"), gateway
    for nowhere in ("none", "", "sip:evil@x", "host name"):
        actions = _outbound(doc, config, "+16175550123", provider_outbound=nowhere)
        assert _outcome(actions) == "rejected", (nowhere, actions)
    assert preprocess(env={}).variables["provider_outbound"] == "none"
    assert _outcome(_outbound(doc, config, "1002", provider_outbound="none")) == "user/1002"


@pytest.mark.parametrize("context", ["public", "default", "livekit_transfer"])
@pytest.mark.parametrize("number", ["+16175550123", "16175550123", "+442079460000", "1002#"])
def test_no_other_context_reaches_a_provider(doc, context, number):
    outcome = _outcome(route(doc, context, number))
    assert outcome in ("rejected", "nothing"), outcome
    text = ET.tostring(next(c for c in doc.iter("context") if c.get("name") == context),
                       encoding="unicode")
    assert "sofia/gateway/" not in text and "provider_outbound" not in text, context


def test_us_area_codes_match_phonenumbers():
    from scripts import dialable_area_codes

    assert dialable_area_codes.main(["--check"]) == 0
    codes = set(dialable_area_codes.us_area_codes())
    assert {"212", "617", "312"} <= codes
    assert not {"900", "976", "800", "888", "809", "876", "416", "604", "787"} & codes


def test_freeswitch_and_outbound_rules_agree_on_every_us_area_code(doc, config):
    """FreeSWITCH's gate and the queue's rules (domain/outbound_rules.py) let the same +1 numbers
    through, for every area code: neither is looser than the other."""
    from domain.outbound_rules import check_dialable
    from domain.refusal import Refusal

    disagree = []
    for npa in range(200, 1000):
        number = f"+1{npa}2345678"
        try:
            check_dialable(number, home_region="US", allow_international=False)
            rules = True
        except Refusal:
            rules = False
        gate = _outcome(_outbound(doc, config, number)).startswith("bridge")
        if rules != gate:
            disagree.append((number, rules, gate))
    assert not disagree, disagree
