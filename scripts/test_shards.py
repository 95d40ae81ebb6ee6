"""`make test`'s pytest run: the suite as two pytest processes side by side, so CI's wall time is
the longer half rather than the sum.

Most of the call tests' time is real time: a caller's audio is played at the speed it is spoken
and the agent's answers are waited for. Their two cores sit half idle meanwhile, which the rest of
the suite (unit, board and reliability tests, CPU-bound) fills. The call tests run at normal
priority; the rest at nice 10, so a call under test gets the CPU when it needs it and its timings
mean what they meant when the tests ran one by one.

Each process gets TEST_SHARD=k/2: its own slice of the port pool and its own UDP media ranges
(testkit/emulator.py), and its own Firestore emulator. Output is streamed line by line with the
half's name in front; the exit code is non-zero when either half fails.

    python scripts/test_shards.py            # what `make test` runs
    python scripts/test_shards.py -x -k sip  # extra arguments go to both halves
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Real-time tests: a stack with a worker whose calls are timed (the call tests, and the worker
# drain, whose worker reports its CPU load to LiveKit and must not be starved by the other half).
CALLS = ("tests/telephony", "tests/reliability/test_worker_drain.py")


@dataclass
class Half:
    name: str
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[str] | None = None
    started: float = 0.0
    took: float = 0.0


def halves(extra: list[str]) -> list[Half]:
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    env = dict(os.environ)
    return [
        Half("calls", [*base, *CALLS], env | {"TEST_SHARD": "0/2"}),
        Half("rest", ["nice", "-n", "10", *base, *(f"--ignore={path}" for path in CALLS)],
             env | {"TEST_SHARD": "1/2"}),
    ]


def _stream(half: Half, lock: threading.Lock) -> None:
    assert half.proc is not None and half.proc.stdout is not None
    for line in half.proc.stdout:
        with lock:
            sys.stdout.write(f"[{half.name}] {line}")
            sys.stdout.flush()
    half.proc.wait()
    half.took = time.monotonic() - half.started


def main(extra: list[str]) -> int:
    lock = threading.Lock()
    threads = []
    run = halves(extra)
    for half in run:
        half.started = time.monotonic()
        half.proc = subprocess.Popen(half.argv, cwd=ROOT, env=half.env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        thread = threading.Thread(target=_stream, args=(half, lock), daemon=True)
        thread.start()
        threads.append(thread)
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        for half in run:
            if half.proc and half.proc.poll() is None:
                half.proc.terminate()
        raise
    codes = {half.name: half.proc.returncode for half in run if half.proc}
    for half in run:
        print(f"{half.name}: exit {codes[half.name]} after {half.took / 60:.1f} min")
    return 0 if all(code == 0 for code in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
