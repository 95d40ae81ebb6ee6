"""Telephony test helpers: what a missing tool means here (skip locally, fail in CI)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
