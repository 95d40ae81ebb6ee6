"""Days, clock times and counts as a model passes them from speech: "tomorrow", "Friday",
"7pm", "7:30 PM", "four", "a couple". Understood in the restaurant's time zone, or refused
with a Refusal that says exactly what to pass instead.

Dates go through dateparser (a well-kept library for "next Friday", "Nov 21", "the 21st");
clock times and counts are a small closed grammar, because a wrong guess at either books the
wrong table: an hour said without AM or PM is settled by the opening hours, else asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from domain.refusal import Refusal

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
_COUNT_PHRASES = {  # said instead of a number
    "a couple": 2, "couple": 2, "a couple of": 2, "a pair of": 2, "a pair": 2, "pair": 2,
    "a dozen": 12, "dozen": 12, "half a dozen": 6, "a half dozen": 6, "just me": 1,
    "myself": 1, "me": 1, "just one": 1, "a single": 1, "single": 1,
}


_DIGIT_WORDS = "|".join(k for k, v in _UNITS.items() if 0 < v < 10)
_NUMBER_WORD = re.compile(
    rf"\b(?:(?P<tens>{'|'.join(_TENS)})(?:[ -](?P<unit>{_DIGIT_WORDS}))?"
    rf"|(?P<word>{'|'.join(_UNITS)}))\b"
)


def words_to_digits(text: str) -> str:
    """Number words to digits: "seven thirty" -> "7 30", "twenty-two" -> "22"."""

    def digits(m: re.Match[str]) -> str:
        if m["word"]:
            return str(_UNITS[m["word"]])
        return str(_TENS[m["tens"]] + (_UNITS[m["unit"]] if m["unit"] else 0))

    return _NUMBER_WORD.sub(digits, text.lower())


# ---------------------------------------------------------------- counts


_PEOPLE = r"(?:people|persons?|guests?|adults?|of us|pax|diners|covers|seats?|heads)"


def parse_count(value: int | str, what: str, example: str) -> int:
    """A whole number from 5, "5", "five", "five people", "party of five", "a couple"."""
    if isinstance(value, bool):
        raise Refusal(f"Pass {what} as a whole number, e.g. {example}.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = " ".join(str(value).lower().replace(",", " ").split())
    text = re.sub(r"^(?:a )?(?:table|party|group|booking|reservation) (?:of|for) ", "", text)
    text = re.sub(r"^(?:for|of|just) ", "", text)
    text = re.sub(rf" {_PEOPLE}$| total$| in total$| altogether$", "", text)
    if text in _COUNT_PHRASES:
        return _COUNT_PHRASES[text]
    digits = words_to_digits(text).split()
    if len(digits) == 1 and digits[0].isdigit():
        return int(digits[0])
    raise Refusal(
        f"'{value}' is not a number I can read for {what}. Pass it as a whole number, "
        f"e.g. {example}; if the caller gave several, ask for the total."
    )


# ---------------------------------------------------------------- days

_RELATIVE = {"today": 0, "tonight": 0, "this evening": 0, "this afternoon": 0,
             "this morning": 0, "later today": 0, "tomorrow": 1, "tomorrow night": 1,
             "tomorrow evening": 1, "tomorrow morning": 1, "tomorrow afternoon": 1,
             "the day after tomorrow": 2, "day after tomorrow": 2}


def parse_day(value: str, today: date) -> date:
    """The day the caller means, seen from `today` in the restaurant's time zone."""
    text = " ".join(value.lower().replace(",", " ").split())
    text = re.sub(r"^(?:on|for) ", "", text)
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    if text in _RELATIVE:
        return today + timedelta(days=_RELATIVE[text])
    words = text.split()
    if words and words[-1] in ("night", "evening", "morning", "afternoon", "lunch", "dinner"):
        words = words[:-1]  # "friday night" is Friday
    if words and words[-1] in WEEKDAY_NAMES and len(words) <= 2 and words[:1] in (
        [words[-1]], ["this"], ["on"], ["coming"], ["next"]
    ):
        ahead = (WEEKDAY_NAMES.index(words[-1]) - today.weekday()) % 7
        if words[0] == "next" and ahead == 0:
            ahead = 7
        return today + timedelta(days=ahead)
    found = _dateparser_day(text, today)
    if found is not None and found < today and not re.search(r"\b\d{4}\b", text):
        found = None  # a misreading ("a week from today" -> last week): ask, never guess
    if found is None:
        raise Refusal(
            f"'{value}' is not a date I can read. Pass the date as YYYY-MM-DD (today is "
            f"{today.strftime('%A')} {today.isoformat()}), or as the caller said it: "
            "'tomorrow', 'Saturday', 'November 21'."
        )
    return found


def _dateparser_day(text: str, today: date) -> date | None:
    import dateparser  # imported on first use: a second of import the worker pays in prewarm

    base = datetime(today.year, today.month, today.day, 12, 0)
    parsed = dateparser.parse(text, languages=["en"], settings={
        "PREFER_DATES_FROM": "future", "RELATIVE_BASE": base, "DATE_ORDER": "MDY",
        "PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False,
    })
    return parsed.date() if parsed is not None else None


def warm_up() -> None:
    """Import and exercise the date parser once, off any call's path (worker prewarm)."""
    _dateparser_day("next friday", date(2026, 1, 1))


