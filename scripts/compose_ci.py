"""`docker compose up` with the project's own docker-compose.yml, for real: `make compose-test`.

What a restaurant runs, on this machine: starts dockerd if none runs (vfs storage, its data
root in ~/.cache/phoneline/docker so a second run reuses every layer), builds local stand-ins
for the public images under their real names and tags (docker/standins: no registry serves
images here), builds our images (FreeSWITCH from the vendored sources, the agent), brings the
stack up with docker/compose.ci.yml on top (published ports on 127.0.0.1 only), waits for every
health check and the one-shot setup, then checks it from outside as a phone and a tablet would:

  - FreeSWITCH answers SIP OPTIONS on the phones' port and refuses an unauthenticated INVITE
    (407) on it; the provider port (5070, ACL) refuses an INVITE from an address not listed;
  - the board answers over HTTPS through Caddy, its certificate verified against Caddy's CA
    root, and port 80 only redirects; the agent worker is healthy (registered with LiveKit);
  - a call (scripts/compose_call.py): a softphone registers as 1001 and dials 5000, the agent
    (its providers our fakes in the compose network, docker/compose.fakes.yml) takes an order,
    the order is in the database, the agent's BYE reaches the phone, the board shows the order;
    its timeline is printed;
  - the database keeps its data across `docker compose stop`/`start` (SIGTERM export).

Then `down -v` (volumes too) and, if this script started dockerd, stops it. Every step is
logged with its time since the start. Test traffic only goes to 127.0.0.1 and the compose
network this run creates.

Usage: python scripts/compose_ci.py [--keep-up] [--no-teardown-daemon]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python scripts/compose_ci.py` puts scripts/ first
    sys.path.insert(0, str(ROOT))

# run as a script, this module is __main__: scripts/compose_kills.py imports this same one
sys.modules.setdefault("scripts.compose_ci", sys.modules[__name__])

from scripts.compose_call import ComposedCall, place_call, timeline  # noqa: E402
from testkit.clock import open_timezone  # noqa: E402

CACHE = Path(os.environ.get("PHONELINE_CACHE", Path.home() / ".cache" / "phoneline"))
BIN = Path(os.environ.get("PHONELINE_BIN_DIR", CACHE / "bin"))
COMPOSE_VERSION = "v5.6.0"
PROJECT = "phoneline-ci"
STANDINS = {  # folder in docker/standins -> the image name and tag compose uses
    "redis": "redis:7-alpine",
    "livekit-server": "livekit/livekit-server:v1.13.5",
    "livekit-sip": "livekit/sip:v1.8.0",
    "firestore": "gcr.io/google.com/cloudsdktool/google-cloud-cli:emulators",
    "python": "python:3.11-slim",
    "caddy": "caddy:2.6.2",
}
BASE_IMAGE = "debian:bookworm-slim"
LONG_RUNNING = ("redis", "livekit", "livekit-sip", "freeswitch", "firestore", "agent",
                "call-watch", "board", "caddy", "dialer")
# the call's path first: the rows that matter most come first if a run is cut short
MID_CALL_ORDER = ("agent", "freeswitch", "livekit-sip", "livekit", "firestore", "redis",
                  "call-watch", "board", "caddy", "dialer")
FREESWITCH_IP = "172.30.57.10"  # docker-compose.yml gives FreeSWITCH this address
COMPOSE_GATEWAY = "172.30.57.1"  # this host on that network (docker-compose.yml's subnet)
CADDY_ROOT = "/data/caddy/pki/authorities/local/root.crt"  # the internal CA's root
RTP_PORTS = 16  # FreeSWITCH's RTP range in CI: 8 calls' worth, published on 127.0.0.1
T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[compose-ci +{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def run(*cmd: str | Path, check: bool = True, quiet: bool = False,
        env: dict[str, str] | None = None, timeout: float | None = None) -> str:
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                         timeout=timeout)
    if check and out.returncode != 0:
        tail = (out.stdout + out.stderr)[-4000:]
        raise SystemExit(f"[compose-ci] FAILED ({out.returncode}): {' '.join(map(str, cmd))}\n"
                         f"{tail}")
    if not quiet and out.stdout.strip():
        print(out.stdout.rstrip()[-2000:], flush=True)
    return out.stdout


def free_rtp_range() -> tuple[int, int]:
    """An even port and the RTP_PORTS after it, all free on 127.0.0.1 (UDP)."""
    for _ in range(200):
        start = random.randrange(20000, 30000, 2)
        socks = []
        try:
            for port in range(start, start + RTP_PORTS + 1):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return start, start + RTP_PORTS
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise SystemExit("[compose-ci] no free range of UDP ports for RTP")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.bind(("127.0.0.1", 0))
        port = tcp.getsockname()[1]
        udp.bind(("127.0.0.1", port))
        return port


# ---------------------------------------------------------------- the daemon and the tools


def docker_up() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


@contextmanager
def dockerd() -> Iterator[None]:
    """The running daemon, or one of ours (vfs, data root in the cache) stopped at the end."""
    if docker_up():
        log("dockerd already running: using it")
        yield
        return
    if not shutil.which("dockerd"):
        raise SystemExit("[compose-ci] dockerd not found: apt-get install docker.io "
                         "(scripts/install_deps.sh does)")
    data = CACHE / "docker"
    data.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="phoneline-dockerd-"))
    log_file = open(CACHE / "dockerd.log", "ab")
    proc = subprocess.Popen(
        ["dockerd", "--storage-driver", "vfs", "--data-root", str(data),
         "--exec-root", str(run_dir / "exec"), "--pidfile", str(run_dir / "dockerd.pid"),
         "-H", "unix:///var/run/docker.sock"],
        stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not docker_up():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"[compose-ci] dockerd did not start (see {CACHE}/dockerd.log)")
            time.sleep(0.5)
        log(f"started dockerd (vfs, data root {data})")
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(run_dir, ignore_errors=True)
        log("stopped the dockerd this run started")


def compose_plugin() -> None:
    """`docker compose` (v2): Docker's own plugin, or built once from the Go module proxy."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return
    binary = BIN / f"docker-compose-{COMPOSE_VERSION}"
    if not binary.exists():
        log(f"building the compose plugin {COMPOSE_VERSION} from the Go module proxy")
        out = run("go", "mod", "download", "-json",
                  f"github.com/docker/compose/v5@{COMPOSE_VERSION}", quiet=True,
                  env={**os.environ, "GOFLAGS": "-mod=mod"})
        src = json.loads(out)["Dir"]
        BIN.mkdir(parents=True, exist_ok=True)
        subprocess.run(["go", "build", "-trimpath", "-o", str(binary) + ".tmp", "./cmd"],
                       cwd=src, check=True,
                       env={**os.environ, "GOFLAGS": "-mod=readonly -buildvcs=false",
                            "CGO_ENABLED": "0"})
        Path(str(binary) + ".tmp").rename(binary)
    plugins = Path.home() / ".docker" / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "docker-compose"
    link.unlink(missing_ok=True)
    link.symlink_to(binary)


