"""At the host stand: bookings taken on the board obey the line's rules and capacity; staff
seat, finish and change them; two tablets never overwrite each other."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain import booking
from store.texts import set_opted_out, set_text_consent
from tests.board.conftest import api_client, screenshot, show_day, until


async def _open_day(db, skip: int = 1):
    """A future day the restaurant seats on (by the real clock: the board uses it)."""
    settings = await db.load_restaurant_settings()
    day = datetime.now(settings.tz).date() + timedelta(days=skip)
    while not booking.seating_times(settings, day):
        day += timedelta(days=1)
    return settings, day


async def _phone_booking(api, day, at, party, name) -> str:
    """A booking staff take over the phone (the board's API, the line's rules)."""
    made = await api.post("/api/bookings", json={
        "date": day.isoformat(), "time": at.strftime("%H:%M"), "party": party, "name": name,
        "phone": "617 555 0142"})
    assert made.status_code == 201, made.text
    return made.json()["code"]


async def _seated_at(api, day, at) -> int:
    """Guests the room holds at that time, as the board's timeline shows it."""
    line = (await api.get(f"/api/timeline?day={day.isoformat()}")).json()
    return next(s["used"] for s in line["slots"] if s["time"] == at.strftime("%H:%M"))


async def test_a_board_booking_is_refused_when_the_room_is_full(board_db, board_server, tablet):
    page = tablet
    settings, day = await _open_day(board_db, skip=3)
    at = booking.seating_times(settings, day)[-4]
    api = await api_client(board_server)
    try:  # the room fills up at that time, party by party, until the rules say no more
        for n in range(1, 200):
            made = await api.post("/api/bookings", json={
                "date": day.isoformat(), "time": at.strftime("%H:%M"), "party": 2,
                "name": f"Guest {n}", "phone": "617 555 0142"})
            if made.status_code != 201:
                break
        assert made.status_code == 422 and "full" in made.json()["error"], made.text
        assert n > 2, "the room took (almost) nobody"
        used_before = await _seated_at(api, day, at)
    finally:
        await api.aclose()

    await page.goto(board_server.url + "/bookings")
    await until(page, "window.__board.ready")
    await show_day(page, day)
    await page.click("#add-booking")
    form = page.locator("#booking-form")
    await form.locator("select[name=time] option").first.wait_for(state="attached")
    # The time list already says the full time is full, and why; it cannot be chosen.
    full = form.locator(f'select[name=time] option[value="{at.strftime("%H:%M")}"]')
    assert await full.is_disabled()
    assert "full" in await full.inner_text(), await full.inner_text()

    api = await api_client(board_server)
    try:
        assert await _seated_at(api, day, at) == used_before
    finally:
        await api.aclose()
    names = [s.to_dict()["name"] async for s in board_db.db.collection("reservations").stream()]
    assert "Walk In Full" not in names, "the board overbooked"


async def test_staff_add_seat_finish_and_change_bookings(board_db, board_server, tablet):
    page = tablet
    settings, day = await _open_day(board_db, skip=5)
    times = booking.seating_times(settings, day)
    at, later = times[-6], times[-1]  # far enough apart that the meals do not overlap
    api = await api_client(board_server)
    other = await _phone_booking(api, day, later, 3, "Phone Booker")

    await page.goto(board_server.url + "/bookings")
    await until(page, "window.__board.ready")
    await show_day(page, day)
    await page.click("#add-booking")
    form = page.locator("#booking-form")
    await form.locator("select[name=time] option").first.wait_for(state="attached")
    await form.locator("select[name=time]").select_option(at.strftime("%H:%M"))
    await form.locator("input[name=party]").fill("4")
    await form.locator("input[name=name]").fill("Gia Walkin")
    await form.locator("input[name=phone]").fill("617 555 0188")
    await form.locator("input[name=notes]").fill("window table")
    await form.locator("#booking-save").click()
    row = page.locator("#bookings tr", has_text="Gia Walkin")
    await row.wait_for()  # arrives through the listener, like a call's booking
    code = await row.get_attribute("data-code")
    saved = (await board_db.db.document(f"reservations/{code}").get()).to_dict()
    assert saved["party_size"] == 4 and saved["phone"] == "+16175550188"
    assert saved["notes"] == "window table" and saved["status"] == "confirmed"
    assert await _seated_at(api, day, at) == 4

    # the timeline of that evening shows the seats taken
    slot = page.locator(f'.slot[data-time="{at.strftime("%H:%M")}"]')
    await until(page, "!!document.querySelector("
                f"'.slot[data-time=\"{at.strftime('%H:%M')}\"][title*=\": 4 of\"]')")
    assert "4/" in await slot.inner_text()

    await row.locator("button[data-action=seated]").click()
    await page.locator(f'#bookings tr[data-code="{code}"][data-status="seated"]').wait_for()
    await page.locator(f'#bookings tr[data-code="{code}"] button[data-action=finished]').click()
    await page.locator(f'#bookings tr[data-code="{code}"][data-status="finished"]').wait_for()
    history = (await board_db.db.document(f"reservations/{code}").get()).to_dict()["history"]
    assert [h["action"] for h in history] == ["created", "seated", "finished"]
    assert history[-1]["call_id"] == f"board:{board_server.owner[0]}"

    # change the phone booking from 3 to 5 covers: through change_reservation, seats moved
    other_row = page.locator(f'#bookings tr[data-code="{other}"]')
    await other_row.locator("button[data-action=change]").click()
    await form.locator("input[name=party]").fill("5")
    await form.locator("#booking-save").click()
    covers = f"#bookings tr[data-code=\"{other}\"] td:nth-child(2)"
    await until(page, f"document.querySelector('{covers}').textContent === '5'")
    assert await _seated_at(api, day, later) == 5
    await api.aclose()
    await screenshot(page, "bookings")


