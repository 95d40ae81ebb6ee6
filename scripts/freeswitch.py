"""Run the real FreeSWITCH with freeswitch-config/, natively: for `make dev` and the tests.

The binary comes from scripts/build_freeswitch.sh (~/.cache/phoneline/freeswitch-1.10.12, or
FREESWITCH_BIN). Every setting the config reads from the environment is passed explicitly:
the SIP profiles and RTP bind to `bind_ip` (127.0.0.1 unless told otherwise, so a test never
sends a packet off loopback), ports can be moved off the defaults, and NAT discovery
(UPnP/NAT-PMP, which would send to the LAN) is off (-nonat).

FreeSWITCH's own log (mod_logfile) starts only once the XML is parsed; what comes before
(preprocessor and XML errors) goes to its stdout, kept here in `console.log` and quoted in
the error when start-up fails. FreeSWITCH also writes the preprocessed configuration, every
password in clear, to `<log>/freeswitch.xml.fsxml`: it is deleted as soon as FreeSWITCH is up
and again when it stops, and `redact()` masks the passwords in anything quoted from the logs.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "freeswitch-config"
FS_VERSION = "1.10.12"
FS_PREFIX = Path(os.environ.get(
    "PHONELINE_FREESWITCH_DIR", Path.home() / ".cache" / "phoneline" / f"freeswitch-{FS_VERSION}"))
FSXML = "freeswitch.xml.fsxml"
PASSWORD_PARAM = re.compile(r'(name="[\w-]*password"\s+value=")[^"]*', re.IGNORECASE)


class FreeSwitchError(RuntimeError):
    pass


def find_freeswitch() -> Path:
    """The freeswitch binary: FREESWITCH_BIN, else the one scripts/build_freeswitch.sh built."""
    explicit = os.environ.get("FREESWITCH_BIN")
    candidate = Path(explicit) if explicit else FS_PREFIX / "bin" / "freeswitch"
    if not candidate.is_file():
        raise FreeSwitchError(f"freeswitch not found at {candidate} (run scripts/install_deps.sh, "
                              "which builds it, or set FREESWITCH_BIN)")
    return candidate


@dataclass(frozen=True)
class FreeSwitchPorts:
    """Defaults: freeswitch-config/vars.xml and docker-compose.yml."""

    internal_sip: int = 5060
    external_sip: int = 5070
    rtp: tuple[int, int] = (16384, 16582)
    esl: int = 8021
    outbound_sip: int = 5090  # the agent's outbound trunk (LiveKit SIP) only


@dataclass
class FreeSwitchOptions:
    workdir: Path
    livekit_sip_host: str = "127.0.0.1"
    livekit_sip_port: int = 5080
    restaurant_number: str = "+15550100"
    bind_ip: str = "127.0.0.1"
    external_ip: str = ""  # address phones reach us at; the bind address when empty
    provider_cidrs: str = ""  # the config's default (a documentation address) when empty
    # outbound: LiveKit SIP's address(es), the trunk's digest credentials (random password
    # when empty), where guests' numbers are dialled (host:port, "gateway" or "" = nowhere)
    livekit_sip_cidrs: str = "127.0.0.1/32"
    outbound_username: str = "livekit-outbound"
    outbound_password: str = ""
    provider_outbound: str = ""
    outbound_international: bool = False
    ports: FreeSwitchPorts = field(default_factory=FreeSwitchPorts)
    dev_phone_password: str = ""  # random when empty
    staff_phone_password: str = ""
    esl_password: str = ""
    loglevel: str = "info"
    config_dir: Path = CONFIG_DIR
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dev_phone_password = self.dev_phone_password or secrets.token_urlsafe(18)
        self.staff_phone_password = self.staff_phone_password or secrets.token_urlsafe(18)
        self.esl_password = self.esl_password or secrets.token_urlsafe(18)
        self.outbound_password = self.outbound_password or secrets.token_urlsafe(18)

    def env(self) -> dict[str, str]:
        """The environment the config reads (vars.xml); nothing else is inherited but PATH."""
        p = self.ports
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "FS_BIND_IP": self.bind_ip,
            "FS_EXTERNAL_IP": self.external_ip or self.bind_ip,
            "FS_INTERNAL_SIP_PORT": str(p.internal_sip),
            "FS_EXTERNAL_SIP_PORT": str(p.external_sip),
            "FS_RTP_START_PORT": str(p.rtp[0]),
            "FS_RTP_END_PORT": str(p.rtp[1]),
            "FS_ESL_PORT": str(p.esl),
            "FS_ESL_PASSWORD": self.esl_password,
            "FS_DEV_PHONE_PASSWORD": self.dev_phone_password,
            "FS_STAFF_PHONE_PASSWORD": self.staff_phone_password,
            "RESTAURANT_NUMBER": self.restaurant_number,
            "LIVEKIT_SIP_HOST": self.livekit_sip_host,
            "LIVEKIT_SIP_PORT": str(self.livekit_sip_port),
            "PROVIDER_CIDRS": self.provider_cidrs,
            "FS_LOGLEVEL": self.loglevel,
            "FS_OUTBOUND_SIP_PORT": str(p.outbound_sip),
            "LIVEKIT_SIP_CIDRS": self.livekit_sip_cidrs,
            "SIP_OUTBOUND_USERNAME": self.outbound_username,
            "SIP_OUTBOUND_PASSWORD": self.outbound_password,
            "PROVIDER_OUTBOUND": self.provider_outbound,
            "OUTBOUND_INTERNATIONAL": "true" if self.outbound_international else "",
        }
        env.update(self.extra_env)
        return env

    def secrets(self) -> list[str]:
        return [self.dev_phone_password, self.staff_phone_password, self.esl_password,
                self.outbound_password]


class FreeSwitch:
    """One FreeSWITCH process with its own log/db/run directories under `workdir`."""

    def __init__(self, options: FreeSwitchOptions) -> None:
        self.options = options
        self.dirs = {name: options.workdir / name for name in ("log", "db", "run", "temp")}
        self.console_path = options.workdir / "console.log"
        self.popen: subprocess.Popen[bytes] | None = None
        self._console: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.dirs["log"] / "freeswitch.log"

    def argv(self) -> list[str]:
        d = self.dirs
        return [
            str(find_freeswitch()), "-nonat", "-nonatmap", "-nf", "-nc", "-nocal", "-nort",
            "-conf", str(self.options.config_dir), "-log", str(d["log"]), "-db", str(d["db"]),
            "-run", str(d["run"]), "-temp", str(d["temp"]),
        ]

    def start(self, timeout: float = 60.0) -> None:
        argv = self.argv()
        for path in self.dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        self._console = open(self.console_path, "ab")  # closed in stop()
        self.popen = subprocess.Popen(
            argv, stdout=self._console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=self.options.env(), cwd=str(self.options.workdir), start_new_session=True,
        )
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        finally:
            self.forget_fsxml()

    def wait_ready(self, timeout: float) -> None:
        """All three SIP profiles RUNNING, asked over the Event Socket."""
        assert self.popen is not None
        deadline = time.monotonic() + timeout
        status = ""
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise FreeSwitchError(f"freeswitch exited with {self.popen.returncode} while "
                                      f"starting:\n{self.startup_errors()}")
            try:
                status = self.api("sofia status", timeout=2.0)
            except OSError:
                status = ""
            running = re.findall(r"^\s*(internal|external|outbound)\s+profile\s+\S+\s+RUNNING",
                                 status, re.MULTILINE)
            if {"internal", "external", "outbound"} <= set(running):
                return
            time.sleep(0.3)
        raise FreeSwitchError(f"freeswitch: SIP profiles not RUNNING after {timeout:.0f}s;"
                              f" sofia status:\n{status}\n{self.startup_errors()}")

    def api(self, command: str, timeout: float = 5.0) -> str:
        """Run an API command over the Event Socket (loopback, password auth)."""
        return esl_api("127.0.0.1", self.options.ports.esl, self.options.esl_password, command,
                       timeout)

    def redact(self, text: str) -> str:
        for secret in self.options.secrets():
            text = text.replace(secret, "<redacted>")
        return PASSWORD_PARAM.sub(r"\1<redacted>", text)

    def _xml_error_context(self, console: str, around: int = 3) -> str:
        """FreeSWITCH names an XML error by its line in the preprocessed file: quote it."""
        m = re.search(r"error near line (\d+)", console)
        fsxml = self.dirs["log"] / FSXML
        if m is None or not fsxml.exists():
            return ""
        line = int(m.group(1))
        lines = fsxml.read_text(errors="replace").splitlines()
        start = max(line - 1 - around, 0)
        quoted = [f"{n:5d}{'>' if n == line else ' '} {text}"
                  for n, text in enumerate(lines[start : line + around], start + 1)]
        return (f"--- the preprocessed configuration around line {line} "
                "(passwords masked) ---\n" + self.redact("\n".join(quoted)))

    def startup_errors(self, lines: int = 40) -> str:
        """The console output (errors before mod_logfile, e.g. XML errors) and the log's tail."""
        parts = []
        for label, path in (("console", self.console_path), ("freeswitch.log", self.log_path)):
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            tail = "\n".join(text.splitlines()[-lines:])
            parts.append(f"--- {label} ({path}) ---\n{self.redact(tail)}")
            if path == self.console_path:
                parts.append(self._xml_error_context(text))
        return "\n".join(p for p in parts if p)

    def errors_logged(self) -> list[str]:
        """[ERR]/[CRIT]/[ALERT] lines from the console and the log (passwords masked)."""
        found = []
        for path in (self.console_path, self.log_path):
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            found += [self.redact(line) for line in text.splitlines()
                      if re.search(r"\[(ERR|CRIT|ALERT)\]", line)]
        return found

    def warnings_logged(self) -> list[str]:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [self.redact(line) for line in text.splitlines() if "[WARNING]" in line]

    def forget_fsxml(self) -> None:
        (self.dirs["log"] / FSXML).unlink(missing_ok=True)

    def stop(self, grace: float = 10.0) -> None:
        if self.popen is not None and self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(grace)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        if self._console is not None:
            self._console.close()
            self._console = None
        self.forget_fsxml()


def esl_api(host: str, port: int, password: str, command: str, timeout: float = 5.0) -> str:
    """One `api` command over FreeSWITCH's Event Socket (inbound mode); returns its body."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        reader = sock.makefile("rb")

        def message() -> tuple[dict[str, str], bytes]:
            headers: dict[str, str] = {}
            while True:
                line = reader.readline()
                if not line:
                    raise ConnectionError("event socket closed")
                line = line.rstrip(b"\r\n")
                if not line:
                    if headers:
                        break
                    continue
                key, _, value = line.decode().partition(":")
                headers[key.strip()] = value.strip()
            length = int(headers.get("Content-Length", "0"))
            return headers, reader.read(length) if length else b""

        headers, _ = message()
        if headers.get("Content-Type") != "auth/request":
            raise ConnectionError(f"unexpected event socket greeting {headers}")
        sock.sendall(f"auth {password}\n\n".encode())
        headers, _ = message()
        if not headers.get("Reply-Text", "").startswith("+OK"):
            raise PermissionError("event socket refused the password")
        sock.sendall(f"api {command}\n\n".encode())
        while True:
            headers, body = message()
            if headers.get("Content-Type") == "api/response":
                return body.decode(errors="replace")