# ---------------------------------------------------------------- images


def image_exists(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name],
                          capture_output=True).returncode == 0


def base_image() -> None:
    """debian:bookworm-slim from mmdebstrap (cached as a tarball), when the daemon lacks it."""
    if image_exists(BASE_IMAGE):
        return
    tar = CACHE / "bookworm-minbase.tar"
    if not tar.exists():
        log("building the Debian base with mmdebstrap")
        # --format: the output name ends in .tmp, from which mmdebstrap would make a directory
        run("mmdebstrap", "--variant=minbase", "--mode=root", "--format=tar", "--quiet",
            "bookworm",
            f"{tar}.tmp", quiet=True)
        Path(f"{tar}.tmp").rename(tar)
    run("docker", "import", tar, BASE_IMAGE, quiet=True)
    log(f"imported {BASE_IMAGE}")


def standins() -> None:
    """The public images compose names, built here from Debian and our own builds."""
    folder = ROOT / "docker" / "standins"
    inputs = {
        "livekit-server": [(BIN / "livekit-server", "bin/livekit-server")],
        "livekit-sip": [(BIN / "livekit-sip", "bin/livekit-sip")],
        "firestore": [(Path(os.environ.get(
            "FIRESTORE_EMULATOR_JAR", "/usr/lib/google-cloud-sdk/platform/"
            "cloud-firestore-emulator/cloud-firestore-emulator.jar")),
            "emulator/cloud-firestore-emulator.jar")],
    }
    for name, tag in STANDINS.items():
        for source, target in inputs.get(name, []):
            dest = folder / name / target
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not source.exists():
                raise SystemExit(f"[compose-ci] {source} missing (make deps builds it)")
            if not dest.exists() or dest.stat().st_size != source.stat().st_size:
                shutil.copy2(source.resolve(), dest)
        run("docker", "build", "-q", "-t", tag, folder / name, quiet=True)
    log(f"stand-ins built: {', '.join(STANDINS.values())}")