# ---------------------------------------------------------------- clock times

_CLOCK = re.compile(
    r"^(?P<h>\d{1,2})(?:(?::|\.|\s)(?P<m>\d{2}))?(?::\d{2})?\s*"
    r"(?P<ampm>a\.?m\.?|p\.?m\.?|in the morning|in the evening|at night|in the afternoon|"
    r"tonight|o ?clock)?$"
)
_PM_WORDS = ("p", "in the evening", "at night", "in the afternoon", "tonight")


def parse_clock(value: str, bookable: Callable[[time], bool] | None = None) -> time:
    """The time meant by "19:00", "7pm", "7:30 PM", "seven thirty", "half past seven".

    An hour said without AM/PM is the one of the two that `bookable` allows; if both or
    neither fit, the caller is asked.
    """
    text = " ".join(value.lower().replace("’", "'").split())
    evening = re.match(r"^(?:tonight|this evening|in the evening)(?: at| around)? (.+)$", text)
    if evening:
        text = f"{evening[1]} pm"
    text = re.sub(r"^(?:at|around|about|for) ", "", text)
    text = text.replace("o'clock", "o clock").replace("oclock", "o clock")
    if text in ("noon", "midday", "12 noon", "lunchtime"):
        return time(12, 0)
    text = words_to_digits(text)
    text = re.sub(r"^(\d{1,2}) 30$", r"\1:30", text)
    relative = re.match(r"^(half|quarter|\d{1,2}) (past|after|to|before) (\d{1,2})(.*)$", text)
    if relative:
        amount, direction, hour, rest = relative.groups()
        minutes = {"half": 30, "quarter": 15}.get(amount) or int(amount)
        if direction in ("to", "before"):
            hour, minutes = str((int(hour) - 1) % 12 or 12), 60 - minutes
        text = f"{hour}:{minutes:02d}{rest}"
    match = _CLOCK.match(text.strip())
    refusal = Refusal(
        f"'{value}' is not a time I can read. Pass the time as HH:MM on the 24-hour clock "
        "(e.g. 19:30), or as said with AM or PM (e.g. '7:30 PM')."
    )
    if match is None:
        raise refusal
    hour, minute = int(match["h"]), int(match["m"] or 0)
    ampm = (match["ampm"] or "").replace(".", "")
    if minute > 59 or hour > 23:
        raise refusal
    if ampm and not ampm.startswith("o"):
        if hour > 12 or hour == 0:
            raise refusal
        pm = ampm.startswith(_PM_WORDS)
        return time((hour % 12) + (12 if pm else 0), minute)
    if hour == 0 or hour >= 13 or (len(match["h"]) == 2 and (match["m"] or hour < 10)):
        return time(hour, minute)  # a 24-hour clock time: "19:00", "09:30", "10:00"
    if hour == 12:
        return time(12, minute)
    morning, evening = time(hour, minute), time(hour + 12, minute)
    if bookable is not None:
        fits = [t for t in (morning, evening) if bookable(t)]
        if len(fits) == 1:
            return fits[0]
    raise Refusal(
        f"'{value}' could be {hour}:{minute:02d} AM or PM. Ask the caller which, then pass "
        f"e.g. '{hour}:{minute:02d} PM' or {hour + 12}:{minute:02d}."
    )


_PM_HINT = re.compile(r"\b(?:tonight|evening|night|dinner|supper|afternoon|p\.? ?m\b\.?)")
_AM_HINT = re.compile(r"\b(?:morning|breakfast|brunch|a\.? ?m\b\.?)")


def part_of_day(text: str) -> str | None:
    """"pm" or "am" when the words say which half of the day ("tonight", "in the morning")."""
    text = text.lower()
    pm, am = bool(_PM_HINT.search(text)), bool(_AM_HINT.search(text))
    return "pm" if pm and not am else "am" if am and not pm else None


def hour_said_bare(heard: str, at: time) -> bool:
    """Whether the caller said this time's hour without AM/PM ("tomorrow at 8"), so a model
    that passed "08:00" or "20:00" chose a half of the day the caller never named."""
    text = words_to_digits(heard.lower().replace("’", "'"))
    text = re.sub(r"\boh\b", "0", text)
    text = re.sub(r"(?:\d[\s.-]?){7,}", " ", text)  # a phone number said with it is no hour
    if not text or part_of_day(text) or at.hour in (0, 12):
        return False
    if at.hour >= 13 and re.search(rf"\b{at.hour}(?::\d\d)?\b", text):
        return False  # "20:00" said as such
    return re.search(rf"\b{at.hour % 12}(?::\d\d)?\b", text) is not None


# ---------------------------------------------------------------- phone numbers

_REPEAT = {"double": 2, "triple": 3}


def spoken_digits(text: str) -> str:
    """A phone number as read out: "six one seven, five five five, oh one double nine" ->
    "617 555 0199". Digits already in the text are kept; other words are left for the phone
    number check to refuse."""
    words = words_to_digits(text.replace(",", " ").replace("-", " ")).split()
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in _REPEAT and i + 1 < len(words) and words[i + 1].isdigit():
            out.append(words[i + 1] * _REPEAT[w])
            i += 2
            continue
        out.append({"oh": "0", "o": "0", "plus": "+"}.get(w, w))
        i += 1
    return " ".join(out)
