"""The owner's numbers: per day and per hour of day, from the records calls leave behind.

Computed from orders, reservations and call logs (not the running analytics counters) so a
cancelled order drops out of revenue and a no-show out of covers. Times are the restaurant's.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

OUTCOMES = ("order", "reservation", "change", "cancel", "info", "transfer", "message",
            "abandoned")


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _local(value: Any, tz: ZoneInfo) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(tz)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).astimezone(tz)
        except ValueError:
            return None
    return None


def summarize(
    *, calls: list[dict[str, Any]], orders: list[dict[str, Any]],
    reservations: list[dict[str, Any]], first_day: date, last_day: date, tz: ZoneInfo,
    with_revenue: bool,
) -> dict[str, Any]:
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    index = {d: i for i, d in enumerate(days)}
    n = len(days)
    per_day: dict[str, list[float]] = {k: [0] * n for k in (
        "calls", "orders", "revenue", "covers", "transfers")}
    outcome_day = {o: [0] * n for o in OUTCOMES}
    lat_day: list[list[float]] = [[] for _ in days]
    per_hour: dict[str, list[float]] = {k: [0] * 24 for k in ("calls", "orders")}
    lat_hour: list[list[float]] = [[] for _ in range(24)]
    outcomes: Counter[str] = Counter()

    for call in calls:
        at = _local(call.get("started_at"), tz)
        if at is None or at.date() not in index:
            continue
        i, h = index[at.date()], at.hour
        per_day["calls"][i] += 1
        per_hour["calls"][h] += 1
        outcome = call.get("outcome") or "abandoned"
        outcomes[outcome] += 1
        if outcome in outcome_day:
            outcome_day[outcome][i] += 1
        if outcome == "transfer":
            per_day["transfers"][i] += 1
        turns = [float(x) for x in call.get("turn_latency_ms") or []]
        lat_day[i].extend(turns)
        lat_hour[h].extend(turns)

    for order in orders:
        at = _local(order.get("created_at"), tz)
        if at is None or at.date() not in index or order.get("status") == "cancelled":
            continue
        per_day["orders"][index[at.date()]] += 1
        per_day["revenue"][index[at.date()]] += int(order.get("total_cents", 0)) / 100
        per_hour["orders"][at.hour] += 1

    for res in reservations:
        try:
            day = date.fromisoformat(str(res.get("date")))
        except ValueError:
            continue
        if day in index and res.get("status") not in ("cancelled", "no_show"):
            per_day["covers"][index[day]] += int(res.get("party_size", 0))

    out: dict[str, Any] = {
        "days": [d.isoformat() for d in days],
        "by_day": {
            **per_day,
            "latency_p50": [percentile(v, 50) for v in lat_day],
            "latency_p95": [percentile(v, 95) for v in lat_day],
            "outcomes": outcome_day,
        },
        "hours": list(range(24)),
        "by_hour": {
            **per_hour,
            "latency_p50": [percentile(v, 50) for v in lat_hour],
            "latency_p95": [percentile(v, 95) for v in lat_hour],
        },
        "outcomes": {o: outcomes.get(o, 0) for o in OUTCOMES},
        "totals": {k: sum(v) for k, v in per_day.items()},
    }
    if not with_revenue:
        del out["by_day"]["revenue"]
        del out["totals"]["revenue"]
    return out
