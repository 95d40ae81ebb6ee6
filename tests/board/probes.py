"""The attack suite's table: every test marked `@pytest.mark.probe(probe, safe)` adds a row
(probe, the safe behaviour it asserts, the result pytest saw). Written at the end of the run to
test-output/security-table.md, and into docs/security.md between its `<!-- probes -->` markers
when SECURITY_TABLE_TO_DOCS is set."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from testkit.firestore import ROOT

TABLE = ROOT / "test-output" / "security-table.md"
DOCS = ROOT / "docs" / "security.md"
_ROWS: dict[str, tuple[str, str, list[bool]]] = {}  # probe -> (safe, cases, passed?)


def configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "probe(probe, safe): an attack and its safe behaviour")


def record(item: pytest.Item, report: pytest.TestReport) -> None:
    """One row per probe; a parametrized probe's cases are counted in its row."""
    marker = item.get_closest_marker("probe")
    if marker is None or (report.when != "call" and not report.failed):
        return
    probe, safe = marker.args
    _ROWS.setdefault(probe, (probe, safe, []))[2].append(bool(report.passed))


def write_table() -> Path | None:
    if not _ROWS:
        return None
    lines = ["| # | Probe | Safe behaviour | Result |", "|---|---|---|---|"]
    for n, (probe, safe, cases) in enumerate(_ROWS.values(), 1):
        result = ("held" if all(cases) else f"FAILED ({cases.count(False)} of {len(cases)})")
        if len(cases) > 1:
            result += f" ({len(cases)} cases)"
        lines.append(f"| {n} | {_cell(probe)} | {_cell(safe)} | {result} |")
    held = sum(all(r[2]) for r in _ROWS.values())
    lines.append(f"\n{held} of {len(_ROWS)} probes held.")
    text = "\n".join(lines) + "\n"
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(text)
    if os.environ.get("SECURITY_TABLE_TO_DOCS") and DOCS.exists():
        doc = DOCS.read_text()
        DOCS.write_text(re.sub(r"<!-- probes -->.*<!-- /probes -->",
                               lambda _: f"<!-- probes -->\n{text}<!-- /probes -->", doc,
                               flags=re.S))
    return TABLE


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
