"""FirebaseManager against the real Firestore emulator: what a caller or the staff would notice."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from config import ConfigError, FirestoreSettings
from conversation.call_snapshot import crash_log_fields
from domain import ids
from domain.seating import SeatingPlan, Table, double_seated
from models import CallLog, Message, slot_id
from store import (
    CodeTaken,
    FirebaseManager,
    OrderIdTaken,
    ReservationCancelled,
    ReservationNotFound,
    SlotFull,
    connect,
)
from testkit.seating import seated_at, seats
from tests.conftest import make_order, make_reservation

DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


async def doc(db: FirebaseManager, path: str) -> dict[str, Any] | None:
    snap = await db.db.document(path).get()
    return snap.to_dict() if snap.exists else None


async def count(db: FirebaseManager, collection: str) -> int:
    return len([s async for s in db.db.collection(collection).stream()])


# ---------------------------------------------------------------- orders


async def test_order_is_one_commit_with_customer_and_analytics(db: FirebaseManager) -> None:
    order = make_order()
    db.rpcs.reset()
    result = await db.save_order(order, DAY)

    assert (result.status, result.id) == ("saved", order.id)
    assert db.rpcs.snapshot() == {"commit": 1}  # one round trip for the whole confirmation
    # ... and it writes the order, its customer and the day's analytics together
    assert {c: db.rpcs.commits_to(c) for c in ("orders", "customers", "analytics", "seating")} == {
        "orders": 1, "customers": 1, "analytics": 1, "seating": 0}
    saved = await doc(db, f"orders/{order.id}")
    assert saved is not None and saved["total_cents"] == order.total_cents
    customer = await db.get_customer(order.customer_phone)
    assert customer is not None
    assert (customer.name, customer.order_count) == ("Ann Lee", 1)
    assert customer.first_seen == customer.last_seen == order.created_at
    assert [(ln.item_id, ln.size, ln.option_ids, ln.quantity) for ln in customer.last_order] == [
        ("cappuccino", "medium", ["oat"], 2)
    ]
    stats = await db.get_analytics(DAY)
    assert (stats.orders, stats.revenue_cents) == (1, order.total_cents)


async def test_saving_the_same_order_twice_counts_it_once(db: FirebaseManager) -> None:
    order = make_order()
    first = await db.save_order(order, DAY)
    again = await db.save_order(order, DAY)

    assert (first.status, again.status) == ("saved", "already_saved")
    assert await count(db, "orders") == 1
    stats = await db.get_analytics(DAY)
    assert (stats.orders, stats.revenue_cents) == (1, order.total_cents)
    customer = await db.get_customer(order.customer_phone)
    assert customer is not None and customer.order_count == 1


async def test_a_different_order_under_a_stored_id_is_not_already_saved(
    db: FirebaseManager,
) -> None:
    """Same id is not the same order: the clash is refused whole, and the caller's code is told
    (OrderIdTaken) so it saves under the next id instead of announcing the stored order."""
    original = make_order(phone="+16175550111", name="First Caller")
    await db.save_order(original, DAY)
    before = await db.get_analytics(DAY)

    clash = make_order(phone="+16175550999", name="Someone Else", quantity=5)  # same order id
    with pytest.raises(OrderIdTaken):
        await db.save_order(clash, DAY)

    assert await db.get_customer("+16175550999") is None
    assert await db.get_analytics(DAY) == before
    saved = await doc(db, f"orders/{original.id}")
    assert saved is not None and saved["customer_name"] == "First Caller"


async def test_a_different_order_with_equal_totals_under_a_stored_id_is_not_already_saved(
    db: FirebaseManager,
) -> None:
    """After a crash, one call's second order can get the first one's id: same caller, same
    total, different lines (a latte for a cappuccino at the same price). The comparison must
    look at the lines, not only at the money."""
    original = make_order()
    await db.save_order(original, DAY)
    line = original.lines[0].model_copy(update={"item_id": "latte", "name": "Latte"})
    other = original.model_copy(update={"lines": [line]})
    assert other.total_cents == original.total_cents and other.id == original.id
    with pytest.raises(OrderIdTaken):
        await db.save_order(other, DAY)
    saved = await doc(db, f"orders/{original.id}")
    assert saved is not None and saved["lines"][0]["item_id"] == "cappuccino"
    assert (await db.get_analytics(DAY)).orders == 1


async def test_the_same_order_built_again_later_is_already_saved(db: FirebaseManager) -> None:
    """A re-dispatched agent rebuilds the same confirmation with fresh timestamps: a replay."""
    original = make_order(created_at=NOW)
    await db.save_order(original, DAY)
    rebuilt = make_order(created_at=NOW + timedelta(seconds=40))
    assert (await db.save_order(rebuilt, DAY)).status == "already_saved"
    assert (await db.get_analytics(DAY)).orders == 1


async def test_a_queued_order_whose_id_was_taken_is_replayed_under_a_derived_id(
    db: FirebaseManager,
) -> None:
    queued = make_order(name="Queued Caller", quantity=3)
    await db.save_order(make_order(name="Other Order"), DAY)  # same id, different order
    await db.outbox.append("order", {"order": queued.model_dump(mode="json"),
                                     "analytics_day": DAY.isoformat()}, record_id=queued.id)
    assert await db.replay_outbox() == 1
    assert await db.replay_outbox() == 0
    moved = await doc(db, f"orders/{queued.id}-2")
    assert moved is not None and moved["customer_name"] == "Queued Caller"
    assert moved["order_number"] == ids.order_number(f"{queued.id}-2")
    assert (await db.get_analytics(DAY)).orders == 2


async def test_returning_customer_keeps_first_seen_even_when_writes_arrive_late(
    db: FirebaseManager,
) -> None:
    late = make_order("call-b", created_at=NOW)
    early = make_order("call-a", created_at=NOW - timedelta(days=3))
    await db.save_order(late, DAY)
    await db.save_order(early, DAY)  # e.g. replayed from the outbox after the later call

    customer = await db.get_customer(late.customer_phone)
    assert customer is not None
    assert customer.first_seen == early.created_at
    assert customer.last_seen == late.created_at
    assert customer.order_count == 2


async def test_unknown_caller_has_no_customer_record(db: FirebaseManager) -> None:
    assert await db.get_customer("+16175550000") is None


# ---------------------------------------------------------------- messages and call logs


async def test_message_and_call_logs_update_the_daily_counters_once(db: FirebaseManager) -> None:
    msg = Message(id="call-m-message-1", call_id="call-m", name="Dee", phone="+16175550103",
                  reason="Please call back about catering", created_at=NOW)
    assert (await db.save_message(msg, DAY)).status == "saved"
    assert (await db.save_message(msg, DAY)).status == "already_saved"
    for call_id, outcome in (("c1", "order"), ("c2", "transfer"), ("c3", "abandoned")):
        log = CallLog(call_id=call_id, started_at=NOW, outcome=outcome)
        assert (await db.write_call_log(log, DAY)).status == "saved"
    assert (await db.write_call_log(CallLog(call_id="c2", started_at=NOW), DAY)).status == (
        "already_saved"
    )

    stats = await db.get_analytics(DAY)
    assert (stats.messages, stats.calls, stats.transfers, stats.abandoned) == (1, 3, 1, 1)
    saved = await doc(db, "call_logs/c2")
    assert saved is not None and saved["outcome"] == "transfer"


async def test_a_call_is_logged_and_counted_when_it_starts_and_completed_once(
    db: FirebaseManager,
) -> None:
    opened = CallLog(call_id="c-live", caller="+16175550104", started_at=NOW)
    assert (await db.open_call_log(opened, DAY)).status == "saved"
    live = await doc(db, "call_logs/c-live")
    assert live is not None and live["status"] == "in_progress"
    assert (await db.get_analytics(DAY)).calls == 1  # counted before any order can be
    # a re-dispatched agent of the same call opens it again: nothing new
    assert (await db.open_call_log(opened, DAY)).status == "already_saved"

    resumed_part = CallLog(call_id="c-live", started_at=NOW + timedelta(seconds=50),
                           ended_at=NOW + timedelta(seconds=90), outcome="transfer", resumed=1)
    assert (await db.write_call_log(resumed_part, DAY)).status == "saved"
    assert (await db.write_call_log(resumed_part, DAY)).status == "already_saved"
    final = await doc(db, "call_logs/c-live")
    assert final is not None
    assert (final["status"], final["outcome"], final["resumed"]) == ("completed", "transfer", 1)
    assert final["duration_s"] == 90.0  # from the call's real start, not the resumed agent's
    stats = await db.get_analytics(DAY)
    assert (stats.calls, stats.transfers, stats.crashed) == (1, 1, 0)
    assert [c.call_id for c in await db.open_call_logs()] == []


async def test_a_call_no_agent_finished_is_marked_crashed_and_still_counted(
    db: FirebaseManager,
) -> None:
    await db.open_call_log(CallLog(call_id="c-dead", started_at=NOW, analytics_day=DAY), DAY)
    await db.open_call_log(CallLog(call_id="c-alive", started_at=NOW, analytics_day=DAY), DAY)
    assert sorted(c.call_id for c in await db.open_call_logs()) == ["c-alive", "c-dead"]

    later = NOW + timedelta(minutes=3)
    assert await db.mark_call_crashed("c-dead", now=later, from_snapshot=crash_log_fields)
    assert not await db.mark_call_crashed("c-dead", now=later, from_snapshot=crash_log_fields)
    dead = await doc(db, "call_logs/c-dead")
    assert dead is not None and (dead["status"], dead["duration_s"]) == ("crashed", 180.0)
    stats = await db.get_analytics(DAY)
    assert (stats.calls, stats.crashed) == (2, 1)

    # its completed log arrives late (queued in an outage): it replaces the crash mark
    late = CallLog(call_id="c-dead", started_at=NOW, ended_at=later, outcome="order")
    assert (await db.write_call_log(late, DAY)).status == "saved"
    stats = await db.get_analytics(DAY)
    assert (stats.calls, stats.crashed) == (2, 0)


async def test_analytics_of_a_quiet_day_are_zero(db: FirebaseManager) -> None:
    stats = await db.get_analytics(date(2030, 1, 1))
    assert stats.orders == stats.calls == 0 and stats.averages()["average_order_cents"] == 0.0


# ---------------------------------------------------------------- reservations


async def test_booking_takes_seats_and_counts_covers(db: FirebaseManager) -> None:
    res = make_reservation(party=4)
    db.rpcs.reset()
    result = await db.book_reservation(res, seats(20), analytics_day=DAY)

    assert (result.status, result.code) == ("saved", res.code)
    # one read of slot and code + one commit (check-and-set on the slot, no transaction)
    assert db.rpcs.snapshot() == {"batch_get_documents": 1, "commit": 1}
    assert (db.rpcs.commits_to("seating"), db.rpcs.commits_to("reservations")) == (1, 1)
    assert await seated_at(db, res.date) == {"19:00": 4}
    stored = await db.get_reservation(res.code)
    assert stored is not None and stored.history[0].action == "created"
    stats = await db.get_analytics(DAY)
    assert (stats.reservations, stats.covers) == (1, 4)
    customer = await db.get_customer(res.phone)
    assert customer is not None and customer.reservation_count == 1


async def test_rebooking_the_same_call_is_already_saved_and_another_call_gets_code_taken(
    db: FirebaseManager,
) -> None:
    res = make_reservation()
    await db.book_reservation(res, seats(20), DAY)
    again = await db.book_reservation(res, seats(20), DAY)
    assert again.status == "already_saved"
    assert await seated_at(db, res.date) == {"19:00": 2}

    other_call = make_reservation("call-other", code=res.code)
    with pytest.raises(CodeTaken):
        await db.book_reservation(other_call, seats(20), DAY)
    assert (await db.get_analytics(DAY)).reservations == 1


async def test_a_different_booking_of_the_same_call_under_a_stored_code_gets_code_taken(
    db: FirebaseManager,
) -> None:
    res = make_reservation(party=2)
    await db.book_reservation(res, seats(20), DAY)
    other_table = make_reservation(party=6, at=time(20, 0))  # same call, same seq: same code
    assert other_table.code == res.code
    with pytest.raises(CodeTaken):
        await db.book_reservation(other_table, seats(20), DAY)
    assert await seated_at(db, res.date) == {"19:00": 2}


@pytest.mark.parametrize("change", [{"at": time(20, 30)}, {"day": date(2026, 11, 28)}])
async def test_the_same_party_at_another_time_under_a_stored_code_gets_code_taken(
    db: FirebaseManager, change: dict[str, Any],
) -> None:
    """Equal party, same guest, another time (or day): a different booking, not a replay."""
    res = make_reservation(party=2)
    await db.book_reservation(res, seats(20), DAY)
    later = make_reservation(party=2, **change)
    assert later.code == res.code and later.party_size == res.party_size
    with pytest.raises(CodeTaken):
        await db.book_reservation(later, seats(20), DAY)
    assert await seated_at(db, res.date) == {"19:00": 2}


async def test_a_booking_changed_later_is_still_already_saved_on_replay(
    db: FirebaseManager,
) -> None:
    res = make_reservation(party=2)
    await db.book_reservation(res, seats(20), DAY)
    await db.change_reservation(res.code, new_party_size=4, call_id=res.call_id, seating=seats(20),
                                now=NOW)
    assert (await db.book_reservation(res, seats(20), DAY)).status == "already_saved"
    assert await seated_at(db, res.date) == {"19:00": 4}


async def test_full_slot_says_how_many_seats_are_left(db: FirebaseManager) -> None:
    await db.book_reservation(make_reservation("c1", party=5), seats(8), DAY)
    with pytest.raises(SlotFull) as err:
        await db.book_reservation(make_reservation("c2", party=4), seats(8), DAY)
    assert err.value.slot == "2026-11-27T19:00"
    assert await seated_at(db, date(2026, 11, 27)) == {"19:00": 5}
    assert await count(db, "reservations") == 1


async def test_concurrent_callers_cannot_overbook_the_last_seats(db: FirebaseManager) -> None:
    """Four callers race for the last four seats: exactly two parties of two get them."""
    capacity = 10
    await db.book_reservation(make_reservation("early", party=6), seats(capacity), DAY)

    async def caller(n: int) -> str:
        try:
            await db.book_reservation(make_reservation(f"racer-{n}", party=2), seats(capacity),
                                      DAY)
            return "booked"
        except SlotFull:
            return "full"

    outcomes = await asyncio.gather(*(caller(n) for n in range(4)))

    assert sorted(outcomes) == ["booked", "booked", "full", "full"]
    assert await seated_at(db, date(2026, 11, 27)) == {"19:00": capacity}
    assert await count(db, "reservations") == 3
    assert (await db.get_analytics(DAY)).covers == capacity


async def test_moving_a_booking_frees_its_old_slot(db: FirebaseManager) -> None:
    day = date(2026, 11, 27)
    res = make_reservation(party=4)
    await db.book_reservation(res, seats(4), DAY)
    with pytest.raises(SlotFull):
        await db.book_reservation(make_reservation("waiting", party=2), seats(4), DAY)
    # 20:15 is when a party of two starting at 19:00 would leave (75 minutes).
    moved = await db.change_reservation(res.code, new_time=time(20, 15), call_id="call-2",
                                        seating=seats(4), now=NOW)

    assert (moved.status, moved.time, moved.party_size) == ("changed", time(20, 15), 4)
    assert moved.history[-1].call_id == "call-2"
    assert moved.history[-1].before == {"date": "2026-11-27", "time": "19:00:00",
                                        "party_size": 4, "status": "confirmed"}
    assert await seated_at(db, day) == {"20:15": 4}
    waiting = await db.book_reservation(make_reservation("waiting", party=2), seats(4), DAY)
    assert waiting.status == "saved"
    assert await db.get_reservation(res.code) == moved


async def test_changing_party_size_in_the_same_slot_checks_the_delta(db: FirebaseManager) -> None:
    res = make_reservation(party=2)
    await db.book_reservation(res, seats(6), DAY)
    await db.book_reservation(make_reservation("other", party=3), seats(6), DAY)

    with pytest.raises(SlotFull):
        await db.change_reservation(res.code, new_party_size=4, call_id="c2", seating=seats(6),
                                    now=NOW)
    assert await seated_at(db, res.date) == {"19:00": 5}

    bigger = await db.change_reservation(res.code, new_party_size=3, call_id="c2", seating=seats(6),
                                         now=NOW)
    assert bigger.party_size == 3
    assert await seated_at(db, res.date) == {"19:00": 6}
    # The same change again (a retried tool call) moves nothing and adds no history.
    same = await db.change_reservation(res.code, new_party_size=3, call_id="c2", seating=seats(6),
                                       now=NOW)
    assert same == bigger and await seated_at(db, res.date) == {"19:00": 6}


async def test_moving_into_a_full_slot_changes_nothing(db: FirebaseManager) -> None:
    res = make_reservation(party=2)
    await db.book_reservation(res, seats(4), DAY)
    await db.book_reservation(make_reservation("other", at=time(20, 30), party=4), seats(4), DAY)

    with pytest.raises(SlotFull) as err:
        await db.change_reservation(res.code, new_time=time(20, 30), call_id="c2",
                                    seating=seats(4), now=NOW)
    assert err.value.slot == "2026-11-27T20:30"
    assert await seated_at(db, res.date) == {"19:00": 2, "20:30": 4}
    stored = await db.get_reservation(res.code)
    assert stored is not None and stored.status == "confirmed"


async def test_cancel_frees_seats_once_and_blocks_later_changes(db: FirebaseManager) -> None:
    res = make_reservation(party=3)
    await db.book_reservation(res, seats(20), DAY)
    await db.book_reservation(make_reservation("other", party=2), seats(20), DAY)

    cancelled = await db.cancel_reservation(res.code, call_id="c2", now=NOW)
    assert cancelled.status == "cancelled" and cancelled.history[-1].action == "cancelled"
    assert await seated_at(db, res.date) == {"19:00": 2}

    again = await db.cancel_reservation(res.code, call_id="c3", now=NOW)
    assert again == cancelled  # no second history entry, seats not freed twice
    assert await seated_at(db, res.date) == {"19:00": 2}

    with pytest.raises(ReservationCancelled):
        await db.change_reservation(res.code, new_party_size=2, call_id="c4", seating=seats(20),
                                    now=NOW)
    with pytest.raises(ReservationNotFound):
        await db.cancel_reservation("NOPE99", call_id="c5", now=NOW)
    with pytest.raises(ReservationNotFound):
        await db.change_reservation("NOPE99", new_party_size=2, call_id="c5", seating=seats(20),
                                    now=NOW)


async def test_find_reservations_lists_upcoming_active_ones_in_order(db: FirebaseManager) -> None:
    phone = "+16175550123"
    later = make_reservation("a", day=date(2026, 12, 5), at=time(18, 0), phone=phone)
    sooner = make_reservation("b", day=date(2026, 11, 27), at=time(20, 0), phone=phone)
    past = make_reservation("c", day=date(2026, 11, 1), phone=phone)
    gone = make_reservation("d", day=date(2026, 11, 28), phone=phone)
    someone_else = make_reservation("e", phone="+16175550999")
    for res in (later, sooner, past, gone, someone_else):
        await db.book_reservation(res, seats(20), DAY)
    await db.cancel_reservation(gone.code, call_id="x", now=NOW)

    found = await db.find_reservations(phone, date(2026, 11, 20))
    assert [r.code for r in found] == [sooner.code, later.code]


async def test_a_days_holds_are_one_read(db: FirebaseManager) -> None:
    day = date(2026, 11, 27)
    room = seats(20)
    for n, hour in enumerate((18, 19, 19, 20)):
        await db.book_reservation(make_reservation(f"c{n}", at=time(hour, 0), party=2), room, DAY)
    await db.book_reservation(make_reservation("next-day", day=day + timedelta(days=1)), room,
                              DAY)
    db.rpcs.reset()
    assert await seated_at(db, day) == {"18:00": 2, "19:00": 4, "20:00": 2}
    assert db.rpcs.snapshot() == {"batch_get_documents": 1}
    assert slot_id(day, time(19, 0)) == "2026-11-27T19:00"


# ---------------------------------------------------------------- menu and settings


async def test_seeded_menu_and_settings_load(seeded_db: FirebaseManager) -> None:
    menu = {item.id: item for item in await seeded_db.load_menu()}
    assert len(menu) >= 28
    assert menu["cappuccino"].default_size == "medium"
    assert menu["pumpkin-loaf"].available is False
    settings = await seeded_db.load_restaurant_settings()
    assert settings is not None and settings.name == "Harbor Street Café"


async def test_an_invalid_menu_doc_is_skipped_not_fatal(seeded_db: FirebaseManager) -> None:
    await seeded_db.db.document("menu_items/broken").set(
        {"id": "broken", "name": "Broken", "category": "x", "price_cents": -1})
    ids_loaded = {item.id for item in await seeded_db.load_menu()}
    assert "broken" not in ids_loaded and "latte" in ids_loaded


async def test_missing_settings_doc_is_none(db: FirebaseManager) -> None:
    assert await db.load_restaurant_settings() is None


# ---------------------------------------------------------------- configuration


async def test_connect_without_a_target_names_the_variables(tmp_path: Any) -> None:
    settings = FirestoreSettings(firestore_emulator_host=None, firebase_service_account_path=None,
                                 outbox_path=tmp_path / "o.jsonl")
    with pytest.raises(ConfigError, match="FIRESTORE_EMULATOR_HOST"):
        await connect(settings)


async def test_a_broken_service_account_file_is_a_config_error(tmp_path: Any) -> None:
    bad = tmp_path / "sa.json"
    bad.write_text("{}")
    settings = FirestoreSettings(firebase_service_account_path=bad, outbox_path=tmp_path / "o")
    with pytest.raises(ConfigError, match="FIREBASE_SERVICE_ACCOUNT_PATH"):
        await connect(settings)


def _service_account(path: Any, project: str) -> None:
    """A syntactically real service-account file (fresh key; it is never sent anywhere)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": project, "private_key_id": "test",
        "private_key": pem, "client_email": f"worker@{project}.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token",
    }))


