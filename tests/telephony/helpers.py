"""Telephony test helpers: what a missing tool means here (skip locally, fail in CI)."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(ok: bool, what: str) -> None:
    """Skip when `what` is missing on a developer machine; in CI a skip would hide a broken
    setup (scripts/install_deps.sh installs all of it), so fail instead."""
    if ok:
        return
    message = f"{what} is missing (run `make deps` / scripts/install_deps.sh)"
    if in_ci():
        pytest.fail(f"CI: {message}")
    pytest.skip(message)


def require_tools(*names: str) -> None:
    for name in names:
        require(shutil.which(name) is not None, f"`{name}`")


async def forget_registrations(fs: Any, wait_s: float = 5.0) -> None:
    """Forget every phone registration of FreeSWITCH's internal profile, and wait until it has.

    A flush is queued SQL: issued while nothing is registered, it can run after the next
    REGISTER's row is written and delete it (seen: 1002 registered with a 200 OK, yet never
    reachable). So nothing registered, nothing flushed."""
    def registered() -> bool:
        return "@" in fs.api("sofia status profile internal reg").split("Registrations:", 1)[-1]

    if not registered():
        return
    fs.api("sofia profile internal flush_inbound_reg")
    deadline = time.monotonic() + wait_s
    while registered():
        assert time.monotonic() < deadline, "registrations never flushed"
        await asyncio.sleep(0.1)


def fs_of(stack: Any) -> Any:
    """The FreeSWITCH a test stack (scripts/devstack.Stack) started."""
    assert stack.freeswitch is not None
    return stack.freeswitch


def internal_sip(stack: Any) -> str:
    """Where the stack's phones (1001, 1002) reach FreeSWITCH's internal profile."""
    return f"127.0.0.1:{stack.options.ports.freeswitch.internal_sip}"


def livekit_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real LiveKit server with its redis and no SIP, worker or menu: the body of a
    module's `livekit_server` fixture (`yield from livekit_only(tmp_path_factory)`)."""
    from scripts.devstack import Ports, Stack, StackError, StackOptions, find_binary

    require_tools("redis-server")
    try:
        find_binary("LIVEKIT_SERVER_BIN", "livekit-server", "server")
    except StackError:
        require(False, "`livekit-server` (built by scripts/install_deps.sh)")
    workdir: Path = tmp_path_factory.mktemp("livekit")
    stack = Stack(StackOptions(ports=Ports.ephemeral(), workdir=workdir, worker=None,
                               seed_menu=False))
    try:
        stack.start_redis()
        stack.start_livekit()
        yield stack
    finally:
        stack.stop()