def vendored_freeswitch() -> None:
    """The three tarballs in the FreeSWITCH image's context, so it builds offline."""
    target = ROOT / "docker" / "freeswitch" / "vendor"
    for parent in ROOT.parents:
        vendor = parent / "shared" / "vendor"
        if (vendor / "freeswitch-1.10.12.tar.xz").exists():
            for tarball in vendor.glob("*.tar.xz"):
                dest = target / tarball.name
                if not dest.exists():
                    try:
                        os.link(tarball, dest)
                    except OSError:
                        shutil.copy2(tarball, dest)
            return


def build_ca_cert() -> str:
    """The CA of this host's TLS-intercepting proxy, if any, for pip inside the build only."""
    certs = sorted(Path("/usr/local/share/ca-certificates").glob("*.crt"))
    return "\n".join(c.read_text().strip() for c in certs)


# ---------------------------------------------------------------- the stack


class Stack:
    def __init__(self, workdir: Path) -> None:
        self.ports = {name: free_port() for name in
                      ("CI_SIP_PORT", "CI_PROVIDER_SIP_PORT", "CI_FIRESTORE_PORT",
                       "CI_BOARD_PORT", "CI_BOARD_HTTP_PORT")}
        self.ports["CI_RTP_START"], self.ports["CI_RTP_END"] = free_rtp_range()
        self.workdir = workdir
        self.board_ca = workdir / "board-ca.crt"
        self.env_file = workdir / "ci.env"
        self.values = values = {
            "LIVEKIT_API_KEY": "APIci" + secrets.token_hex(6),
            "LIVEKIT_API_SECRET": secrets.token_urlsafe(32),
            # The address this host reaches FreeSWITCH at: its own on the compose network (a
            # LAN box's users set the box's LAN address). FreeSWITCH puts it in every Contact,
            # also the one LiveKit SIP sends its BYE to (127.0.0.1 there is LiveKit SIP itself)
            "RESTAURANT_NUMBER": "+15550100", "FS_EXTERNAL_IP": FREESWITCH_IP,
            "FS_DEV_PHONE_PASSWORD": secrets.token_urlsafe(12),
            "FS_STAFF_PHONE_PASSWORD": secrets.token_urlsafe(12),
            "FS_ESL_PASSWORD": secrets.token_urlsafe(12),
            "SIP_OUTBOUND_PASSWORD": secrets.token_urlsafe(12),
            # the providers are our fakes (docker/compose.fakes.yml), which take any key
            "OPENAI_API_KEY": "ci-fake", "DEEPGRAM_API_KEY": "ci-fake",
            "CARTESIA_API_KEY": "ci-fake",
            "BOARD_OWNER_USERNAME": "owner", "BOARD_OWNER_PASSWORD": secrets.token_urlsafe(12),
            # the board as tablets on this host reach it: https://127.0.0.1:<published port>
            "BOARD_ADDRESS": "127.0.0.1", "BOARD_HTTPS_PORT": str(self.ports["CI_BOARD_PORT"]),
            # the café is open whatever the hour of the run (a zone where it is about noon)
            "RESTAURANT_TIMEZONE": open_timezone(),
            **{k: str(v) for k, v in self.ports.items()},
        }
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        self.env = {**os.environ, "BUILD_CA_CERT": build_ca_cert()}

    def compose(self, *args: str, check: bool = True, quiet: bool = True,
                timeout: float | None = None) -> str:
        # One build at a time: the five Python services build the same image; in parallel
        # each would install the dependencies itself instead of reusing the first's layers.
        # Everything else in parallel (one at a time, `down` took 6 min under vfs).
        env = {**self.env, "COMPOSE_PARALLEL_LIMIT": "1"} if args[0] == "build" else self.env
        return run("docker", "compose", "-p", PROJECT, "--env-file", self.env_file,
                   "-f", ROOT / "docker-compose.yml", "-f", ROOT / "docker" / "compose.ci.yml",
                   "-f", ROOT / "docker" / "compose.fakes.yml",
                   *args, check=check, quiet=quiet, env=env, timeout=timeout)

    def states(self) -> dict[str, dict[str, str]]:
        out = self.compose("ps", "-a", "--format", "json")
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        if len(rows) == 1 and isinstance(rows[0], list):
            rows = rows[0]
        return {r["Service"]: r for r in rows}

    def wait_healthy(self, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            states = self.states()
            waiting = not_healthy(states)
            setup = states.get("setup", {})
            if setup.get("State") == "exited" and setup.get("ExitCode") not in (0, "0"):
                raise SystemExit(f"[compose-ci] setup failed:\n{self.compose('logs', 'setup')}")
            if not waiting and setup.get("State") == "exited":
                return
            if time.monotonic() > deadline:
                logs = self.compose("logs", "--tail", "40", *waiting, check=False)
                raise SystemExit(f"[compose-ci] not healthy in {timeout:.0f}s: {waiting}\n{logs}")
            time.sleep(2)


def not_healthy(states: dict[str, dict[str, str]]) -> list[str]:
    """The long-running services not healthy (call-watch and dialer, without a health check:
    not running)."""
    return [s for s in LONG_RUNNING
            if states.get(s, {}).get("Health", "") != "healthy"
            and not (s in ("call-watch", "dialer")
                     and states.get(s, {}).get("State") == "running")]


# ---------------------------------------------------------------- checks from outside


def sip_request(port: int, method: str, to: str, timeout: float = 5.0) -> int:
    """One SIP request over UDP to 127.0.0.1:port; the final (or first >= 200) status code."""
    call_id = uuid.uuid4().hex
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        local = sock.getsockname()[1]
        body = ("v=0\r\no=ci 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n") if method == "INVITE" else ""
        msg = (f"{method} sip:{to}@127.0.0.1:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{call_id[:12]};rport\r\n"
               f"Max-Forwards: 70\r\nFrom: <sip:ci@127.0.0.1>;tag={call_id[:8]}\r\n"
               f"To: <sip:{to}@127.0.0.1>\r\nCall-ID: {call_id}\r\nCSeq: 1 {method}\r\n"
               f"Contact: <sip:ci@127.0.0.1:{local}>\r\n"
               + ("Content-Type: application/sdp\r\n" if body else "")
               + f"Content-Length: {len(body)}\r\n\r\n{body}")
        sock.sendto(msg.encode(), ("127.0.0.1", port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = sock.recv(65535).decode(errors="replace")
            code = int(data.split(" ", 2)[1])
            if code >= 200:
                return code
        raise TimeoutError(f"no final answer to {method} on {port}")


def http_status(url: str, tls: ssl.SSLContext | None = None) -> int:
    with urllib.request.urlopen(url, timeout=5, context=tls) as resp:
        return resp.status


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def emulator_docs(port: int, collection: str) -> int:
    url = (f"http://127.0.0.1:{port}/v1/projects/demo-restaurant/databases/(default)/"
           f"documents/restaurants/main/{collection}?pageSize=300")
    with urllib.request.urlopen(url, timeout=5) as resp:
        return len(json.loads(resp.read()).get("documents", []))


def check_stack(stack: Stack) -> None:
    sip, provider = stack.ports["CI_SIP_PORT"], stack.ports["CI_PROVIDER_SIP_PORT"]
    code = sip_request(sip, "OPTIONS", "1001")
    assert code == 200, f"OPTIONS on the phones' port: {code}"
    log(f"FreeSWITCH: OPTIONS -> {code} on 127.0.0.1:{sip}")
    code = sip_request(sip, "INVITE", "5000")
    assert code in (401, 407), f"an unauthenticated INVITE was not refused: {code}"
    log(f"FreeSWITCH: unauthenticated INVITE to 5000 -> {code}")
    code = sip_request(provider, "INVITE", "+15550100")
    assert code >= 400, f"the provider port took an INVITE from outside its ACL: {code}"
    log(f"FreeSWITCH: INVITE on the provider port from an address not in PROVIDER_CIDRS -> {code}")
    check_board_https(stack)


def check_board_https(stack: Stack) -> None:
    """The board through Caddy: HTTPS verified against Caddy's own CA, port 80 redirects."""
    stack.compose("cp", f"caddy:{CADDY_ROOT}", str(stack.board_ca))
    board, plain = stack.ports["CI_BOARD_PORT"], stack.ports["CI_BOARD_HTTP_PORT"]
    tls = ssl.create_default_context(cafile=str(stack.board_ca))
    assert http_status(f"https://127.0.0.1:{board}/healthz", tls) == 200
    log(f"board: https://127.0.0.1:{board}/healthz -> 200, certificate of Caddy's internal CA "
        "for 127.0.0.1 verified")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"http://127.0.0.1:{plain}/orders", timeout=5)
        raise AssertionError("port 80 served the board over plain HTTP")
    except urllib.error.HTTPError as e:
        assert e.code == 308 and e.headers["location"].startswith("https://"), e.code
        log(f"board: http://127.0.0.1:{plain}/orders -> 308 to {e.headers['location']}")


def composed_call(stack: Stack, name: str) -> ComposedCall:
    return ComposedCall(
        sip_port=stack.ports["CI_SIP_PORT"], firestore_port=stack.ports["CI_FIRESTORE_PORT"],
        board_url=f"https://127.0.0.1:{stack.ports['CI_BOARD_PORT']}", board_ca=stack.board_ca,
        board_owner=(stack.values["BOARD_OWNER_USERNAME"], stack.values["BOARD_OWNER_PASSWORD"]),
        phone_password=stack.values["FS_DEV_PHONE_PASSWORD"], workdir=stack.workdir / name)


def check_call(stack: Stack, softphone: str = "sipp") -> None:
    """A softphone's order through the whole stack (scripts/compose_call.py), timed; with
    `softphone="baresip"` a real user agent places it (scripts/compose_baresip.py)."""
    call = composed_call(stack, "call")
    try:
        if softphone == "baresip":
            from scripts.compose_baresip import place_baresip_call
            # this host's address on the compose network (its gateway) to FreeSWITCH's
            events = place_baresip_call(call, COMPOSE_GATEWAY, f"{FREESWITCH_IP}:5060")
        else:
            events = place_call(call, stack.ports["CI_RTP_START"])
    except AssertionError:
        for service in ("freeswitch", "livekit-sip", "agent", "fakes", "board"):
            print(stack.compose("logs", "--tail", "30", service, check=False)[-4000:],
                  flush=True)
        raise
    log(f"a call through the composed stack ({softphone}), timeline (0 = the first INVITE):\n"
        + timeline(events))


def check_restart_keeps_data(stack: Stack) -> None:
    """`docker compose stop`/`start` of the database keeps the seeded menu (SIGTERM exports)."""
    port = stack.ports["CI_FIRESTORE_PORT"]
    before = emulator_docs(port, "menu_items")
    assert before > 0, "setup seeded no menu"
    started = time.monotonic()
    stack.compose("stop", "firestore")
    stopped = time.monotonic() - started
    stack.compose("start", "firestore")
    deadline = time.monotonic() + 120
    while True:
        try:
            after = emulator_docs(port, "menu_items")
            break
        except OSError:
            assert time.monotonic() < deadline, "the database did not come back"
            time.sleep(1)
    assert after == before, f"menu items before stop {before}, after start {after}"
    log(f"database: stop ({stopped:.1f}s) + start kept all {after} menu items")


def crash(stack: Stack, service: str) -> None:
    """SIGKILL to the container's PID 1 from the host: how a crash or the OOM killer ends it.
    (`docker kill` is a manual stop to Docker: `restart: unless-stopped` would not restart it.)"""
    pid = int(run("docker", "inspect", "-f", "{{.State.Pid}}", f"{PROJECT}-{service}-1",
                  quiet=True).strip() or 0)
    if pid <= 0:  # not running (os.kill(0) would kill this run's own process group)
        raise SystemExit(f"[compose-ci] {service} is not running: nothing to kill")
    os.kill(pid, signal.SIGKILL)


def database_records(stack: Stack) -> int:
    port = stack.ports["CI_FIRESTORE_PORT"]
    deadline = time.monotonic() + 120
    while True:
        try:
            return sum(emulator_docs(port, c) for c in ("menu_items", "orders", "reservations",
                                                        "messages"))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def kill_table(stack: Stack, out: Path) -> None:
    """Each long-running service SIGKILLed in turn between calls: back after how long, lost."""
    rows = []
    time.sleep(20)  # past the database's first checkpoint export (FIRESTORE_CHECKPOINT_S)
    for service in LONG_RUNNING:
        before = database_records(stack)
        started = time.monotonic()
        crash(stack, service)
        time.sleep(1)
        stack.wait_healthy(timeout=300)
        back = time.monotonic() - started
        restarts = {name: int(run("docker", "inspect", "-f", "{{.RestartCount}}",
                                  f"{PROJECT}-{name}-1", quiet=True).strip() or 0)
                    for name in LONG_RUNNING}
        lost = before - database_records(stack)
        rows.append((service, back, restarts[service], lost))
        log(f"kill {service}: every service healthy again after {back:.1f}s, lost {lost}")
    lines = ["| service SIGKILLed | back (all healthy) | restarted by | records lost |",
             "|---|---|---|---|"]
    lines += [f"| {name} | {back:.0f} s | restart: unless-stopped ({count}x) | {lost} |"
              for name, back, count, lost in rows]
    out.write_text("\n".join(lines) + "\n")
    log(f"kill table written to {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--keep-up", action="store_true", help="leave the stack running")
    parser.add_argument("--kill-table", type=Path, metavar="FILE",
                        help="also SIGKILL each service in turn and write the table here")
    parser.add_argument("--kill-table-mid-call", type=Path, metavar="FILE",
                        help="also SIGKILL each service in turn during a call, write the "
                             "table here (scripts/compose_kills.py)")
    parser.add_argument("--softphone", choices=("sipp", "baresip"), default="sipp",
                        help="who places the order call: SIPp, or a real softphone (baresip, "
                             "Debian's baresip-core)")
    parser.add_argument("--services", default=",".join(MID_CALL_ORDER),
                        help="the services --kill-table-mid-call kills, in this order")
    args = parser.parse_args()
    with dockerd(), tempfile.TemporaryDirectory(prefix="phoneline-compose-") as tmp:
        compose_plugin()
        base_image()
        standins()
        vendored_freeswitch()
        stack = Stack(Path(tmp))
        try:
            log("docker compose build (every image the file builds)")
            stack.compose("build", timeout=3600)
            log("docker compose up -d")
            stack.compose("up", "-d")
            stack.wait_healthy()
            log("every service healthy; setup exited 0")
            check_stack(stack)
            check_call(stack, args.softphone)
            check_restart_keeps_data(stack)
            if args.kill_table:
                kill_table(stack, args.kill_table)
            if args.kill_table_mid_call:
                from scripts.compose_kills import mid_call_table
                mid_call_table(stack, args.kill_table_mid_call, args.services.split(","))
            if args.keep_up:
                log(f"left up: docker compose -p {PROJECT} --env-file {stack.env_file} ...")
                input("press Enter to tear down ")
        finally:
            started = time.monotonic()
            stack.compose("down", "-v", "--remove-orphans", "--timeout", "30", check=False)
            log(f"down -v in {time.monotonic() - started:.1f}s")
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
