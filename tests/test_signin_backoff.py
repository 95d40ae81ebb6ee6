"""Sign-in back-off in Firestore (store/signin.py): atomic across parallel requests, growing
per failure, forgotten on success, and swept when stale. Against the real emulator."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from services.board.signin import HashQueue, SignIn
from store.signin import BACKOFF, Backoff, SignInRecords, key_of

POLICY = Backoff(free=5, base_s=2.0, max_s=300.0)


def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_a_cap():
    assert [POLICY.wait_after(n) for n in range(4)] == [0.0] * 4
    assert [POLICY.wait_after(n) for n in (5, 6, 7, 8)] == [2.0, 4.0, 8.0, 16.0]
    assert POLICY.wait_after(40) == 300.0


async def test_a_burst_of_parallel_attempts_lets_only_the_free_ones_through(db):
    records = SignInRecords(db.db)
    key = key_of("account", "burst")
    waits = await asyncio.gather(*(records.claim(key, POLICY) for _ in range(24)))
    assert sum(1 for w in waits if w == 0) == POLICY.free, waits
    # the ones that lost the race are counted too (a read that already saw the back-off is
    # refused without writing): a burst never counts as one guess
    assert await records.failures(key) > POLICY.free
    assert await records.claim(key, POLICY) > 0, "the next attempt must wait"


async def test_after_the_wait_one_attempt_goes_on_and_a_success_forgets_the_key(db):
    now = [1_000_000.0]
    records = SignInRecords(db.db, clock=lambda: now[0])
    key = key_of("client", "127.0.0.9")
    for _ in range(POLICY.free):
        assert await records.claim(key, POLICY) == 0
    assert await records.claim(key, POLICY) == POLICY.wait_after(POLICY.free)
    now[0] += POLICY.wait_after(POLICY.free)
    assert await records.claim(key, POLICY) == 0
    assert await records.claim(key, POLICY) == POLICY.wait_after(POLICY.free + 1)
    await records.succeeded(key)
    assert await records.failures(key) == 0
    assert await records.claim(key, POLICY) == 0


async def test_keys_hold_no_address_or_name_in_clear_and_stale_ones_are_swept(db):
    records = SignInRecords(db.db)
    key = key_of("client", "203.0.113.7")
    assert "203.0.113.7" not in key and "owner" not in key_of("account", "owner")
    await records.claim(key, POLICY)
    stored = (await db.db.document(f"{BACKOFF}/{key}").get()).to_dict()
    assert "203.0.113.7" not in str(stored)
    await db.db.document(f"{BACKOFF}/{key}").update(
        {"expires_at": datetime.now(UTC) - timedelta(seconds=1)})
    assert await records.sweep() == 1
    assert await records.failures(key) == 0


async def test_the_hash_queue_sheds_beyond_its_bound_and_keeps_places_for_known_browsers():
    from services.board.auth import dummy_hash

    queue = HashQueue(threads=1, waiting=2)
    try:
        results = await asyncio.gather(*(queue.verify(dummy_hash(), "guess") for _ in range(10)),
                                       queue.verify(dummy_hash(), "guess", known=True))
        assert results[:3] == [False] * 3 and results[3:10] == [None] * 7
        assert results[10] is False, "a known browser got a place of its own"
        assert queue.shed == 7
    finally:
        queue.close()


async def test_names_that_cannot_exist_are_refused_without_a_500(db):
    signin = SignIn(db.db)
    try:
        for name in ("../staff_users", "a/b", "ünïcode", "", "x" * 500):
            attempt = await signin.attempt(name, "some-password", "127.0.0.5", None)
            assert attempt.user is None
        long = await signin.attempt("owner", "p" * 1_000_000, "127.0.0.6", None)
        assert long.user is None
    finally:
        signin.queue.close()
