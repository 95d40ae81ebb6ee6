"""docker-compose.yml, Dockerfile and the LiveKit configs, checked statically.

(`make compose-test`, scripts/compose_ci.py, runs the same file for real.)

Services, ports, mounted files and environment must agree with livekit-config.yaml,
livekit-sip-config.yaml and freeswitch-config/; secrets only ever come from `${VAR}`; startup
order is expressed with health checks the dependencies really have.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.telephony.fsconfig import preprocess

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
LIVEKIT = yaml.safe_load((ROOT / "livekit-config.yaml").read_text())
LIVEKIT_SIP = yaml.safe_load((ROOT / "livekit-sip-config.yaml").read_text())
SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL)", re.IGNORECASE)
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def _env(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}`, defaults nested as compose
    nests them (`${A:-${B}}`)."""
    out, i = [], 0
    while (start := value.find("${", i)) >= 0:
        out.append(value[i:start])
        depth, end = 0, start
        for end in range(start + 1, len(value)):
            depth += {"{": 1, "}": -1}.get(value[end], 0)
            if depth == 0:
                break
        m = re.fullmatch(r"([A-Z0-9_]+)(?:(:?[-?])(.*))?", value[start + 2:end], re.DOTALL)
        assert m, value
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            out.append(env[name])
        elif op in (":-", "-"):
            out.append(_interpolate(arg or "", env))
        else:
            raise KeyError(f"{name} is required: {arg}")
        i = end + 1
    out.append(value[i:])
    return "".join(out).replace("$$", "$")


def _ports(service: str) -> list[str]:
    return [str(p) for p in SERVICES[service].get("ports", [])]


def _range(text: str) -> tuple[int, int]:
    start, _, end = str(text).partition("-")
    return int(start), int(end or start)


def test_services_and_images():
    assert set(SERVICES) == {"redis", "livekit", "livekit-sip", "freeswitch", "firestore",
                             "setup", "agent", "call-watch", "seed-menu", "board", "dialer",
                             "webhooks", "caddy"}
    assert SERVICES["livekit"]["image"].startswith("livekit/livekit-server:v")
    assert SERVICES["livekit-sip"]["image"].startswith("livekit/sip:v")
    # our own FreeSWITCH image, built from the upstream sources by the native build's recipe
    assert SERVICES["freeswitch"]["image"] == "restaurant-phoneline/freeswitch:1.10.12"
    assert SERVICES["freeswitch"]["build"] == "docker/freeswitch"
    fs_dockerfile = (ROOT / "docker" / "freeswitch" / "Dockerfile").read_text()
    assert "build_freeswitch.sh" in fs_dockerfile
    assert re.findall(r"^USER (\S+)", fs_dockerfile, re.MULTILINE) == ["freeswitch"]
    assert "emulators" in SERVICES["firestore"]["image"]
    for name, svc in SERVICES.items():
        image = svc.get("image", "")
        assert not image.endswith(":latest"), f"{name}: pin the image version"
        assert "build" in svc or image, name
    assert SERVICES["seed-menu"]["profiles"] == ["tools"]
    # only for a restaurant with Twilio or Square (COMPOSE_PROFILES=webhooks)
    assert SERVICES["webhooks"]["profiles"] == ["webhooks"]


def test_mounted_files_exist_and_are_the_ones_the_images_read():
    for name, svc in SERVICES.items():
        for volume in svc.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"
    assert "./livekit-config.yaml:/etc/livekit.yaml:ro" in SERVICES["livekit"]["volumes"]
    assert SERVICES["livekit"]["command"] == ["--config", "/etc/livekit.yaml"]
    assert "./livekit-sip-config.yaml:/sip/config.yaml:ro" in SERVICES["livekit-sip"]["volumes"]
    assert "./freeswitch-config:/etc/freeswitch:ro" in SERVICES["freeswitch"]["volumes"]
    service_block = COMPOSE_TEXT.split("\n  freeswitch:\n", 1)[1].split("\n  firestore:", 1)[0]
    comments = " ".join(ln.strip() for ln in service_block.splitlines() if "#" in ln)
    assert "/etc/freeswitch" in comments, "say in a comment which path the FreeSWITCH image reads"


