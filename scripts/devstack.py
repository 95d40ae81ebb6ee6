"""Run the whole phone line natively, without Docker: `make dev` and the SIP end-to-end tests.

Starts, in order and each waited for (bounded): redis-server, LiveKit server, LiveKit SIP,
FreeSWITCH (with freeswitch-config/, bound to the advertise address), the Firestore emulator,
optionally the fake AI providers, then seeds the demo menu when the database is empty, runs
scripts/setup_sip.py (trunk + dispatch rule) and starts the staff board
(http://127.0.0.1:8090), the worker and the outbound dialer (services/dialer.py). Ctrl-C (or
`Stack.stop()`) stops everything, each process group killed.

A softphone registers with FreeSWITCH as 1001 (password FS_DEV_PHONE_PASSWORD) at
<advertise ip>:5060 and dials 5000, as in production. LiveKit SIP also takes INVITEs directly
(`sip:<restaurant number>@<advertise ip>:5080`, from the addresses --allow admits).
Binaries come from scripts/install_deps.sh (~/.cache/phoneline/bin and
~/.cache/phoneline/freeswitch-1.10.12, or LIVEKIT_SERVER_BIN / LIVEKIT_SIP_BIN / FREESWITCH_BIN).

    python scripts/devstack.py                   # real providers from .env
    python scripts/devstack.py --fakes tests/telephony/softphone_order_call.yaml
                                                 # no provider keys: scripted fakes
    python scripts/devstack.py --advertise-ip 192.168.1.20 --allow 192.168.1.0/24
    python scripts/devstack.py --no-freeswitch   # LiveKit SIP only
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python scripts/devstack.py` puts scripts/ first, not the repo
    sys.path.insert(0, str(ROOT))

from config import DEFAULT_AGENT_NAME  # noqa: E402
from scripts.freeswitch import (  # noqa: E402
    FreeSwitch,
    FreeSwitchError,
    FreeSwitchOptions,
    FreeSwitchPorts,
)
from testkit import emulator  # noqa: E402
from testkit.clock import open_timezone  # noqa: E402
from testkit.emulator import MEDIA_BASE, free_port  # noqa: E402  (tests and bench import it from here)

BIN_DIR = Path(os.environ.get("PHONELINE_BIN_DIR", Path.home() / ".cache" / "phoneline" / "bin"))
DEFAULT_NUMBER = "+15550100"


class StackError(RuntimeError):
    pass


@dataclass(frozen=True)
class Ports:
    """Defaults match livekit-config.yaml / livekit-sip-config.yaml and docker-compose.yml."""

    redis: int = 6379
    livekit: int = 7880
    livekit_tcp: int = 7881
    livekit_udp: tuple[int, int] = (50000, 50199)
    sip: int = 5080
    sip_rtp: tuple[int, int] = (10000, 10199)
    sip_health: int = 8089
    firestore: int = 8686
    freeswitch: FreeSwitchPorts = field(default_factory=FreeSwitchPorts)

    @classmethod
    def ephemeral(cls) -> Ports:
        """Free TCP ports and UDP ranges away from the defaults, for tests beside `make dev`."""
        return cls(
            redis=free_port(), livekit=free_port(), livekit_tcp=free_port(),
            # UDP media ranges below the kernel's ephemeral range and below free_port's pool
            livekit_udp=(MEDIA_BASE, MEDIA_BASE + 99), sip=free_port(),
            sip_rtp=(MEDIA_BASE + 1000, MEDIA_BASE + 1099),
            sip_health=free_port(), firestore=free_port(),
            # free_port is free for TCP and UDP alike: SIP listens on both
            freeswitch=FreeSwitchPorts(internal_sip=free_port(),
                                       external_sip=free_port(),
                                       rtp=(MEDIA_BASE + 2000, MEDIA_BASE + 2098),
                                       esl=free_port(), outbound_sip=free_port()),
        )


def _env_tuple(name: str, default: str) -> tuple[str, ...]:
    raw = os.environ.get(name) or default
    return tuple(p.strip() for p in raw.split(",") if p.strip())


@dataclass
class StackOptions:
    ports: Ports = field(default_factory=Ports)
    workdir: Path | None = None  # configs and logs; a temporary directory when None
    api_key: str = ""  # generated when empty
    api_secret: str = ""
    numbers: tuple[str, ...] = ()  # RESTAURANT_NUMBERS, default +15550100
    allow: tuple[str, ...] = ("127.0.0.1",)  # addresses the trunk accepts INVITEs from
    advertise_ip: str = "127.0.0.1"  # address LiveKit SIP puts in SIP headers and SDP
    sip_listen_ip: str = "127.0.0.1"
    firestore_host: str | None = None  # reuse a running emulator instead of starting one
    project: str = ""  # GOOGLE_CLOUD_PROJECT, default demo-restaurant
    seed_menu: bool = True
    fakes_script: Path | None = None  # serve fake AI providers following this script
    tts_voice: str = "tone"
    worker: str | None = "start"  # `python main.py <worker>`; None: no worker
    board_port: int | None = None  # serve the staff board (`python -m services.board`) on this port
    worker_env: dict[str, str] = field(default_factory=dict)
    agent_name: str = ""
    log_to_console: bool = False
    watcher: bool = True  # the call watcher (services/call_watch.py): re-dispatch, apology, reaper
    # Take calls whatever the machine's CPU load (LiveKit SIP's health and INVITE check, the
    # worker's load threshold): for tests on a shared machine, where the load is not ours.
    ignore_load: bool = False
    freeswitch: bool = False  # run FreeSWITCH in front of LiveKit SIP
    provider_cidrs: str = ""  # who may call the restaurant number on FreeSWITCH's 5070
    dev_phone_password: str = ""  # 1001 and 1002; random when empty
    staff_phone_password: str = ""
    dialer: bool = True  # the outbound dialer (services/dialer.py), with a worker only
    dialer_env: dict[str, str] = field(default_factory=dict)
    # the LiveKit SIP outbound trunk's password on FreeSWITCH (random when empty), and where
    # FreeSWITCH dials guests' numbers (host:port of the provider; empty: nowhere)
    outbound_password: str = ""
    provider_outbound: str = ""

    def __post_init__(self) -> None:
        self.numbers = self.numbers or _env_tuple("RESTAURANT_NUMBERS", DEFAULT_NUMBER)
        self.project = self.project or os.environ.get("GOOGLE_CLOUD_PROJECT", "demo-restaurant")
        self.agent_name = self.agent_name or os.environ.get("AGENT_NAME", DEFAULT_AGENT_NAME)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def sample_restaurants() -> list[Path]:
    """data/*.yaml besides the default restaurant's menu.yaml, each seeded as its file stem."""
    return sorted(p for p in (ROOT / "data").glob("*.yaml") if p.name != "menu.yaml")


def find_binary(env_var: str, *names: str) -> Path:
    if os.environ.get(env_var):
        return Path(os.environ[env_var])
    for name in names:
        candidate = BIN_DIR / name
        if candidate.exists():
            return candidate
        found = shutil.which(name)
        if found:
            return Path(found)
    raise StackError(
        f"{names[0]} not found in {BIN_DIR} or PATH (set {env_var}, or run scripts/install_deps.sh)"
    )


def _tcp_port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def http_ok(url: str, expect: bytes | None = None, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read()
            return resp.status == 200 and (expect is None or body.strip() == expect)
    except (OSError, urllib.error.URLError):
        return False


def redis_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Stack:
    """The native stack. `with Stack(StackOptions(...)) as stack:` starts and always stops it."""

    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        o = self.options
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if o.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="phoneline-")
            o.workdir = Path(self._tmp.name)
        self.workdir: Path = o.workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.api_key = o.api_key or f"API{secrets.token_hex(6)}"
        self.api_secret = o.api_secret or secrets.token_urlsafe(36)
        self.procs: dict[str, Proc] = {}
        self.firestore_host = o.firestore_host or f"127.0.0.1:{o.ports.firestore}"
        self.fake_env: dict[str, str] = {}
        self.timeline: list[tuple[float, str]] = []
        self.freeswitch: FreeSwitch | None = None
        self.outbound_password = o.outbound_password or secrets.token_urlsafe(18)
        self.registered_at = 0.0
        self._status_count = -1
        self._status_since = 0.0

    # --- derived settings -------------------------------------------------------------------

    @property
    def livekit_url(self) -> str:
        return f"ws://127.0.0.1:{self.options.ports.livekit}"

    @property
    def livekit_http(self) -> str:
        return f"http://127.0.0.1:{self.options.ports.livekit}"

    @property
    def sip_uri(self) -> str:
        return f"sip:{self.options.numbers[0]}@{self.options.advertise_ip}:{self.options.ports.sip}"

    def livekit_config(self) -> dict[str, object]:
        p = self.options.ports
        return {
            "port": p.livekit,
            "bind_addresses": ["127.0.0.1"] if self.options.sip_listen_ip == "127.0.0.1" else [""],
            "rtc": {
                "tcp_port": p.livekit_tcp,
                "port_range_start": p.livekit_udp[0],
                "port_range_end": p.livekit_udp[1],
                "use_external_ip": False,
                "node_ip": "127.0.0.1",
                "enable_loopback_candidate": True,
                # only loopback candidates: everything of this stack runs on this machine
                "interfaces": {"includes": ["lo"]},
                "ips": {"includes": ["127.0.0.0/8"]},
            },
            "redis": {"address": f"127.0.0.1:{p.redis}"},
            "agents": {"target_load": 0.95},  # as livekit-config.yaml: see the comment there
            "keys": {self.api_key: self.api_secret},
            "logging": {"level": "info"},
        }

    def sip_config(self) -> dict[str, object]:
        p = self.options.ports
        return {
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "ws_url": self.livekit_url,
            "redis": {"address": f"127.0.0.1:{p.redis}"},
            "sip_port": p.sip,
            "rtp_port": f"{p.sip_rtp[0]}-{p.sip_rtp[1]}",
            "health_port": p.sip_health,
            "listen_ip": self.options.sip_listen_ip,
            "nat_1_to_1_ip": self.options.advertise_ip,
            "logging": {"level": "debug"},
        } | ({"max_cpu_utilization": 1.0} if self.options.ignore_load else {})

    def base_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "LIVEKIT_URL": self.livekit_url,
            "LIVEKIT_API_KEY": self.api_key,
            "LIVEKIT_API_SECRET": self.api_secret,
            "FIRESTORE_EMULATOR_HOST": self.firestore_host,
            "GOOGLE_CLOUD_PROJECT": self.options.project,
            "AGENT_NAME": self.options.agent_name,
            "RESTAURANT_NUMBERS": ",".join(self.options.numbers),
            # the trunk also answers every sample restaurant's own numbers
            "RESTAURANT_FILES": ",".join(str(p) for p in sample_restaurants()),
            "FREESWITCH_ADDRESS": ",".join(self.options.allow),
            "PYTHONUNBUFFERED": "1",
        })
        if self.options.freeswitch:  # the outbound trunk: LiveKit SIP -> FreeSWITCH
            env.update({
                "SIP_OUTBOUND_ADDRESS": f"{self.options.advertise_ip}:"
                                        f"{self.options.ports.freeswitch.outbound_sip}",
                "SIP_OUTBOUND_USERNAME": "livekit-outbound",
                "SIP_OUTBOUND_PASSWORD": self.outbound_password,
            })
        env.pop("FIREBASE_SERVICE_ACCOUNT_PATH", None)  # the emulator, never a real project
        return env

    def worker_env(self) -> dict[str, str]:
        env = self.base_env()
        env["OUTBOX_PATH"] = str(self.workdir / "outbox.jsonl")
        if self.options.ignore_load:
            # load = calls / 4, not CPU: LiveKit dispatches nothing to a worker reporting 1.0
            env["AGENT_MAX_CALLS"] = "4"
            env["AGENT_INIT_TIMEOUT_S"] = "60"  # a busy machine loads job processes slowly
        env.update(self.fake_env)
        env.update(self.options.worker_env)
        return env

    # --- process handling -------------------------------------------------------------------

    def mark(self, event: str) -> None:
        self.timeline.append((time.time(), event))

    def spawn(self, name: str, argv: list[str], *, env: Mapping[str, str] | None = None,
              cwd: Path | None = None) -> Proc:
        log_path = self.workdir / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = open(log_path, "ab")  # closed in _terminate
        popen = subprocess.Popen(
            argv, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None, cwd=str(cwd or ROOT),
            start_new_session=True,  # own process group: stop() kills children too
        )
        proc = Proc(name, popen, log_path, log_file)
        self.procs[name] = proc
        self.mark(f"spawned {name} (pid {popen.pid})")
        return proc

    def wait_until(self, proc: Proc | None, what: str, check: Callable[[], bool],
                   timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                self.mark(f"{what} ready")
                return
            if proc is not None and proc.popen.poll() is not None:
                raise StackError(f"{proc.name} exited with {proc.popen.returncode} before "
                                 f"{what} was ready; log {proc.log_path}:\n{proc.tail()}")
            time.sleep(0.2)
        tail = f"; log {proc.log_path}:\n{proc.tail()}" if proc else ""
        raise StackError(f"{what} not ready after {timeout:.0f}s{tail}")

    def log_contains(self, name: str, needle: str) -> bool:
        try:
            return needle in self.procs[name].log_path.read_text(errors="replace")
        except (KeyError, OSError):
            return False

    def _terminate(self, proc: Proc, grace: float = 10.0) -> None:
        if proc.popen.poll() is None:
            try:
                os.killpg(proc.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.popen.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of the group (children that ignored SIGTERM)
            os.killpg(proc.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        proc.log_file.close()

    # --- the components ---------------------------------------------------------------------

    def start_redis(self) -> None:
        port = self.options.ports.redis
        if redis_ok(port):
            raise StackError(f"something already answers on redis port {port}")
        data = self.workdir / "redis"
        data.mkdir(exist_ok=True)
        proc = self.spawn("redis", [
            find_binary("REDIS_SERVER_BIN", "redis-server").as_posix(), "--port", str(port),
            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(data),
        ])
        self.wait_until(proc, "redis", lambda: redis_ok(port), 20)

    def start_livekit(self) -> None:
        cfg = self.workdir / "livekit.yaml"
        cfg.write_text(yaml.safe_dump(self.livekit_config(), sort_keys=False))
        proc = self.spawn("livekit", [
            find_binary("LIVEKIT_SERVER_BIN", "livekit-server", "server").as_posix(),
            "--config", str(cfg),
        ])
        self.wait_until(proc, "livekit", lambda: http_ok(self.livekit_http + "/"), 40)

    def start_sip(self) -> None:
        cfg = self.workdir / "livekit-sip.yaml"
        cfg.write_text(yaml.safe_dump(self.sip_config(), sort_keys=False))
        proc = self.spawn("livekit-sip", [
            find_binary("LIVEKIT_SIP_BIN", "livekit-sip").as_posix(), "--config", str(cfg),
        ])
        health = f"http://127.0.0.1:{self.options.ports.sip_health}/"
        self.wait_until(proc, "livekit-sip", lambda: http_ok(health), 40)

    def start_freeswitch(self) -> None:
        o = self.options
        self.freeswitch = FreeSwitch(FreeSwitchOptions(
            workdir=self.workdir / "freeswitch",
            livekit_sip_host=o.advertise_ip if o.sip_listen_ip != "127.0.0.1" else "127.0.0.1",
            livekit_sip_port=o.ports.sip,
            restaurant_number=o.numbers[0],
            bind_ip=o.advertise_ip,
            provider_cidrs=o.provider_cidrs,
            # LiveKit SIP's outbound INVITEs come from its listen address
            livekit_sip_cidrs=("127.0.0.1/32" if o.sip_listen_ip == "127.0.0.1"
                               else f"{o.advertise_ip}/32"),
            outbound_password=self.outbound_password,
            provider_outbound=o.provider_outbound,
            ports=o.ports.freeswitch,
            dev_phone_password=o.dev_phone_password,
            staff_phone_password=o.staff_phone_password,
        ))
        self.mark("spawned freeswitch")
        try:
            self.freeswitch.start()
        except FreeSwitchError as e:
            raise StackError(str(e)) from e
        self.mark("freeswitch ready")

    def start_firestore(self) -> None:
        if self.options.firestore_host:
            self.wait_until(None, "firestore (external)",
                            lambda: http_ok(f"http://{self.firestore_host}/", b"Ok"), 30)
            return
        port = self.options.ports.firestore
        try:
            argv = emulator.command(port)
        except emulator.EmulatorError as e:
            raise StackError(str(e)) from None
        proc = self.spawn("firestore", argv)
        self.wait_until(proc, "firestore",
                        lambda: http_ok(f"http://127.0.0.1:{port}/", b"Ok"), 90)

    def start_fakes(self) -> None:
        script = self.options.fakes_script
        assert script is not None
        ready = self.workdir / "fakes.json"
        ready.unlink(missing_ok=True)
        proc = self.spawn("fakes", [
            sys.executable, "-m", "fakes", "--script", str(script), "--ready-file", str(ready),
            "--tts-voice", self.options.tts_voice,
        ], env=self.base_env())
        self.wait_until(proc, "fakes", ready.exists, 30)
        from fakes.server import FakeEndpoints

        self.fakes = FakeEndpoints.from_json(ready.read_text())
        self.fake_env = self.fakes.env()

    def run_step(self, name: str, argv: list[str], timeout: float) -> str:
        log_path = self.workdir / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(argv, cwd=str(ROOT), env=self.base_env(), timeout=timeout,
                                  capture_output=True, text=True, start_new_session=True)
        except subprocess.TimeoutExpired as e:
            raise StackError(f"{name} did not finish in {timeout:.0f}s") from e
        log_path.write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise StackError(f"{name} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        self.mark(f"{name} done")
        return done.stdout

    def seed_menu(self) -> str:
        """The demo café as `main`, and every other sample restaurant in data/ by its file name."""
        seed = ROOT / "scripts" / "seed_menu.py"
        menu = ROOT / "data" / "menu.yaml"
        if not (seed.exists() and menu.exists()):
            return "menu seeding skipped (scripts/seed_menu.py or data/menu.yaml missing)"
        out = self.run_step("seed-menu", [sys.executable, str(seed), "--if-empty", str(menu)], 120)
        for path in sample_restaurants():
            out += self.run_step(f"seed-{path.stem}", [
                sys.executable, str(seed), "--if-empty", str(path), "--restaurant", path.stem,
            ], 120)
        return out

    def setup_sip(self) -> str:
        return self.run_step("setup-sip", [sys.executable, str(ROOT / "scripts" / "setup_sip.py")],
                             90)

    @property
    def board_url(self) -> str:
        return f"http://127.0.0.1:{self.options.board_port}"

    def start_board(self) -> None:
        """The staff board on the same Firestore (first owner from BOARD_OWNER_* if set)."""
        env = self.base_env()
        env.update({"BOARD_HOST": "127.0.0.1", "BOARD_PORT": str(self.options.board_port),
                    "OUTBOX_PATH": str(self.workdir / "board-outbox.jsonl")})
        # the worker's RESTAURANT_* overrides (e.g. --open-now's zone): the board sees the
        # restaurant, its day and its hours as the calls do
        env.update({k: v for k, v in self.options.worker_env.items()
                    if k.startswith("RESTAURANT_")})
        proc = self.spawn("board", [sys.executable, "-m", "services.board"], env=env)
        self.wait_until(proc, "board", lambda: http_ok(self.board_url + "/healthz", b"ok"), 60)

    def start_worker(self, name: str = "worker") -> None:
        mode = self.options.worker
        assert mode is not None
        argv = [sys.executable, "main.py", mode]
        env = self.worker_env()
        # `start` serves the worker's health endpoint on a fixed port (8081): give it a free
        # one (AGENT_HTTP_PORT) so a test stack can run beside `make dev` or a benchmark.
        env.setdefault("AGENT_HTTP_PORT", str(free_port()))
        if name != "worker":  # a second worker of the same stack needs its own port
            env["AGENT_HTTP_PORT"] = str(free_port())
        supports_port = "AGENT_HTTP_PORT" in (ROOT / "main.py").read_text()
        if mode == "start" and not supports_port and not _tcp_port_free(8081):
            # the hidden --simulation flag is the only other way off port 8081 (it also
            # lifts the CPU load limit); better than a worker that cannot start at all
            argv.append("--simulation")
            self.mark("port 8081 busy: worker started with --simulation")
        proc = self.spawn(name, argv, env=env)
        self.wait_until(proc, f"{name} registered",
                        lambda: self.log_contains(name, "registered worker"), 120)
        self.registered_at = time.time()
        # In `start` mode a worker refuses jobs while the machine's CPU load is above its
        # threshold, and LiveKit does not offer a refused call again: the caller would hear
        # ringing until the INVITE times out. Right after start-up (two job processes loading
        # models) the load is high, so wait for the worker to settle as available.
        self.wait_until(proc, f"{name} available", lambda: self.worker_available(name=name), 120)

    def start_watcher(self) -> None:
        """The call watcher (services/call_watch.py): brings an agent back when a worker dies, ends
        calls no agent can take, marks calls no agent finished as crashed."""
        proc = self.spawn("call-watch", [sys.executable, "-m", "services.call_watch"],
                          env=self.worker_env())
        self.wait_until(proc, "call-watch", lambda: self.log_contains("call-watch",
                                                                      "call watch running"), 60)

    def worker_available(self, settle_s: float = 3.0, name: str = "worker") -> bool:
        """Registered, and its latest load report (if any) unchanged and "available" for
        `settle_s` seconds, at least 6 s after registration (the first report comes later)."""
        try:
            text = self.procs[name].log_path.read_text(errors="replace")
        except (KeyError, OSError):
            return False
        if "registered worker" not in text:
            return False
        statuses = [line for line in text.splitlines()
                    if "marking as unavailable" in line or "marking as available" in line]
        available = not statuses or "marking as available" in statuses[-1]
        now = time.time()
        if len(statuses) != self._status_count:
            self._status_count, self._status_since = len(statuses), now
        warmed = now - self.registered_at >= 6.0
        return available and warmed and now - self._status_since >= settle_s

    def start_dialer(self, name: str = "dialer", **env: str) -> Proc:
        """The outbound dialer (services/dialer.py) on this stack's LiveKit and Firestore; tests
        start a second one (another `name` and DIALER_ID) to race it."""
        full = self.base_env()
        full.update(self.options.worker_env)  # the RESTAURANT_* overrides the worker reads
        full.update({"DIALER_ID": name, **self.options.dialer_env, **env})
        proc = self.spawn(name, [sys.executable, "-m", "services.dialer"], env=full)
        self.wait_until(proc, name, lambda: self.log_contains(name, "ready"), 60)
        return proc

    def start(self) -> Stack:
        try:
            self.start_redis()
            self.start_livekit()
            self.start_sip()
            if self.options.freeswitch:
                self.start_freeswitch()
            self.start_firestore()
            if self.options.fakes_script is not None:
                self.start_fakes()
            if self.options.seed_menu:
                self.seed_output = self.seed_menu()
            self.setup_output = self.setup_sip()
            if self.options.board_port:
                self.start_board()
            if self.options.worker:
                self.start_worker()
                if self.options.dialer:
                    self.start_dialer()
            if self.options.watcher:
                self.start_watcher()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.freeswitch is not None:
            self.freeswitch.stop()
            self.mark("stopped freeswitch")
        for name in reversed(list(self.procs)):
            self._terminate(self.procs[name])
            self.mark(f"stopped {name}")
        self.procs.clear()

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def password_source(self, name: str) -> str:
        return _password_source(self.options, name)

    def describe(self) -> str:
        o = self.options
        lines = [
            f"LiveKit        {self.livekit_url}  (key {self.api_key})",
            f"LiveKit SIP    udp/tcp {o.advertise_ip}:{o.ports.sip}, "
            f"RTP {o.ports.sip_rtp[0]}-{o.ports.sip_rtp[1]}",
            f"Firestore      {self.firestore_host}  (project {o.project})",
            f"logs           {self.workdir / 'logs'}",
            "",
        ]
        if self.freeswitch is not None:
            fs = o.ports.freeswitch
            lines += [
                f"FreeSWITCH     softphones {o.advertise_ip}:{fs.internal_sip} (UDP/TCP), "
                f"provider {o.advertise_ip}:{fs.external_sip}, RTP {fs.rtp[0]}-{fs.rtp[1]}",
                "",
                f"               the agent's outbound trunk {o.advertise_ip}:{fs.outbound_sip} "
                "(LiveKit SIP only; not for phones)",
                "",
                "Call the agent from a softphone (Zoiper) as in production: register as",
                f"  user 1001, domain {o.advertise_ip}:{fs.internal_sip}, password "
                f"{self.password_source('FS_DEV_PHONE_PASSWORD')}",
                f"  (staff phone: 1002, {self.password_source('FS_STAFF_PHONE_PASSWORD')}),",
                "  then dial 5000.",
                "Or skip FreeSWITCH and call LiveKit SIP directly (no registration):",
            ]
        else:
            lines.append("Call the agent from a softphone (no registration needed in this mode):")
        lines += [
            f"    {self.sip_uri}",
            f"  the trunk accepts calls from {', '.join(o.allow)} only (--allow to change).",
        ]
        if self.options.board_port:
            lines += [
                f"staff board    {self.board_url}  (sign in: BOARD_OWNER_USERNAME/"
                "BOARD_OWNER_PASSWORD from .env, or make an owner from another shell:",
                f"    FIRESTORE_EMULATOR_HOST={self.firestore_host} "
                f"GOOGLE_CLOUD_PROJECT={o.project} {sys.executable} -m services.board create-user "
                "NAME --owner)",
            ]
        if self.fake_env:
            lines.append(f"fake providers {self.fakes}")
        zone = o.worker_env.get("RESTAURANT_TIMEZONE")
        lines.append(f"opening hours  in the restaurant's time zone ({zone}, --open-now)" if zone
                     else "opening hours  in the restaurant's time zone (data/menu.yaml): "
                          "orders are refused when it is closed there (--open-now: open now)")
        return "\n".join(lines)


def _password_source(options: StackOptions, name: str) -> str:
    """Where the user finds a softphone password: .env, or the file devstack made it up in."""
    generated = options.workdir / "softphone-passwords.env" if options.workdir else None
    if not os.environ.get(name) and generated is not None and generated.exists():
        return f"{name} in {generated}"
    return f"{name} from .env"


def _softphone_passwords(options: StackOptions) -> None:
    """Softphone passwords come from .env; without them, make ones up and keep them in a
    file only the user can read (never on the terminal or in a log)."""
    missing = [name for name, value in (("FS_DEV_PHONE_PASSWORD", options.dev_phone_password),
                                        ("FS_STAFF_PHONE_PASSWORD", options.staff_phone_password))
               if not value]
    if not missing:
        return
    assert options.workdir is not None
    path = options.workdir / "softphone-passwords.env"
    options.workdir.mkdir(parents=True, exist_ok=True)
    known: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            known[key] = value
    for name in missing:
        known.setdefault(name, secrets.token_urlsafe(12))
    path.touch(mode=0o600)
    path.write_text("".join(f"{k}={v}\n" for k, v in known.items()))
    options.dev_phone_password = options.dev_phone_password or known["FS_DEV_PHONE_PASSWORD"]
    options.staff_phone_password = (options.staff_phone_password
                                    or known["FS_STAFF_PHONE_PASSWORD"])
    print(f"{', '.join(missing)} not set in .env: using the one(s) in {path}", flush=True)


@contextmanager
def running(options: StackOptions) -> Iterator[Stack]:
    stack = Stack(options)
    try:
        yield stack.start()
    finally:
        stack.stop()


def _options(args: argparse.Namespace) -> StackOptions:
    """The stack `main` starts, from its arguments and .env."""
    if (ROOT / ".env").exists():
        from dotenv import load_dotenv

        load_dotenv(ROOT / ".env", override=False)
    allow = tuple(a.strip() for a in args.allow.split(",") if a.strip()) or (args.advertise_ip,)
    return StackOptions(
        workdir=args.workdir,
        api_key=os.environ.get("LIVEKIT_API_KEY", ""),
        api_secret=os.environ.get("LIVEKIT_API_SECRET", ""),
        allow=allow,
        advertise_ip=args.advertise_ip,
        sip_listen_ip="127.0.0.1" if args.advertise_ip == "127.0.0.1" else "0.0.0.0",
        firestore_host=None,
        seed_menu=not args.no_seed,
        fakes_script=args.fakes,
        tts_voice=args.tts_voice,
        worker=args.worker or None,
        board_port=args.board_port or None,
        freeswitch=not args.no_freeswitch,
        ignore_load=args.ignore_load,
        provider_cidrs=os.environ.get("PROVIDER_CIDRS", ""),
        dev_phone_password=os.environ.get("FS_DEV_PHONE_PASSWORD", ""),
        staff_phone_password=os.environ.get("FS_STAFF_PHONE_PASSWORD", ""),
        outbound_password=os.environ.get("SIP_OUTBOUND_PASSWORD", ""),
        provider_outbound=os.environ.get("PROVIDER_OUTBOUND", ""),
        worker_env={"RESTAURANT_TIMEZONE": open_timezone()} if args.open_now else {},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fakes", type=Path, metavar="SCRIPT",
                        help="use the local fake AI providers following this conversation script")
    parser.add_argument("--tts-voice", choices=["tone", "espeak"], default="espeak")
    parser.add_argument("--worker", default="dev", help="main.py mode: dev or start ('' for none)")
    parser.add_argument("--advertise-ip", default=os.environ.get("SIP_ADVERTISE_IP", "127.0.0.1"),
                        help="IP a softphone reaches this machine at (default 127.0.0.1)")
    parser.add_argument("--allow", default=os.environ.get("DEV_SIP_ALLOW", ""),
                        help="comma-separated IPs/CIDRs the trunk accepts calls from "
                             "(default: the advertise IP)")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "devstack")
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--board-port", type=int, default=int(os.environ.get("BOARD_PORT") or 8090),
                        help="port of the staff board (default 8090; 0 = no board)")
    parser.add_argument("--ignore-load", action="store_true",
                        help="take calls even when the machine's CPU is busy (LiveKit SIP and "
                             "the worker otherwise refuse them above 90%%)")
    parser.add_argument("--open-now", action="store_true",
                        help="run the restaurant in a time zone where it is about noon now, so "
                             "it is open whatever your hour (outside its opening hours the "
                             "agent refuses every order, as on the real line)")
    parser.add_argument("--no-freeswitch", action="store_true",
                        help="do not start FreeSWITCH (softphones then call LiveKit SIP directly)")
    args = parser.parse_args(argv)

    options = _options(args)
    if options.freeswitch:
        _softphone_passwords(options)
    stack = Stack(options)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    # Started in the background (`... &`), a shell leaves SIGINT ignored and Python then installs
    # no handler: Ctrl-C / `kill -INT` would not stop the stack.
    signal.signal(signal.SIGINT, on_signal)
    try:
        stack.start()
        print(stack.describe(), flush=True)
        print("\nCtrl-C stops everything.", flush=True)
        while True:
            for proc in stack.procs.values():
                if proc.popen.poll() is not None:
                    print(f"{proc.name} exited ({proc.popen.returncode}); log {proc.log_path}:\n"
                          f"{proc.tail()}", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    except StackError as e:
        print(f"devstack: {e}", file=sys.stderr)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
