"""Test stacks' ports: a server port must not be one an outgoing connection can take first."""

from __future__ import annotations

import socket

from scripts.devstack import Ports
from testkit import emulator
from testkit.emulator import free_port


def _ranges(ports: Ports) -> list[range]:
    fs = ports.freeswitch
    return [range(a, b + 1) for a, b in (ports.livekit_udp, ports.sip_rtp, fs.rtp)]


def test_free_ports_are_outside_the_kernels_ephemeral_range_and_never_repeat() -> None:
    ephemeral = emulator._local_port_range()
    picked = [free_port() for _ in range(40)]
    assert len(set(picked)) == len(picked)
    assert not [p for p in picked if p in ephemeral]


def test_a_port_busy_for_udp_only_is_not_handed_out(monkeypatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        taken = busy.getsockname()[1]
        monkeypatch.setattr(emulator, "PORT_POOL", range(taken, taken + 1))
        monkeypatch.setattr(emulator, "_local_port_range", lambda: range(0))
        try:
            free_port()
        except emulator.EmulatorError as err:
            assert str(taken) in str(err)
        else:
            raise AssertionError(f"free_port handed out {taken}, which a UDP socket holds")


def test_a_test_stacks_media_ranges_avoid_the_ephemeral_range_and_the_tcp_pool() -> None:
    ephemeral = emulator._local_port_range()
    for media in _ranges(Ports.ephemeral()):
        assert media.stop <= ephemeral.start or media.start >= ephemeral.stop, media
        assert media.stop <= emulator.PORT_POOL.start, media


def test_the_two_halves_of_make_test_never_share_a_port_or_a_media_range() -> None:
    """scripts/test_shards.py runs two pytest processes at once, each with its own TEST_SHARD."""
    import json
    import os
    import subprocess
    import sys

    probe = ("import json; from scripts.devstack import Ports; from testkit import emulator; "
             "p = Ports.ephemeral(); fs = p.freeswitch; "
             "print(json.dumps([[emulator.PORT_POOL.start, emulator.PORT_POOL.stop], "
             "p.livekit_udp, p.sip_rtp, fs.rtp]))")
    seen: list[range] = []
    for shard in ("0/2", "1/2"):
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                             env=os.environ | {"TEST_SHARD": shard}, check=True).stdout
        pool, *media = json.loads(out)
        ranges = [range(pool[0], pool[1]), *(range(a, b + 1) for a, b in media)]
        for mine in ranges:
            for other in seen:
                assert not set(mine) & set(other), (shard, mine, other)
        seen += ranges
    assert len(seen) == 8
