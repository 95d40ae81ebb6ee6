"""scripts/build_freeswitch.sh refuses clearly before it builds anything wrong.

The build itself (minutes) is exercised by setup and used by test_freeswitch_calls.py; these
check what a developer sees when it cannot go ahead.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.telephony.helpers import ROOT

SCRIPT = ROOT / "scripts" / "build_freeswitch.sh"


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PHONELINE_FREESWITCH_DIR": str(tmp_path / "prefix"),
             "TMPDIR": str(tmp_path), **env},
    )


def _fake_dpkg(tmp_path: Path, missing: str) -> str:
    """A PATH where dpkg-query reports every package installed except `missing`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "dpkg-query"
    shim.write_text(f'#!/bin/sh\nfor a; do pkg="$a"; done\n'
                    f'[ "$pkg" = "{missing}" ] && exit 1\necho "install ok installed"\n')
    shim.chmod(0o755)
    return f"{bin_dir}:{os.environ['PATH']}"


def test_a_missing_debian_package_is_named_before_building(tmp_path):
    done = _run(tmp_path, PATH=_fake_dpkg(tmp_path, "libspeexdsp-dev"))
    assert done.returncode != 0
    assert "missing Debian packages: libspeexdsp-dev" in done.stderr, done.stderr
    assert not (tmp_path / "prefix" / "bin").exists()


def test_a_tarball_with_the_wrong_checksum_is_refused(tmp_path):
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    for name in ("freeswitch-1.10.12", "sofia-sip-1.13.17", "spandsp-3.0.0"):
        (vendor / f"{name}.tar.xz").write_bytes(b"not the upstream source")
    done = _run(tmp_path, PHONELINE_VENDOR_DIR=str(vendor), PATH=_fake_dpkg(tmp_path, "-"))
    assert done.returncode != 0
    assert "sofia-sip-1.13.17.tar.xz: sha256 is not" in done.stderr, done.stderr
    assert not (tmp_path / "prefix" / "bin").exists()


def test_a_built_prefix_with_a_matching_stamp_is_not_built_again(tmp_path):
    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    binary = prefix / "bin" / "freeswitch"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    recipe = subprocess.run(["bash", str(SCRIPT), "--recipe"], capture_output=True, text=True,
                            check=True).stdout
    assert "modules loggers/mod_console" in recipe, recipe
    (prefix / ".phoneline-build").write_text(recipe)
    done = _run(tmp_path, PATH=_fake_dpkg(tmp_path, "build-essential"))
    assert done.returncode == 0, done.stderr
    assert "already built" in done.stdout
    # a stamp from another recipe (a module added, a version bumped) means: build again (here
    # it stops at once, on the missing package)
    (prefix / ".phoneline-build").write_text(recipe.replace("1.10.12", "1.10.11"))
    other = tmp_path / "other"
    other.mkdir()
    again = _run(tmp_path, PATH=_fake_dpkg(other, "yasm"))
    assert again.returncode != 0 and "missing Debian packages: yasm" in again.stderr