async def test_two_tablets_on_one_booking_the_stale_one_is_refused(board_db, board_server):
    settings, day = await _open_day(board_db, skip=6)
    at = booking.seating_times(settings, day)[-3]
    first, second = await api_client(board_server), await api_client(board_server)
    try:
        code = await _phone_booking(first, day, at, 2, "Two Tablets")
        snap = await board_db.db.document(f"reservations/{code}").get()
        stale = snap.update_time.rfc3339()
        moved = await first.post(f"/api/bookings/{code}/change", json={
            "date": day.isoformat(), "time": at.strftime("%H:%M"), "party": 4,
            "version": stale})
        assert moved.status_code == 200, moved.text
        late = await second.post(f"/api/bookings/{code}/cancel", json={"version": stale})
        assert late.status_code == 409, late.text
        assert late.json()["current"]["party_size"] == 4
        also_late = await second.post(f"/api/bookings/{code}/status",
                                      json={"status": "no_show", "version": stale})
        assert also_late.status_code == 409
        doc = (await board_db.db.document(f"reservations/{code}").get()).to_dict()
        assert doc["status"] == "changed" and doc["party_size"] == 4
        assert await _seated_at(first, day, at) == 4
    finally:
        await first.aclose()
        await second.aclose()


async def test_board_bookings_follow_the_lines_rules(board_db, board_server):
    settings, day = await _open_day(board_db, skip=2)
    api = await api_client(board_server)
    try:
        too_many = await api.post("/api/bookings", json={
            "date": day.isoformat(), "time": booking.seating_times(settings, day)[0]
            .strftime("%H:%M"), "party": settings.max_party_size + 1, "name": "Big Party",
            "phone": "6175550100"})
        assert too_many.status_code == 422 and "up to" in too_many.json()["error"]
        off_grid = await api.post("/api/bookings", json={
            "date": day.isoformat(), "time": "03:07", "party": 2, "name": "Night Owl",
            "phone": "6175550100"})
        assert off_grid.status_code == 422 and "Nearest times" in off_grid.json()["error"]
        past = await api.post("/api/bookings", json={
            "date": (day - timedelta(days=30)).isoformat(), "time": "12:00", "party": 2,
            "name": "Late", "phone": "6175550100"})
        assert past.status_code == 422 and "past" in past.json()["error"]
        bad_phone = await api.post("/api/bookings", json={
            "date": day.isoformat(), "time": booking.seating_times(settings, day)[0]
            .strftime("%H:%M"), "party": 2, "name": "No Phone", "phone": "12"})
        assert bad_phone.status_code == 422 and "phone" in bad_phone.json()["error"]
    finally:
        await api.aclose()
    names = [s.to_dict()["name"] async for s in board_db.db.collection("reservations").stream()]
    assert not {"Big Party", "Night Owl", "Late", "No Phone"} & set(names)


async def test_a_board_booking_for_a_guest_who_agreed_to_texts_is_reminded_by_text(
        board_db, board_server):
    """Staff book by phone for a guest who said yes to texts on an earlier call: the booking
    gets its text reminder, 24 h before, as a call's booking would; a guest who never said yes
    (or texted STOP) gets none."""
    settings, day = await _open_day(board_db, skip=3)
    at = booking.seating_times(settings, day)[0]
    agreed, stopped, unknown = "+16175550143", "+16175550144", "+16175550145"
    now = datetime.now(settings.tz)
    await set_text_consent(board_db, agreed, True, now, "en")
    await set_text_consent(board_db, stopped, True, now, "en")
    await set_opted_out(board_db, stopped, True)
    api = await api_client(board_server)
    try:
        made = {}
        for phone, name in ((agreed, "Ada Agreed"), (stopped, "Sam Stopped"),
                            (unknown, "Uma Unknown")):
            r = await api.post("/api/bookings", json={
                "date": day.isoformat(), "time": at.strftime("%H:%M"), "party": 2,
                "name": name, "phone": phone})
            assert r.status_code == 201, r.text
            made[phone] = r.json()
    finally:
        await api.aclose()
    assert [made[p]["text_reminder"] for p in (agreed, stopped, unknown)] == [True, False, False]
    entries = {s.id: s.to_dict() async for s in board_db.db.collection("outbound_calls").stream()}
    code = made[agreed]["code"]
    entry = entries[f"text-reminder-{code}"]
    starts = datetime.combine(day, at, tzinfo=settings.tz)
    assert entry["channel"] == "text" and entry["phone"] == agreed
    assert entry["next_try_at"] == starts - timedelta(hours=settings.reminder_hours_before)
    assert not {f"text-reminder-{made[p]['code']}" for p in (stopped, unknown)} & set(entries)