def test_livekit_ports_agree_with_its_config():
    rtc = LIVEKIT["rtc"]
    assert not _ports("livekit"), "LiveKit's API and media stay inside the compose network"
    exposed = [str(p) for p in SERVICES["livekit"]["expose"]]
    assert str(LIVEKIT["port"]) in exposed and str(rtc["tcp_port"]) in exposed
    assert f"{rtc['port_range_start']}-{rtc['port_range_end']}/udp" in exposed
    assert LIVEKIT["redis"]["address"] == LIVEKIT_SIP["redis"]["address"] == "redis:6379"
    assert "keys" not in LIVEKIT, "API keys belong in .env (LIVEKIT_KEYS), not the config"
    # calls must not be refused (and left ringing) at LiveKit's default 0.7 CPU load
    assert LIVEKIT["agents"]["target_load"] >= 0.9


def test_livekit_sip_agrees_with_its_config_and_livekit():
    svc = SERVICES["livekit-sip"]
    exposed = [str(p) for p in svc.get("expose", [])]
    assert f"{LIVEKIT_SIP['sip_port']}/udp" in exposed
    start, end = _range(LIVEKIT_SIP["rtp_port"])
    assert f"{start}-{end}/udp" in exposed
    assert not any(k in LIVEKIT_SIP for k in ("api_key", "api_secret")), "keys come from env"
    env = _env("livekit-sip")
    assert env["LIVEKIT_WS_URL"] == f"ws://livekit:{LIVEKIT['port']}"
    health = " ".join(svc["healthcheck"]["test"])
    assert f"/dev/tcp/127.0.0.1/{LIVEKIT_SIP['health_port']}" in health


def test_freeswitch_environment_covers_every_env_set_of_its_config():
    config = preprocess(env={})
    env = _env("freeswitch")
    # Overrides for running natively beside another instance (tests, `make dev`): compose
    # publishes the default ports and binds to the container's own address, so it must not
    # pass them.
    native_only = {"FS_BIND_IP", "FS_INTERNAL_SIP_PORT", "FS_EXTERNAL_SIP_PORT", "FS_ESL_PORT",
                   "FS_RTP_START_PORT", "FS_RTP_END_PORT", "LIVEKIT_SIP_PORT", "FS_LOGLEVEL",
                   "FS_OUTBOUND_SIP_PORT"}
    assert native_only <= set(config.env_vars.values())
    missing = sorted(set(config.env_vars.values()) - native_only - set(env))
    assert not missing, f"vars.xml reads {missing} but compose does not pass them"
    assert not native_only & set(env), native_only & set(env)
    assert env["LIVEKIT_SIP_HOST"] in SERVICES, "FreeSWITCH bridges to a compose service"
    assert config.variables["livekit_sip_port"] == str(LIVEKIT_SIP["sip_port"])
    assert config.variables["esl_listen_ip"] == "127.0.0.1"
    assert "8021" not in " ".join(_ports("freeswitch")), "the Event Socket is never published"


def test_trunk_allows_exactly_freeswitchs_fixed_address():
    subnet = ipaddress.ip_network(COMPOSE["networks"]["phoneline"]["ipam"]["config"][0]["subnet"])
    fs_ip = ipaddress.ip_address(SERVICES["freeswitch"]["networks"]["phoneline"]["ipv4_address"])
    assert fs_ip in subnet
    assert _env("setup")["FREESWITCH_ADDRESS"] == str(fs_ip)
    sip_ip = SERVICES["livekit-sip"]["networks"]["phoneline"]["ipv4_address"]
    assert ipaddress.ip_address(sip_ip) in subnet and sip_ip != str(fs_ip)


