"""What staff may see, as the rules themselves (services/board/roles.py), without a board.

The routes and the stream that apply them are attacked through a running board in
test_attack_suite.py; these pin the rules one by one, so mutation testing can hold them
(scripts/mutation.py, target "board: roles")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.board.auth import Session
from services.board.roles import day_of, may_see, may_see_day, visible


def _far_zone() -> ZoneInfo:
    """A restaurant whose day is not the machine's right now (+14 h or -11 h: at any moment
    one of the two is on another date), so a rule that used the machine's day would show."""
    here = datetime.now().date()
    for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        if datetime.now(ZoneInfo(name)).date() != here:
            return ZoneInfo(name)
    raise AssertionError("no zone on another date")


TZ = _far_zone()
SOON = datetime.now(UTC) + timedelta(hours=1)
STAFF = Session("t" * 64, "pass", "staff", "c", SOON)
OWNER = Session("o" * 64, "boss", "owner", "c", SOON)


def _local(days_ago: int, hour: int = 12) -> datetime:
    today = datetime.now(TZ).date() - timedelta(days=days_ago)
    return datetime(today.year, today.month, today.day, hour, tzinfo=TZ)


def test_staff_see_todays_orders_calls_and_pos_states_and_nothing_older() -> None:
    for topic, field in (("orders", "created_at"), ("calls", "started_at"),
                         ("pos", "updated_at")):
        today, yesterday = {field: _local(0)}, {field: _local(1)}
        assert may_see(STAFF, topic, today, TZ), topic
        assert not may_see(STAFF, topic, yesterday, TZ), topic
        assert may_see(OWNER, topic, yesterday, TZ), topic
        # the day is the restaurant's: just after its midnight, in UTC still the day before
        just_after = _local(0, hour=0).replace(minute=1)
        assert may_see(STAFF, topic, {field: just_after.astimezone(UTC)}, TZ), topic
        assert not may_see(STAFF, topic, {field: _local(1, 23).astimezone(UTC)}, TZ), topic
        # a document whose day cannot be told is not shown to staff
        assert not may_see(STAFF, topic, {}, TZ), topic
        assert not may_see(STAFF, topic, {field: "not a date"}, TZ), topic
        assert not may_see(STAFF, topic, {field: 20261207}, TZ), topic


def test_a_day_as_text_counts_like_the_moment_it_names() -> None:
    assert may_see(STAFF, "orders", {"created_at": _local(0).isoformat()}, TZ)
    assert not may_see(STAFF, "orders", {"created_at": _local(1).isoformat()}, TZ)
    assert day_of(_local(3).astimezone(UTC).isoformat(), TZ) == _local(3).date()
    assert day_of("yesterday", TZ) is None and day_of(None, TZ) is None


def test_topics_without_a_day_are_everyones() -> None:
    # bookings, messages and the menu: what the host and the pass work from, any day
    for topic in ("reservations", "messages", "menu", "slots"):
        assert may_see(STAFF, topic, {"created_at": _local(30)}, TZ)


def test_visible_keeps_only_what_may_be_seen_in_order() -> None:
    # the first and the last hour of the restaurant's day: one of them is on another date
    # on the machine's clock
    docs = [{"id": "a", "created_at": _local(0, 0)}, {"id": "b", "created_at": _local(2)},
            {"id": "c", "created_at": _local(0, 23)}]
    assert [d["id"] for d in visible(STAFF, "orders", docs, TZ)] == ["a", "c"]
    assert [d["id"] for d in visible(OWNER, "orders", docs, TZ)] == ["a", "b", "c"]
    assert visible(STAFF, "orders", [], TZ) == []


def test_only_the_owner_opens_another_days_figures() -> None:
    today = datetime.now(TZ).date()
    assert may_see_day(STAFF, today, TZ)
    assert not may_see_day(STAFF, today - timedelta(days=1), TZ)
    assert not may_see_day(STAFF, today + timedelta(days=1), TZ)
    assert may_see_day(OWNER, today - timedelta(days=1), TZ)
