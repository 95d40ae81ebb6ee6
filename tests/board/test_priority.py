"""The board gives way to the calls: a sign-in flood makes it hash passwords on the cores the
calls' turns need, so the board process runs below them (services/board/priority.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from tests.board.conftest import BoardServer

ROOT = Path(__file__).resolve().parents[2]


def _nice_of_threads(pid: int) -> list[int]:
    nices = []
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        fields = stat.read_text().rsplit(")", 1)[1].split()
        nices.append(int(fields[16]))  # field 19 of proc(5), counted after "pid (comm)"
    return nices


def _autogroup_nice(pid: int) -> str | None:
    """The nice of the process's session autogroup; None where there is none: no sched_autogroup,
    or a session that never left the boot-time group (the file reads empty, as under a container's
    init that never called setsid)."""
    autogroup = Path(f"/proc/{pid}/autogroup")
    words = autogroup.read_text().split() if autogroup.exists() else []
    return words[-1] if words else None


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="Linux /proc")
async def test_the_running_board_and_its_hashing_sit_below_the_calls(board_server: BoardServer):
    async with httpx.AsyncClient(base_url=board_server.url) as client:
        form = await client.get("/login")
        csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
        # an unknown name is hashed like a wrong password: the board starts its hashing thread
        answer = await client.post("/login", data={
            "username": "nobody-here", "password": "wrong-password", "csrf": csrf})
        assert "error=wrong" in answer.headers["location"]
    nices = _nice_of_threads(board_server.process.pid)
    assert min(nices) >= 10, nices  # every thread: the loop, the executor, uvicorn's
    assert max(nices) == 19, nices  # the password hashing thread lowest of all
    # started in its own session, as compose and `make dev` start it: the session below too
    assert _autogroup_nice(board_server.process.pid) in ("10", None)


@pytest.mark.parametrize("own_session", [True, False])
def test_the_session_is_lowered_only_when_it_is_the_boards_own(own_session: bool):
    """A board started from someone's shell (sharing the session, and so the autogroup, with
    whatever else that shell runs: the worker, say) lowers only its own threads."""
    code = textwrap.dedent("""
        import os, sys
        from pathlib import Path
        from services.board.priority import give_way
        def group():  # empty in the boot-time autogroup (a container whose init never setsid)
            return (Path("/proc/self/autogroup").read_text().split() or ["-"])[-1]
        before = group()
        done = give_way(7)
        after = group()
        print(os.getpriority(os.PRIO_PROCESS, 0), before, after, len(done))
    """)
    if not Path("/proc/self/autogroup").exists():
        pytest.skip("no sched_autogroup in this kernel")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         start_new_session=own_session, check=True).stdout.split()
    nice, changes = int(out[0]), int(out[3])
    before, after = out[1], out[2]
    # never raised back: a board started below 7 (make test's second half runs at nice 10)
    # stays where it was
    assert nice == max(7, os.getpriority(os.PRIO_PROCESS, 0))
    assert after == ("7" if own_session else before)
    assert changes == (2 if own_session else 1)


def test_a_board_told_not_to_give_way_changes_nothing():
    code = ("import os; from services.board.priority import give_way; "
            "print(give_way(0), os.getpriority(os.PRIO_PROCESS, 0))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         start_new_session=True, check=True).stdout.split()
    assert out == ["[]", str(os.getpriority(os.PRIO_PROCESS, 0))]  # as it was started