def test_outbound_trunk_and_freeswitch_agree():
    """setup_sip.py's outbound trunk dials FreeSWITCH's outbound profile with the password
    FreeSWITCH checks, and FreeSWITCH takes it only from livekit-sip's fixed address."""
    fs_ip = SERVICES["freeswitch"]["networks"]["phoneline"]["ipv4_address"]
    sip_ip = SERVICES["livekit-sip"]["networks"]["phoneline"]["ipv4_address"]
    setup, fs = _env("setup"), _env("freeswitch")
    config = preprocess(env={})
    assert setup["SIP_OUTBOUND_ADDRESS"] == f"{fs_ip}:{config.variables['outbound_sip_port']}"
    assert fs["LIVEKIT_SIP_CIDRS"] == f"{sip_ip}/32" == config.variables["livekit_sip_cidrs"]
    for var in ("SIP_OUTBOUND_USERNAME", "SIP_OUTBOUND_PASSWORD"):
        assert setup[var] == fs[var], var
    assert fs["SIP_OUTBOUND_PASSWORD"].startswith("${SIP_OUTBOUND_PASSWORD:?")  # required
    assert fs["PROVIDER_OUTBOUND"] == "${PROVIDER_OUTBOUND:-}"
    # the worker rings staff warm through the trunk setup_sip.py created, by the same name
    agent = _env("agent")
    assert agent["SIP_OUTBOUND_TRUNK_NAME"] == setup["SIP_OUTBOUND_TRUNK_NAME"]
    assert agent["STAFF_TRANSFER_TO"] == "${STAFF_TRANSFER_TO:-1002}"


def test_firestore_address_is_the_emulator_service():
    port = 8080
    assert not _ports("firestore"), "the database is never published"
    assert _env("firestore")["FIRESTORE_HOST_PORT"] == f"0.0.0.0:{port}"
    # the script that keeps its data (export on SIGTERM, import at start) is what it runs
    assert SERVICES["firestore"]["command"] == ["sh", "/opt/phoneline/run-emulator.sh"]
    assert "./docker/firestore/run-emulator.sh:/opt/phoneline/run-emulator.sh:ro" in \
        SERVICES["firestore"]["volumes"]
    assert _env("firestore")["FIRESTORE_DATA_DIR"] == "/data"
    # a crash loses at most this much of what staff changed (calls' records: nothing)
    assert _env("firestore")["FIRESTORE_CHECKPOINT_S"] == "${FIRESTORE_CHECKPOINT_S:-15}"
    assert _env("agent")["FIRESTORE_EMULATOR_EXPORT_DIR"] == "/data/exports"
    for name in ("setup", "agent", "seed-menu", "board", "dialer", "webhooks"):
        assert _env(name)["FIRESTORE_EMULATOR_HOST"] == f"firestore:{port}", name
    assert "firestore-data:/data" in SERVICES["firestore"]["volumes"]


def test_agent_and_setup_get_what_the_worker_reads():
    agent = _env("agent")
    for var in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "OPENAI_API_KEY",
                "OPENAI_BASE_URL", "OPENAI_MODEL", "DEEPGRAM_API_KEY", "DEEPGRAM_BASE_URL",
                "CARTESIA_API_KEY", "CARTESIA_BASE_URL", "CARTESIA_VOICE_ID",
                "FIRESTORE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT", "AGENT_NAME", "OUTBOX_PATH"):
        assert var in agent, var
    assert agent["LIVEKIT_URL"] == f"ws://livekit:{LIVEKIT['port']}"
    assert "command" not in SERVICES["agent"], "the image's CMD is `python main.py start`"
    setup = SERVICES["setup"]
    command = " ".join(setup["command"])
    assert "scripts/setup_sip.py" in command
    assert "scripts/seed_menu.py --if-empty data/menu.yaml" in command
    assert _env("setup")["AGENT_NAME"] == agent["AGENT_NAME"]
    for script in ("scripts/setup_sip.py",):
        assert (ROOT / script).exists()


