"""Opening hours and table-slot rules, decided in code rather than by the model."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from domain.natural import hour_said_bare, parse_clock, parse_count, parse_day, part_of_day
from domain.refusal import Refusal
from domain.seating import DAY_MINUTES, Hold, minute_of
from models import LATEST_NIGHT_CLOSE, WEEKDAYS, RestaurantSettings, TimeRange

MAX_DAYS_AHEAD = 60
DAY_NAMES = dict(zip(WEEKDAYS, (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
), strict=True))


class LargeParty(Refusal):
    """A party above the maximum: the caller gets the large-party answer or a person."""


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def say_time(t: time) -> str:
    hour = t.hour % 12 or 12
    suffix = "AM" if t.hour < 12 else "PM"
    return f"{hour}:{t.minute:02d} {suffix}" if t.minute else f"{hour} {suffix}"


def say_day(day: date, today: date) -> str:
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    return f"{DAY_NAMES[WEEKDAYS[day.weekday()]]}, {day.strftime('%B')} {day.day}"


def small_hours(t: time) -> bool:
    """A time that belongs to the night before: after midnight, before the latest close."""
    return t < LATEST_NIGHT_CLOSE


def open_past_midnight(settings: RestaurantSettings) -> bool:
    return any(r.past_midnight for ranges in settings.hours.values() for r in ranges)


def _ranges_touching(settings: RestaurantSettings, day: date) -> list[tuple[date, TimeRange]]:
    """The ranges open on calendar `day`: the night before's that run past midnight, then
    the day's own."""
    before = day - timedelta(days=1)
    return ([(before, r) for r in settings.ranges_on(before) if r.past_midnight]
            + [(day, r) for r in settings.ranges_on(day)])


def open_periods(settings: RestaurantSettings, day: date) -> list[tuple[datetime, datetime]]:
    """(opens, closes) as local wall-clock times (naive) for the ranges open on `day`; a
    night's close is on the next day."""
    out = []
    for d, r in _ranges_touching(settings, day):
        start, end = r.span
        midnight = datetime.combine(d, time(0))
        out.append((midnight + timedelta(minutes=start), midnight + timedelta(minutes=end)))
    return out


def _wall_clock(settings: RestaurantSettings, moment: datetime) -> datetime:
    return moment.astimezone(settings.tz).replace(tzinfo=None)


def is_open(settings: RestaurantSettings, now: datetime) -> bool:
    local = _wall_clock(settings, now)
    return any(a <= local < b for a, b in open_periods(settings, local.date()))


