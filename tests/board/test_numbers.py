"""The owner's numbers count what really happened: cancelled orders and no-shows drop out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from services.board.numbers import percentile, summarize

TZ = ZoneInfo("America/New_York")


def test_revenue_covers_outcomes_and_latency_by_day_and_hour():
    day = date(2026, 11, 20)
    at = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)  # 12:30 in New York
    calls = [
        {"started_at": at, "outcome": "order", "turn_latency_ms": [500, 700, 900]},
        {"started_at": at, "outcome": "transfer", "turn_latency_ms": [1500]},
        {"started_at": datetime(2026, 11, 21, 4, 0, tzinfo=UTC), "outcome": "info"},  # 23:00
        {"started_at": datetime(2026, 11, 25, 12, 0, tzinfo=UTC), "outcome": "order"},  # outside
    ]
    orders = [
        {"created_at": at, "status": "collected", "total_cents": 1250},
        {"created_at": at, "status": "cancelled", "total_cents": 9900},
    ]
    reservations = [
        {"date": "2026-11-20", "status": "finished", "party_size": 4},
        {"date": "2026-11-20", "status": "no_show", "party_size": 6},
        {"date": "2026-11-21", "status": "cancelled", "party_size": 2},
    ]
    out = summarize(calls=calls, orders=orders, reservations=reservations, first_day=day,
                    last_day=date(2026, 11, 21), tz=TZ, with_revenue=True)
    assert out["days"] == ["2026-11-20", "2026-11-21"]
    assert out["by_day"]["calls"] == [3, 0], "23:00 local is still the 20th"
    assert out["by_day"]["orders"] == [1, 0] and out["by_day"]["revenue"] == [12.5, 0]
    assert out["by_day"]["covers"] == [4, 0]
    assert out["by_day"]["transfers"] == [1, 0]
    assert out["by_day"]["latency_p50"] == [700, None]
    assert out["by_day"]["latency_p95"] == [1500, None]
    assert out["by_hour"]["calls"][12] == 2 and out["by_hour"]["calls"][23] == 1
    assert out["outcomes"]["order"] == 1 and out["outcomes"]["info"] == 1
    assert out["totals"]["revenue"] == 12.5

    staff = summarize(calls=calls, orders=orders, reservations=reservations, first_day=day,
                      last_day=day, tz=TZ, with_revenue=False)
    assert "revenue" not in staff["by_day"] and "revenue" not in staff["totals"]


def test_percentile_is_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([3, 1, 2], 50) == 2
    assert percentile(list(range(1, 101)), 95) == 95