def test_call_watch_reaches_livekit_and_the_workers_and_memory_is_bounded():
    watch = _env("call-watch")
    assert SERVICES["call-watch"]["command"] == ["python", "-m", "services.call_watch"]
    assert watch["LIVEKIT_URL"] == _env("agent")["LIVEKIT_URL"]
    assert watch["AGENT_NAME"] == _env("agent")["AGENT_NAME"]
    for var in ("LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "FIRESTORE_EMULATOR_HOST"):
        assert var in watch, var
    assert _env("agent")["WORKER_HEALTH_HOST"] == "hostname"  # reachable by container name
    for name in ("agent", "call-watch"):
        assert SERVICES[name].get("mem_limit"), f"{name}: no memory limit"
    assert "AGENT_JOB_MEMORY_LIMIT_MB" in _env("agent")


def test_no_secret_is_written_in_compose():
    for name in SERVICES:
        for var, value in _env(name).items():
            if SECRET_NAME.search(var) or var == "LIVEKIT_KEYS":
                rest = INTERPOLATION.sub("", value).replace(":", "").strip()
                assert rest == "", f"{name}.{var} must come from .env only: {value!r}"
                for m in INTERPOLATION.finditer(value):
                    assert m.group(2) != ":-" or not m.group(3), \
                        f"{name}.{var} has a default secret"
    # nothing that looks like a key anywhere in the file
    assert not re.search(r"(sk-[A-Za-z0-9]{10,}|API[A-Za-z0-9]{10,}|ClueCon)", COMPOSE_TEXT)


def test_required_variables_interpolate_from_a_dotenv():
    sample = {"LIVEKIT_API_KEY": "APIexample", "LIVEKIT_API_SECRET": "s" * 40,
              "RESTAURANT_NUMBER": "+15550100", "FS_EXTERNAL_IP": "203.0.113.7",
              "FS_DEV_PHONE_PASSWORD": "a", "FS_STAFF_PHONE_PASSWORD": "b",
              "FS_ESL_PASSWORD": "c", "SIP_OUTBOUND_PASSWORD": "p", "OPENAI_API_KEY": "o",
              "DEEPGRAM_API_KEY": "d",
              "CARTESIA_API_KEY": "k"}
    for name in SERVICES:
        for value in _env(name).values():
            _interpolate(value, sample)
    keys = _interpolate(_env("livekit")["LIVEKIT_KEYS"], sample)
    assert keys == f"APIexample: {'s' * 40}"
    with pytest.raises(KeyError):
        _interpolate(_env("freeswitch")["FS_ESL_PASSWORD"], {})


def test_start_order_uses_real_health_checks():
    for name, svc in SERVICES.items():
        depends = svc.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for target, spec in depends.items():
            condition = spec["condition"]
            assert target in SERVICES, f"{name} depends on unknown {target}"
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[target], f"{name} waits on {target}'s health"
            elif condition == "service_completed_successfully":
                assert SERVICES[target].get("restart", "no") == "no", target
            else:
                pytest.fail(f"{name} -> {target}: {condition} does not order startup")
    long_running = {"redis", "livekit", "livekit-sip", "freeswitch", "firestore", "agent"}
    for name in long_running:
        assert "healthcheck" in SERVICES[name], name
    order = {"livekit": {"redis"}, "livekit-sip": {"redis", "livekit"},
             "freeswitch": {"livekit-sip"}, "setup": {"livekit", "firestore"},
             "agent": {"livekit", "firestore", "setup"}}
    for name, needs in order.items():
        assert needs <= set(SERVICES[name]["depends_on"]), name


def test_dockerfile_runs_the_worker_as_a_non_root_user():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "RUN python main.py download-files" in text
    assert text.index("USER") < text.index("download-files"), "models cached for that user"
    assert 'CMD ["python", "main.py", "start"]' in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", ".git"):
        assert entry in ignored


def test_board_serves_over_https_through_caddy_after_the_menu_is_seeded():
    board = SERVICES["board"]
    env = _env("board")
    assert board["command"] == ["python", "-m", "services.board"]
    assert env["BOARD_HOST"] == "0.0.0.0" and env["BOARD_PORT"] == "8090"
    assert not board.get("ports"), "only caddy publishes the board"
    assert f"http://127.0.0.1:{env['BOARD_PORT']}/healthz" in " ".join(board["healthcheck"]["test"])
    assert board["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    # the board books against the worker's capacity: the same RESTAURANT_* overrides, if any
    overrides = {k for k in env if k.startswith("RESTAURANT_")}
    assert overrides == {k for k in _env("agent") if k.startswith("RESTAURANT_")}
    # no default account: the owner's password only ever comes from .env
    assert env["BOARD_OWNER_PASSWORD"] == "${BOARD_OWNER_PASSWORD:-}"
    # HTTPS by default: Secure `__Host-` cookies, writes only from the address tablets use
    assert env["BOARD_COOKIE_SECURE"] == "true"
    lan = {"FS_EXTERNAL_IP": "192.168.1.10"}
    assert _interpolate(env["BOARD_ORIGINS"], lan) == "https://192.168.1.10:443"
    assert _interpolate(env["BOARD_ORIGINS"], {**lan, "BOARD_ADDRESS": "board.lan"}) \
        == "https://board.lan:443"
    caddy = SERVICES["caddy"]
    # X-Forwarded-For is believed from caddy's fixed address only
    assert env["BOARD_TRUSTED_PROXY"] == caddy["networks"]["phoneline"]["ipv4_address"]
    assert _interpolate(_env("caddy")["BOARD_ADDRESS"], lan) == "192.168.1.10"
    assert _env("caddy")["BOARD_TLS"] == "${BOARD_TLS:-internal}"
    assert [_interpolate(p, {}) for p in _ports("caddy")] == ["443:443", "80:80"]
    assert caddy["depends_on"]["board"]["condition"] == "service_healthy"
    assert "./docker/caddy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    caddyfile = (ROOT / "docker" / "caddy" / "Caddyfile").read_text()
    assert "reverse_proxy {$BOARD_UPSTREAM:board:" + env["BOARD_PORT"] + "}" in caddyfile
    assert "tls {$BOARD_TLS:internal}" in caddyfile


def test_plain_http_for_the_board_only_when_the_user_opts_out():
    override = yaml.safe_load((ROOT / "docker" / "compose.board-http.yml").read_text())
    services = override["services"]
    assert services["caddy"]["profiles"], "the opt-out does not start caddy"
    board = services["board"]
    # nothing assumed: the user names the published address, the origins and the cookies
    for var in ("BOARD_COOKIE_SECURE", "BOARD_ORIGINS"):
        assert ":?" in board["environment"][var], var
    assert str(board["ports"][0]).startswith("${BOARD_PUBLISH:?")


def test_dialer_is_a_service_of_the_stack_not_a_cron_job():
    dialer = SERVICES["dialer"]
    env = _env("dialer")
    assert dialer["command"] == ["python", "-m", "services.dialer"]
    assert dialer["restart"] == "unless-stopped"
    assert env["LIVEKIT_URL"] == "ws://livekit:7880"
    assert env["AGENT_NAME"] == _env("agent")["AGENT_NAME"]  # dispatches the worker's agent
    assert dialer["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    # booking reminders by text leave from the dialer: the agent's Twilio account, and a text
    # outbox of its own on the agent's volume (one writer per outbox file)
    for var in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_BASE_URL"):
        assert env[var] == _env("agent")[var], var
    assert env["SMS_OUTBOX_PATH"].startswith("/app/var/")
    assert env["SMS_OUTBOX_PATH"] != _env("agent")["SMS_OUTBOX_PATH"]
    assert "agent-outbox:/app/var" in dialer["volumes"]


def test_webhooks_listen_where_the_healthcheck_and_the_port_say_with_what_they_check():
    """services/webhooks.py in compose: every variable it is given is one config.py reads,
    it listens on the port its health check and its published port use, and it gets the keys
    it checks Twilio's and Square's signatures with, and the URLs they sign."""
    from config import FirestoreSettings, SquareSettings, TwilioSettings

    hooks, env = SERVICES["webhooks"], _env("webhooks")
    assert hooks["command"] == ["python", "-m", "services.webhooks"]
    assert hooks["restart"] == "unless-stopped" and hooks.get("mem_limit")
    read = {f.upper() for cls in (TwilioSettings, SquareSettings, FirestoreSettings)
            for f in cls.model_fields}
    assert set(env) - {"GOOGLE_CLOUD_PROJECT", "FIRESTORE_EMULATOR_HOST"} <= read, \
        set(env) - read
    assert env["WEBHOOKS_HOST"] == "0.0.0.0"
    port = env["WEBHOOKS_PORT"]
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(hooks["healthcheck"]["test"])
    assert all(p.endswith(f":{port}") for p in _ports("webhooks"))
    for var in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WEBHOOK_URL",
                "SQUARE_WEBHOOK_SIGNATURE_KEY", "SQUARE_WEBHOOK_URL", "SQUARE_ACCESS_TOKEN",
                "SQUARE_LOCATION_ID", "SQUARE_ID_MAP_PATH"):
        assert env[var] == f"${{{var}:-}}", var  # from .env only, unset when not used
    assert hooks["depends_on"]["firestore"]["condition"] == "service_healthy"


def test_nothing_with_personal_data_is_published_and_logs_rotate():
    published = {name for name, svc in SERVICES.items() if svc.get("ports")}
    assert published == {"freeswitch", "caddy", "webhooks"}, published
    # the webhooks: on the host's loopback unless WEBHOOKS_PUBLISH says otherwise, for the
    # host's HTTPS reverse proxy (they have no TLS of their own)
    assert [_interpolate(p, {}) for p in _ports("webhooks")] == ["127.0.0.1:8091:8091"]
    for name, svc in SERVICES.items():
        options = svc["logging"]["options"]
        assert svc["logging"]["driver"] == "json-file", name
        assert options["max-size"] and int(options["max-file"]) <= 5, name


def test_the_agent_image_is_built_once_and_holds_the_runtime_only():
    built = {name for name, svc in SERVICES.items() if svc.get("build") == "."}
    assert built == {"setup", "agent", "call-watch", "board", "dialer", "seed-menu", "webhooks"}
    assert {SERVICES[name]["image"] for name in built} == {"restaurant-phoneline/agent:local"}
    ignored = (ROOT / ".dockerignore").read_text().split()
    for folder in ("tests", "fakes", "bench", "testkit", "docker", "docs"):
        assert folder in ignored, folder
    assert "scripts/*" in ignored and "!scripts/setup_sip.py" in ignored
    text = (ROOT / "Dockerfile").read_text()
    assert "COPY --chown" not in text, "the code is root's, read-only to the agent user"


def test_the_ci_override_only_publishes_on_loopback():
    override = yaml.safe_load((ROOT / "docker" / "compose.ci.yml").read_text()
                              .replace("!override", ""))
    for name, svc in override["services"].items():
        assert set(svc) <= {"ports", "build", "environment"}, \
            f"{name}: the CI run changes only ports/builds"
        # the one setting: FreeSWITCH's RTP range, to the few ports the run publishes
        assert set(svc.get("environment", {})) <= {"FS_RTP_START_PORT", "FS_RTP_END_PORT"}
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    fakes = yaml.safe_load((ROOT / "docker" / "compose.fakes.yml").read_text())["services"]
    # the providers' fakes: only the agent's three provider URLs change, to the fakes service
    assert set(fakes) == {"fakes", "agent"}
    assert set(fakes["agent"]) == {"environment", "depends_on"}
    assert set(fakes["agent"]["environment"]) == {
        "OPENAI_BASE_URL", "DEEPGRAM_BASE_URL", "CARTESIA_BASE_URL"}
    assert all(url.startswith("http://fakes:") for url in fakes["agent"]["environment"].values())
    assert "ports" not in fakes["fakes"]
