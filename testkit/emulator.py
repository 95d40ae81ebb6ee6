"""Start, stop and reset a local Firestore emulator: for the tests, the benchmarks and
`scripts/devstack.py` (which runs the same `command` under its own process supervision).

The emulator is a Java process; it is started in its own process group so stopping it also
stops anything it spawned, even when a test fails half-way.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

EMULATOR_JAR = Path(
    os.environ.get(
        "FIRESTORE_EMULATOR_JAR",
        "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/"
        "cloud-firestore-emulator.jar",
    )
)
MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"


class EmulatorError(RuntimeError):
    pass


# Ports handed out by this process: two stacks in one test run never get the same one, even
# before the first has bound it.
_HANDED_OUT: set[int] = set()
# Below the kernel's ephemeral range (32768-60999 by default), where every outgoing connection
# takes its source port: a port picked there can be taken by a client socket before the server
# binds it (CI once lost FreeSWITCH's outbound SIP profile that way). The UDP media ranges of
# test stacks sit below 20000 (scripts/devstack.Ports.ephemeral), so they never meet these.
# `make test` runs two pytest processes side by side (scripts/test_shards.py): TEST_SHARD=k/n
# gives each its own slice of the pool and its own media ranges, so their stacks never meet.
_POOL = range(20000, 32700)


def shard() -> tuple[int, int]:
    """(k, n) from TEST_SHARD="k/n", k counted from 0; (0, 1) when unset."""
    raw = os.environ.get("TEST_SHARD", "0/1")
    try:
        k, n = (int(part) for part in raw.split("/"))
    except ValueError:
        raise EmulatorError(f"TEST_SHARD={raw!r} is not k/n") from None
    if not 0 <= k < n <= 3:
        raise EmulatorError(f"TEST_SHARD={raw!r}: k must be below n, and n at most 3")
    return k, n


def _pool_slice() -> range:
    k, n = shard()
    size = len(_POOL) // n
    return range(_POOL.start + k * size, _POOL.start + (k + 1) * size)


PORT_POOL = _pool_slice()
# A test stack's three UDP media ranges start here (scripts/devstack.Ports.ephemeral): 11000,
# 12000 and 13000 for the first shard, 3000 higher for each next one; all below the pool.
MEDIA_BASE = 11000 + 3000 * shard()[0]


def _local_port_range() -> range:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 61000)


def _bindable(port: int) -> bool:
    """Free for both TCP and UDP on 127.0.0.1 (SIP listens on both; TCP services lose nothing)."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port() -> int:
    """A loopback port free for TCP and UDP, outside the kernel's ephemeral range."""
    ephemeral = _local_port_range()
    candidates = [p for p in PORT_POOL if p not in ephemeral and p not in _HANDED_OUT]
    for port in random.sample(candidates, min(200, len(candidates))):
        if _bindable(port):
            _HANDED_OUT.add(port)
            return port
    raise EmulatorError(f"no free port in {PORT_POOL.start}-{PORT_POOL.stop - 1} on 127.0.0.1 "
                        f"outside the ephemeral range {ephemeral.start}-{ephemeral.stop - 1}")


def is_ready(host: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}/", timeout=timeout) as resp:
            return resp.read().strip() == b"Ok"
    except (OSError, urllib.error.URLError):
        return False


@dataclass
class Emulator:
    host: str  # "127.0.0.1:PORT"
    process: subprocess.Popen[bytes] | None  # None when reusing one started elsewhere
    log_path: Path | None = None
    extra_args: tuple[str, ...] = ()

    @property
    def port(self) -> int:
        return int(self.host.rsplit(":", 1)[1])

    def reset(self, project: str) -> None:
        """Delete every document of `project` (the emulator's own reset endpoint)."""
        url = f"http://{self.host}/emulator/v1/projects/{project}/databases/(default)/documents"
        req = urllib.request.Request(url, method="DELETE")
        with urllib.request.urlopen(req, timeout=10) as resp:
            if resp.status != 200:
                raise EmulatorError(f"reset failed: HTTP {resp.status}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def restart(self, timeout: float = 30.0) -> None:
        """Start again on the same port (data is gone: the emulator keeps it in memory)."""
        if self.process is not None:
            self.stop()
        fresh = start(port=self.port, timeout=timeout, log_path=self.log_path,
                      extra_args=self.extra_args)
        self.process = fresh.process


def command(port: int, extra_args: tuple[str, ...] = ()) -> list[str]:
    """The emulator's command line, listening on loopback only."""
    if not EMULATOR_JAR.exists():
        raise EmulatorError(f"Firestore emulator jar not found at {EMULATOR_JAR} "
                            "(set FIRESTORE_EMULATOR_JAR or FIRESTORE_EMULATOR_HOST)")
    return [
        "java", "-Duser.language=en", "-cp", str(EMULATOR_JAR), MAIN_CLASS,
        "start", "--host=127.0.0.1", f"--port={port}", *extra_args,
    ]


def start(
    port: int | None = None,
    timeout: float = 30.0,
    log_path: Path | None = None,
    extra_args: tuple[str, ...] = (),
) -> Emulator:
    port = port or free_port()
    host = f"127.0.0.1:{port}"
    cmd = command(port, extra_args)
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    if log is not subprocess.DEVNULL:
        log.close()  # the child has its own copy
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmulatorError(f"emulator exited with code {proc.returncode} (port {port})")
        if is_ready(host, timeout=0.5):
            return Emulator(host=host, process=proc, log_path=log_path, extra_args=extra_args)
        time.sleep(0.2)
    stop_process(proc)
    raise EmulatorError(f"emulator did not answer on {host} within {timeout:.0f}s")


def stop_process(proc: subprocess.Popen[bytes] | None, grace: float = 5.0) -> None:
    """Terminate the emulator's whole process group, then kill it if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=grace)
