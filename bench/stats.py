"""Percentiles over many samples (nearest-rank on sorted data, so p95 of 100 is the 95th value)."""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(samples: Iterable[float], p: float) -> float:
    data = sorted(samples)
    if not data:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(data)))
    return data[min(rank, len(data)) - 1]


def summary(samples: Iterable[float], *ps: float, digits: int = 2) -> dict[str, float]:
    data = sorted(samples)
    out: dict[str, float] = {}
    for p in ps or (50, 95):
        out[f"p{p:g}"] = round(percentile(data, p), digits)
    return out


def timing(samples: Iterable[float], digits: int = 2) -> dict[str, float | int]:
    """p50, p95, max and n: the shape every timing of results.json has."""
    data = sorted(samples)
    out: dict[str, float | int] = dict(summary(data, 50, 95, digits=digits))
    out["max"] = round(data[-1], digits) if data else float("nan")
    out["n"] = len(data)
    return out
