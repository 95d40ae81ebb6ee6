"""The board gives way to the calls on a shared box.

The board and the worker run on the same small machine (compose, `make dev`). A sign-in
flood makes the board hash passwords, and every CPU-second it spends there is one the calls'
turns wait for. So the board runs at a lower CPU priority than the calls, in both of the
places Linux weighs it:

* its threads' nice (the main thread's, set before uvicorn starts, is inherited by every
  thread the board starts later: the event loop's executor, the hash queue);
* its session's autogroup, when the board leads its own session (compose's container, `make
  dev`, the benches): with `sched_autogroup` on, each session gets an equal share of the
  cores whatever its threads' nice, so the nice alone would not give way to the worker.

Raising a nice needs no privilege; nothing is changed where the kernel has no such knob."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

AUTOGROUP = Path("/proc/self/autogroup")


def give_way(nice: int) -> list[str]:
    """Lower this process's CPU priority to `nice` (0: unchanged); what changed, for the log."""
    done: list[str] = []
    if nice <= 0 or not hasattr(os, "setpriority"):
        return done
    with contextlib.suppress(OSError):
        # on Linux PRIO_PROCESS with 0 is the calling thread; threads made after inherit it
        os.setpriority(os.PRIO_PROCESS, 0, max(nice, os.getpriority(os.PRIO_PROCESS, 0)))
        done.append(f"nice {os.getpriority(os.PRIO_PROCESS, 0)}")
    if os.getsid(0) == os.getpid() and AUTOGROUP.exists():
        # the autogroup is the session's: only a session leader knows the session is its own
        with contextlib.suppress(OSError):
            AUTOGROUP.write_text(f"{nice}\n")
            done.append(AUTOGROUP.read_text().strip().replace("/", "", 1))
    return done
