"""What a new developer copies from the README and from `devstack.py --help` works as written."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVSTACK = ROOT / "scripts" / "devstack.py"


def test_every_file_the_help_and_the_readme_name_for_devstack_exists():
    helptext = subprocess.run([sys.executable, str(DEVSTACK), "--help"], capture_output=True,
                              text=True, check=True, cwd=ROOT).stdout
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"tests/telephony/[\w.]+\.yaml", helptext + readme))
    assert named, "the help names a fakes script"
    for path in named:
        assert (ROOT / path).exists(), f"{path} is named but does not exist"
    # `make` takes no --fakes: the README passes it to the script (or through DEVSTACK_ARGS)
    assert not re.search(r"make dev[^\n`]*--fakes", readme)


def test_devstack_started_in_the_background_stops_on_sigint(tmp_path):
    """A shell's `&` leaves SIGINT ignored; the stack must still stop on Ctrl-C / kill -INT.
    (The stack's start is replaced by a wait: what is checked is devstack's own signal
    handling, without the fixed ports of a real `make dev`.)"""
    code = (
        "import signal, sys, time; sys.path.insert(0, 'scripts'); import devstack\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "devstack.Stack.start = lambda self: (print('started', flush=True), time.sleep(60))\n"
        "devstack.Stack.stop = lambda self: None\n"
        f"sys.exit(devstack.main(['--no-freeswitch', '--workdir', {str(tmp_path)!r}]))\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"started"
    os.killpg(proc.pid, signal.SIGINT)
    try:
        output, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError("SIGINT did not stop a devstack started with SIGINT ignored") \
            from None
    assert b"stopping" in output and proc.returncode == 0, output.decode()[-2000:]


def test_open_now_runs_the_cafe_where_it_is_open_and_the_banner_says_how(tmp_path):
    """At the developer's hour the café may be closed (every order refused): --open-now gives
    the worker and the board a zone where it is open now; without it the banner says why.
    (The stack's start prints the worker's zone and the banner instead of starting.)"""
    from datetime import UTC, datetime

    from domain.booking import is_open
    from store.menu_file import load_menu_file

    settings = load_menu_file(ROOT / "data" / "menu.yaml").restaurant
    for flags in (["--open-now"], []):
        script = (
            "import sys; sys.path.insert(0, 'scripts'); import devstack\n"
            "def start(self):\n"
            "    print('ZONE', self.options.worker_env.get('RESTAURANT_TIMEZONE'))\n"
            "    print(self.describe())\n"
            "    raise KeyboardInterrupt\n"
            "devstack.Stack.start = start\n"
            "devstack.Stack.stop = lambda self: None\n"
            "devstack.Stack.firestore_host = devstack.Stack.livekit_url = 'not started'\n"
            f"sys.exit(devstack.main(['--no-freeswitch', '--board-port', '0', "
            f"'--workdir', {str(tmp_path)!r}, *{flags!r}]))\n")
        out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
        zone = next(line for line in out.stdout.splitlines() if line.startswith("ZONE"))[5:]
        if flags:
            here = settings.model_copy(update={"timezone": zone})
            assert is_open(here, datetime.now(UTC)), f"the café is closed now in {zone}"
            assert f"({zone}, --open-now)" in out.stdout, out.stdout
        else:
            assert zone == "None", out.stdout
            assert "orders are refused when it is closed there (--open-now" in out.stdout, \
                out.stdout + out.stderr
