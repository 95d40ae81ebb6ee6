"""Counts for the report: bad inputs tried and refused, per tool (printed at session end)."""

from __future__ import annotations

from collections import Counter

TRIED: Counter[str] = Counter()
REFUSED: Counter[str] = Counter()


def summary() -> str:
    rows = [f"  {name}: {REFUSED[name]}/{TRIED[name]} refused" for name in sorted(TRIED)]
    return "bad inputs through the tools:\n" + "\n".join(rows) if rows else ""