async def test_a_service_account_wins_over_a_stray_emulator_variable(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sa = tmp_path / "sa.json"
    _service_account(sa, "harbor-street-prod")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")
    settings = FirestoreSettings(firebase_service_account_path=sa,
                                 firestore_emulator_host="127.0.0.1:9",
                                 outbox_path=tmp_path / "o.jsonl")
    manager = await connect(settings)  # builds the client; no network until the first call
    try:
        assert manager.db.project == "harbor-street-prod"
        assert manager.db._target == "firestore.googleapis.com"
    finally:
        await manager.close()


TWO_TABLES = SeatingPlan(tables=[Table(id="T1", seats=2), Table(id="T2", seats=4)])


async def test_change_and_cancel_free_exactly_what_the_booking_held(db: FirebaseManager) -> None:
    day = date(2026, 11, 27)
    a = make_reservation("a", party=2)
    b = make_reservation("b", party=4, at=time(19, 30))
    await db.book_reservation(a, TWO_TABLES, DAY)
    await db.book_reservation(b, TWO_TABLES, DAY)
    held = {h.code: h for h in await db.holds_on(day)}
    assert (held[a.code].tables, held[a.code].minutes) == (("T1",), 75)
    assert (held[b.code].tables, held[b.code].minutes) == (("T2",), 90)
    with pytest.raises(SlotFull):  # both tables are taken at 7
        await db.book_reservation(make_reservation("c", party=2), TWO_TABLES, DAY)

    moved = await db.change_reservation(a.code, new_date=day + timedelta(days=1),
                                        call_id="x", seating=TWO_TABLES, now=NOW)
    assert (moved.tables, moved.date) == (["T1"], day + timedelta(days=1))
    assert [h.code for h in await db.holds_on(day)] == [b.code]  # b's hold untouched
    assert [h.code for h in await db.holds_on(moved.date)] == [a.code]
    c = make_reservation("c", party=2)
    assert (await db.book_reservation(c, TWO_TABLES, DAY)).status == "saved"
    assert (await db.get_reservation(c.code)).tables == ["T1"]

    await db.cancel_reservation(b.code, call_id="x", now=NOW)
    assert [h.code for h in await db.holds_on(day)] == [c.code]
    assert double_seated(await db.holds_on(day)) == []
