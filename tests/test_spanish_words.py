"""A Spanish-speaking caller's sizes, days and times (domain/spanish.py, issue 27)."""

from __future__ import annotations

from datetime import date

import pytest

from domain import spanish
from domain.natural import parse_clock, parse_day
from domain.pricing import build_line
from tests.test_pricing import MENU


@pytest.mark.parametrize(("said", "size"), [("grande", "large"), ("Grande", "large"),
                                            ("mediano", "medium"), ("pequeño", "small"),
                                            ("large", "large"), (None, None)])
def test_grande_is_large_for_a_spanish_caller(said, size):
    assert spanish.size(said) == size


def test_grande_stays_the_coffee_chains_medium_for_an_english_caller():
    assert build_line(MENU, "latte", size="grande").size == "medium"
    assert build_line(MENU, spanish.to_english("latte grande con leche de avena")).size == "large"


@pytest.mark.parametrize(("said", "day"), [
    ("mañana", date(2026, 11, 21)), ("hoy", date(2026, 11, 20)),
    ("el viernes", date(2026, 11, 20)), ("el próximo viernes", date(2026, 11, 27)),
    ("pasado mañana", date(2026, 11, 22)), ("el sábado", date(2026, 11, 21)),
])
def test_spanish_days(said, day):
    assert parse_day(spanish.to_english(said), date(2026, 11, 20)) == day


@pytest.mark.parametrize(("said", "clock"), [
    ("a las ocho de la noche", "20:00"), ("a las siete y media de la tarde", "19:30"),
    ("a las nueve de la mañana", "09:00"), ("las ocho menos cuarto de la tarde", "19:45"),
    ("mediodía", "12:00"),
])
def test_spanish_times(said, clock):
    assert parse_clock(spanish.to_english(said)).strftime("%H:%M") == clock


def test_a_bare_spanish_hour_is_settled_like_an_english_one():
    assert spanish.to_english("a las siete") == "7"
    with pytest.raises(Exception, match="AM or PM"):
        parse_clock(spanish.to_english("a las siete"))