def seating_times(settings: RestaurantSettings, day: date) -> list[time]:
    """Slot starts a table can be booked at on calendar `day`: on each range's slot grid,
    ending by its closing time; a night's seatings after midnight are the next day's."""
    times: list[time] = []
    step = settings.slot_minutes
    for d, r in _ranges_touching(settings, day):
        opens, closes = r.span
        shift = (d - day).days * DAY_MINUTES  # the night before: its minutes are -1440 here
        for m in range(-(-opens // step) * step, closes - step + 1, step):
            if 0 <= m + shift < DAY_MINUTES:
                times.append(_clock(m + shift))
    return sorted(times)


def hours_text(settings: RestaurantSettings) -> str:
    parts = []
    for key in WEEKDAYS:
        ranges = settings.hours.get(key, [])
        spans = " and ".join(f"{say_time(r.open)} to {say_time(r.close)}" for r in ranges)
        parts.append(f"{DAY_NAMES[key]} {spans or 'closed'}")
    return "; ".join(parts)


def check_party(settings: RestaurantSettings, party_size: int, note: str | None = None) -> None:
    """`note`: what the restaurant says about large parties, in the caller's language."""
    if party_size < 1:
        raise Refusal("Ask the caller how many people the table is for.")
    if party_size > settings.max_party_size:
        raise LargeParty(
            f"We book tables for up to {settings.max_party_size} people by phone. "
            f"{note or settings.large_party_note} Offer to transfer the caller to staff, or "
            "take a message."
        )


def check_booking(
    settings: RestaurantSettings, now: datetime, day: date, at: time, party_size: int,
    large_party_note: str | None = None,
) -> None:
    """Every rule but capacity (which only a transaction can decide)."""
    check_party(settings, party_size, large_party_note)
    local_now = now.astimezone(settings.tz)
    if day < local_now.date() or (day == local_now.date() and at <= local_now.time()):
        raise Refusal(
            f"{day.isoformat()} {at.strftime('%H:%M')} is in the past (it is now "
            f"{local_now.strftime('%A %Y-%m-%d %H:%M')}). Ask for a future date and time.",
            said=("refused_past", {}))
    if day > local_now.date() + timedelta(days=MAX_DAYS_AHEAD):
        raise Refusal(
            f"We take bookings up to {MAX_DAYS_AHEAD} days ahead. Ask for an earlier date."
        )
    times = seating_times(settings, day)
    if not settings.ranges_on(day) and not small_hours(at):
        times = []  # only the night before runs past midnight into this day
    if not times:
        raise Refusal(
            f"We are closed on {DAY_NAMES[WEEKDAYS[day.weekday()]]}s. Ask for another day. "
            f"Hours: {hours_text(settings)}.", said=("refused_closed", {}))
    if at not in times:
        nearest = sorted(times, key=lambda t: abs(_minutes(t) - _minutes(at)))[:3]
        raise Refusal(
            f"We seat tables every {settings.slot_minutes} minutes during opening hours; "
            f"{say_time(at)} is not available that day. Nearest times: "
            f"{', '.join(say_time(t) for t in sorted(nearest))}. Ask which suits the caller.",
            said=("refused_not_seated", {"time": at, "times": sorted(nearest)}))


def nearest_free_times(
    settings: RestaurantSettings,
    now: datetime,
    day: date,
    wanted: time,
    party_size: int,
    holds: Sequence[Hold],
    limit: int = 3,
) -> list[time]:
    """Bookable times that day where a table (or the seats) stays free for the whole meal,
    closest to the wanted time first."""
    local_now = now.astimezone(settings.tz)
    free = [
        t for t in seating_times(settings, day)
        if (day > local_now.date() or t > local_now.time())
        and settings.seating.fit(holds, minute_of(t), party_size) is not None
    ]
    free.sort(key=lambda t: (abs(_minutes(t) - _minutes(wanted)), _minutes(t)))
    return sorted(free[:limit])


def check_pickup(settings: RestaurantSettings, now: datetime, ready: datetime) -> None:
    """Orders are taken while the kitchen is open and can be ready before closing (a night's
    closing after midnight included)."""
    local = _wall_clock(settings, now)
    current = next(
        ((a, b) for a, b in open_periods(settings, local.date()) if a <= local < b), None)
    if current is None:
        raise Refusal(
            f"The kitchen is closed now, so we cannot take a pickup order. Hours: "
            f"{hours_text(settings)}. Offer to help with a table booking instead."
        )
    opens, closes = current
    ready_at = _wall_clock(settings, ready)
    if ready_at > closes:
        when = "tonight" if closes.date() > opens.date() else "today"
        raise Refusal(
            f"An order now would be ready at {say_time(ready_at.time())}, after we close at "
            f"{say_time(closes.time())}. Tell the caller we cannot take it {when}."
        )


# ---------------------------------------------------------------- what the model passes


def read_day(settings: RestaurantSettings, now: datetime, said: str) -> date:
    """"2026-11-21", "tomorrow", "Friday", "Nov 21", in the restaurant's time zone."""
    return parse_day(said, now.astimezone(settings.tz).date())


def read_time(settings: RestaurantSettings, day: date, said: str, *, heard: str = "",
              hint: str = "", was: time | None = None, now: datetime | None = None) -> time:
    """"19:00", "7pm", "7:30 PM"; a bare "seven" is whichever of 7 AM / 7 PM we seat at,
    asked when both are. The caller's words (`heard`), the day as said (`hint`: "tonight")
    and the booking being moved (`was`: 7 PM, "make it 8") settle the half of the day; a time
    the model made "08:00" or "20:00" from a bare "8" is read as the bare hour, never guessed."""
    seats = set(seating_times(settings, day))
    if now is not None and day == now.date():
        seats = {t for t in seats if t > now.time()}  # this morning is gone by the evening
    part = part_of_day(heard) or part_of_day(hint) or (
        None if was is None else "pm" if was.hour >= 12 else "am")
    if part and not part_of_day(said):
        try:
            parse_clock(said)  # a 24-hour time or 12 noon stands as passed
        except Refusal:
            said = f"{said} {part}"  # "8" said with "tonight": 8 PM
    at = parse_clock(said, bookable=lambda t: t in seats)
    if part is None and hour_said_bare(heard, at) and not part_of_day(said):
        h, m = at.hour % 12, at.minute
        fits = [t for t in (time(h, m), time(h + 12, m)) if t in seats]
        if len(fits) == 2:
            raise Refusal(
                f"The caller said {h}:{m:02d} without AM or PM, and we seat at both. Ask the "
                f"caller which, then pass e.g. '{h}:{m:02d} PM' or {h + 12}:{m:02d}."
            )
        if fits:
            return fits[0]
    return at


_NIGHT = re.compile(r"\b(?:tonight|night|late)\b")
_NIGHT_WORDS = re.compile(r"\b(?:late )?tonight\b|\bat night\b|\blate\b")
_TODAY = ("today", "tonight", "this evening", "later today", "late tonight")
_TOMORROW = re.compile(r"\btomorrow\b")


def _night_clock(said: str) -> time | None:
    """A bare hour said of the night ("1", "12:30", "half past twelve", "1 tonight") as the
    small-hours time it means; None for an evening hour or one said with AM/PM."""
    bare = _NIGHT_WORDS.sub(" ", said.lower()).strip()
    if part_of_day(bare):
        return None  # "1 AM" stands as said
    try:
        at = parse_clock(f"{bare} am")  # the model's "01:30 at night" too: 1:30 AM
    except Refusal:
        return None  # "00:30", "13:00" (no AM time) are clock times, read as said
    return at if small_hours(at) and at.hour < 5 else None


def read_when(
    settings: RestaurantSettings, now: datetime, date_said: str | None, time_said: str | None,
    *, heard: str = "", was: tuple[date | None, time | None] = (None, None),
) -> tuple[date | None, time | None]:
    """The day and time the caller means, late nights included: "tonight at 12:30" said in
    the evening is 00:30 the next calendar day; said after midnight, "tonight" is the night
    still running and "tomorrow" is asked (later today, or the day after?)."""
    local = now.astimezone(settings.tz)
    after_midnight = small_hours(local.time())
    said_day = " ".join((date_said or "").lower().split())
    if after_midnight and _TOMORROW.search(said_day):
        today = DAY_NAMES[WEEKDAYS[local.weekday()]]
        after = DAY_NAMES[WEEKDAYS[(local.weekday() + 1) % 7]]
        raise Refusal(
            f"It is {say_time(local.time())} on {today}, after midnight: 'tomorrow' may mean "
            f"{today} (later today) or {after}. Ask the caller which, then pass the day "
            f"by name ('{today}' or '{after}')."
        )
    day = read_day(settings, now, date_said) if date_said else was[0]
    night = bool(_NIGHT.search(f"{said_day} {time_said or ''}")) or (
        said_day in _TODAY and "tonight" in heard.lower())
    at = _night_clock(time_said) if time_said and night else None
    if at is None and time_said:
        at = read_time(settings, day or local.date(), time_said, heard=heard,
                       hint=date_said or "", was=was[1], now=now)
    elif at is None:
        at = was[1]
    if night and at is not None and 6 <= at.hour < 12 and not part_of_day(time_said or ""):
        at = at.replace(hour=at.hour + 12)  # "tonight at 11:30" is no morning
    today_said = said_day in _TODAY
    if (night or today_said) and day is not None and at is not None and small_hours(at) and (
            not (after_midnight and today_said)):
        day += timedelta(days=1)  # the night of `day` runs into the next calendar day
    return day, at


def read_party(said: int | str) -> int:
    """4, "4", "four", "four people", "a couple"."""
    return parse_count(said, "party_size", "4")
