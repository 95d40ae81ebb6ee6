"""How values are said to a caller, per language: prices, times, days, codes, phone numbers
and order lines. Menu names (dishes, sizes, options) are never translated: they are said as
the menu writes them, so the kitchen and the caller mean the same thing.

English keeps the house forms ("$12.50", "7:30 PM", "Saturday, November 21", "617 555 0142").
Spanish says what a Spanish-speaking host says, in a form a Spanish voice reads correctly:
"12 dólares con 50 centavos", "las 7 y media de la tarde", "el sábado 21 de noviembre", a
phone number digit by digit in words ("seis uno siete, cinco cinco cinco, …"), and a booking
code one character at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from domain import booking
from domain.contact import spoken as phone_groups
from domain.lines import say
from domain.pricing import describe_line, money, spoken_list
from domain.refusal import Refusal
from models import LANGUAGES, OrderLine

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "Spoken", "spoken_in"]
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
_NAMES_IN = {"en": LANGUAGE_NAMES, "es": {"en": "inglés", "es": "español"}}


def language_name(language: str, said_in: str) -> str:
    """"Spanish" said in English, "español" in Spanish."""
    return _NAMES_IN.get(said_in, LANGUAGE_NAMES).get(language, language)

_ES_DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_ES_MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
              "septiembre", "octubre", "noviembre", "diciembre")
_ES_DIGITS = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve")


@dataclass(frozen=True)
class Spoken:
    """The spoken forms of one language."""

    language: str

    @property
    def spanish(self) -> bool:
        return self.language == "es"

    def money(self, cents: int) -> str:
        if not self.spanish:
            return money(cents)
        dollars, rest = divmod(cents, 100)
        parts = []
        if dollars:
            parts.append(f"{dollars} {'dólar' if dollars == 1 else 'dólares'}")
        if rest:
            parts.append(f"{rest} {'centavo' if rest == 1 else 'centavos'}")
        return " con ".join(parts) if parts else "0 dólares"

    def time(self, t: time) -> str:
        """"7:30 PM" / "las 7 y media de la tarde" (no preposition: callers add their own)."""
        if not self.spanish:
            return booking.say_time(t)
        hour = t.hour % 12 or 12
        article = "la" if hour == 1 else "las"
        minutes = {0: "", 15: " y cuarto", 30: " y media"}.get(t.minute, f" y {t.minute}")
        if t.hour < 6:
            part = "de la noche" if t.hour == 0 else "de la madrugada"
        elif t.hour < 12:
            part = "de la mañana"
        elif t.hour < 20:
            part = "de la tarde"
        else:
            part = "de la noche"
        return f"{article} {hour}{minutes} {part}"

    def day(self, day: date, today: date) -> str:
        if not self.spanish:
            return booking.say_day(day, today)
        if day == today:
            return "hoy"
        if day == today + timedelta(days=1):
            return "mañana"
        return f"el {_ES_DAYS[day.weekday()]} {day.day} de {_ES_MONTHS[day.month - 1]}"

    def when(self, day: date, at: time, today: date, now: time | None = None) -> str:
        """"Saturday, November 21 at 7 PM" / "el sábado 21 de noviembre a las 7 de la tarde".
        A time after midnight is said as the night it belongs to: 00:30 on Saturday is
        "tonight at 12:30 AM" on Friday evening (and still after midnight, with `now`)."""
        if booking.small_hours(at):
            return self._night_of(day - timedelta(days=1), at, today, now)
        if not self.spanish:
            return f"{self.day(day, today)} at {self.time(at)}"
        said = self.time(at)
        return f"{self.day(day, today)} a {said}"

    def _night_of(self, night: date, at: time, today: date, now: time | None) -> str:
        tonight = today - timedelta(days=1) if now is not None and booking.small_hours(
            now) else today
        if night == tonight:
            said = "esta noche" if self.spanish else "tonight"
        elif night == tonight + timedelta(days=1):
            said = "mañana por la noche" if self.spanish else "tomorrow night"
        elif self.spanish:
            said = f"la noche del {_ES_DAYS[night.weekday()]} {night.day} de " \
                   f"{_ES_MONTHS[night.month - 1]}"
        else:
            said = f"{booking.say_day(night, today)} night"
        return f"{said} a {self.time(at)}" if self.spanish else f"{said} at {self.time(at)}"

    def code(self, code: str) -> str:
        """One character at a time, as a booking or order code is read out."""
        return ", ".join(code) if self.spanish else " ".join(code)

    def phone(self, e164: str) -> str:
        groups = phone_groups(e164)
        if not self.spanish:
            return groups
        return ", ".join(" ".join(_ES_DIGITS[int(d)] for d in g if d.isdigit())
                         for g in groups.split())

    def line(self, line: OrderLine) -> str:
        """"2 large Cappuccino with oat milk" / "2 Cappuccino, Large, con Oat milk"."""
        if not self.spanish:
            return describe_line(line)
        parts = [f"{line.quantity} {line.name}"]
        if line.size_name:
            parts.append(line.size_name)
        said = ", ".join(parts)
        if line.options:
            said += (", con " if line.size_name else " con ") + self.items(
                [o.name for o in line.options])
        if line.special_instructions:
            said += f" ({line.special_instructions})"
        return said

    def items(self, parts: list[str]) -> str:
        if not self.spanish:
            return spoken_list(parts)
        if len(parts) <= 1:
            return "".join(parts)
        return ", ".join(parts[:-1]) + " y " + parts[-1]


def refusal(language: str, refused: Refusal) -> str:
    """A refusal's fixed line (`Refusal.said`) in the caller's language, its times said as
    that language says them; the model's English text when it has none."""
    if refused.said is None:
        return str(refused)
    key, values = refused.said
    sp = spoken_in(language)

    def words(value: object) -> str:
        if isinstance(value, time):
            return sp.time(value)
        if isinstance(value, list):
            return sp.items([words(v) for v in value])
        return str(value)

    return say(language, key, **{k: words(v) for k, v in values.items()})


def spoken_in(language: str) -> Spoken:
    return Spoken(language if language in LANGUAGES else "en")
