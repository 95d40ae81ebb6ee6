"""scripts/rebuild_seating.py on the real emulator: bookings from before the seating model get
their tables as a booking would now, a dry run writes nothing, a second run nothing more."""

from __future__ import annotations

import asyncio
from datetime import date, time, timedelta

import pytest

from domain.seating import double_seated
from models import Reservation
from scripts.rebuild_seating import main as rebuild
from store import FirebaseManager
from testkit.records import make_reservation

DAY = date(2026, 11, 27)  # a Friday; the demo café seats 16 covers per half hour at most


async def _legacy(db: FirebaseManager, code: str, n: int, **kw) -> Reservation:
    """A booking as it was saved before the seating model: no hold, no tables, no minutes."""
    res = make_reservation(code=code, **kw)
    res = res.model_copy(update={"created_at": res.created_at + timedelta(minutes=n)})
    await db.db.document(f"reservations/{code}").set(res.to_doc())
    return res


async def _versions(db: FirebaseManager) -> dict[str, object]:
    """Every booking's and seating day's last write time."""
    out: dict[str, object] = {}
    for name in ("reservations", "seating"):
        async for snap in db.db.collection(name).stream():
            out[f"{name}/{snap.id}"] = snap.update_time
    return out


async def test_old_bookings_get_their_tables_once_and_a_dry_run_writes_nothing(
    seeded_db: FirebaseManager, capsys: pytest.CaptureFixture[str],
) -> None:
    db = seeded_db
    for n, code in enumerate(("AAAAA1", "BBBBB2", "CCCCC3", "DDDDD4", "EEEEE5")):
        await _legacy(db, code, n, day=DAY, party=4)  # five fours at 7 PM: 20 covers
    await _legacy(db, "TWOSS6", 9, day=DAY, at=time(12, 0), party=2)
    gone = await _legacy(db, "GONEE7", 10, day=DAY, party=4)
    await db.db.document("reservations/GONEE7").update({"status": "cancelled"})
    await _legacy(db, "PASTT8", 11, day=DAY - timedelta(days=3), party=4)
    assert gone.code == "GONEE7"
    args = ["--restaurant", "main", "--from", DAY.isoformat()]

    assert await asyncio.to_thread(rebuild, args) == 1  # one booking has no place: staff
    out = capsys.readouterr().out
    assert "main: AAAAA1 2026-11-27 19:00 party 4: would be placed" in out
    assert "main: EEEEE5 2026-11-27 19:00 party 4: NO PLACE" in out  # taken last, pacing full
    assert "GONEE7" not in out and "PASTT8" not in out and "Bo Chen" not in out
    assert "would be placed 5, already held 0, no place 1 (dry run" in out
    assert await db.holds_on(DAY) == []
    assert (await db.get_reservation("AAAAA1")).minutes is None

    assert await asyncio.to_thread(rebuild, [*args, "--apply"]) == 1
    out = capsys.readouterr().out
    assert "placed 5, already held 0, no place 1" in out
    held = {h.code: h for h in await db.holds_on(DAY)}
    assert sorted(held) == ["AAAAA1", "BBBBB2", "CCCCC3", "DDDDD4", "TWOSS6"]
    assert double_seated(list(held.values())) == []
    first = await db.get_reservation("AAAAA1")
    assert (tuple(first.tables), first.minutes) == (held["AAAAA1"].tables, 90)

    before = await _versions(db)
    assert await asyncio.to_thread(rebuild, [*args, "--apply"]) == 1
    out = capsys.readouterr().out
    assert "placed 0, already held 5, no place 1" in out
    assert await _versions(db) == before  # idempotent: not one document written again
    # once staff cancel a 7 PM four, the last one fits
    await db.cancel_reservation("BBBBB2", call_id="board:x", now=first.created_at)
    assert await asyncio.to_thread(rebuild, [*args, "--apply"]) == 0
    assert "EEEEE5" in {h.code for h in await db.holds_on(DAY)}
