"""A restaurant time zone for tests and benchmarks that run at any hour of the day."""

from __future__ import annotations

from datetime import UTC, datetime


def open_timezone(now: datetime | None = None) -> str:
    """A fixed-offset zone where it is about noon now, so the kitchen is open at any hour."""
    hour = (now or datetime.now(UTC)).hour
    offset = 12 - hour  # hours east of UTC, -11..12
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX signs are inverted
