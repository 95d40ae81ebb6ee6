"""Spanish as a caller hears it: every fixed line exists in both languages, values are said
the Spanish way, menu names stay as the menu writes them, and a restaurant file that offers
Spanish without its own Spanish lines is refused, naming the line."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from agents.language import heard
from domain.lines import HOUSE_LINES, RESTAURANT_LINES, UNKNOWN_NUMBER, restaurant_line, say
from domain.spoken import spoken_in
from models import ChosenOption, OrderLine, RestaurantSettings
from store.menu_file import MenuFileError, load_menu_file
from testkit.firestore import ROOT

ES = spoken_in("es")
EN = spoken_in("en")
LUPITA = ROOT / "data" / "casa-lupita.yaml"


def test_every_house_line_exists_in_spanish_and_says_something_else():
    assert set(HOUSE_LINES["es"]) == set(HOUSE_LINES["en"])
    for key, english in HOUSE_LINES["en"].items():
        spanish = HOUSE_LINES["es"][key]
        assert spanish.strip() and spanish != english, key
        fields = {f.split("}")[0] for f in english.split("{")[1:]}
        assert fields == {f.split("}")[0] for f in spanish.split("{")[1:]}, key


@pytest.mark.parametrize(("cents", "said"), [
    (1250, "12 dólares con 50 centavos"), (100, "1 dólar"), (5, "5 centavos"),
    (101, "1 dólar con 1 centavo"), (2000, "20 dólares"), (0, "0 dólares"),
])
def test_prices_in_spanish(cents, said):
    assert ES.money(cents) == said
    assert EN.money(cents) == f"${cents // 100}.{cents % 100:02d}"


@pytest.mark.parametrize(("at", "said"), [
    (time(19, 30), "las 7 y media de la tarde"), (time(13, 0), "la 1 de la tarde"),
    (time(9, 15), "las 9 y cuarto de la mañana"), (time(21, 5), "las 9 y 5 de la noche"),
    (time(12, 45), "las 12 y 45 de la tarde"),
    # a late night's hours (issue 26): just after midnight is still the night, then the
    # small hours ("madrugada"), never "de la mañana" for a table at 1 AM
    (time(0, 10), "las 12 y 10 de la noche"), (time(1, 30), "la 1 y media de la madrugada"),
    (time(6, 0), "las 6 de la mañana"),
])
def test_times_in_spanish(at, said):
    assert ES.time(at) == said


def test_days_codes_and_phone_numbers_in_spanish():
    today = date(2026, 11, 20)  # a Friday
    assert ES.day(today, today) == "hoy"
    assert ES.day(date(2026, 11, 21), today) == "mañana"
    assert ES.day(date(2026, 11, 25), today) == "el miércoles 25 de noviembre"
    assert ES.when(date(2026, 12, 1), time(20, 0), today) == (
        "el martes 1 de diciembre a las 8 de la noche")
    assert EN.when(date(2026, 12, 1), time(20, 0), today) == "Tuesday, December 1 at 8 PM"
    assert ES.code("KXT4MA") == "K, X, T, 4, M, A"
    assert ES.phone("+16175550142") == "seis uno siete, cinco cinco cinco, cero uno cuatro dos"
    assert EN.phone("+16175550142") == "617 555 0142"


def test_menu_names_stay_as_the_menu_writes_them():
    line = OrderLine(item_id="cappuccino", name="Cappuccino", size="large", size_name="Large",
                     options=[ChosenOption(group_id="milk", option_id="oat", name="Oat milk",
                                           price_delta_cents=75),
                              ChosenOption(group_id="extras", option_id="shot",
                                           name="Extra shot", price_delta_cents=75)],
                     quantity=2, unit_price_cents=625, line_price_cents=1250)
    assert ES.line(line) == "2 Cappuccino, Large, con Oat milk y Extra shot"
    assert EN.line(line) == "2 large Cappuccino with oat milk, extra shot"
    assert ES.items(["uno", "dos", "tres"]) == "uno, dos y tres"


def test_the_sample_restaurant_offers_spanish_with_its_own_spanish_lines():
    settings = load_menu_file(LUPITA).restaurant
    assert settings.languages == ["en", "es"] and settings.default_language == "en"
    for key in RESTAURANT_LINES:
        assert restaurant_line(settings, key, "es") == settings.lines["es"][key]
        assert restaurant_line(settings, key, "en") == getattr(settings, key)
    assert say("es", "greeting", name=settings.name) == (
        "¡Gracias por llamar a Casa Lupita! ¿Desea hacer un pedido o reservar una mesa?")


@pytest.mark.parametrize("missing", RESTAURANT_LINES)
def test_a_file_offering_spanish_without_one_of_its_lines_is_refused_naming_it(
        tmp_path: Path, missing: str):
    data = yaml.safe_load(LUPITA.read_text())
    del data["restaurant"]["lines"]["es"][missing]
    bad = tmp_path / "lupita.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(MenuFileError) as e:
        load_menu_file(bad)
    assert f"lines.es.{missing} is missing" in str(e.value)


@pytest.mark.parametrize(("change", "named"), [
    ({"languages": ["en", "fr"]}, "'fr'"),
    ({"default_language": "es", "languages": ["en"]}, "default_language 'es'"),
])
def test_a_language_the_line_does_not_speak_or_does_not_offer_is_refused(change, named):
    with pytest.raises(ValueError, match=named):
        RestaurantSettings(name="X", **change)


def _caller(languages: list[str], now: str = "en") -> SimpleNamespace:
    return SimpleNamespace(language=now, settings=SimpleNamespace(languages=languages))


@pytest.mark.parametrize(("said", "reported", "offered", "switch"), [
    ("Hola, quiero pedir un café", "es", ["en", "es"], "es"),
    ("Hola, quiero pedir un café", "es-419", ["en", "es"], "es"),
    ("Sí", "es", ["en", "es"], None),  # one word: not enough to change the whole call
    ("¿Habla español?", "en", ["en", "es"], "es"),  # asked for, whatever the STT thought
    ("Do you speak Spanish?", "en", ["en", "es"], "es"),
    ("Hola, quiero pedir un café", "es", ["en"], None),  # not offered here
    ("Hello, I'd like a coffee please", "en", ["en", "es"], None),  # already English
    ("Bonjour, je voudrais un café", "fr", ["en", "es"], None),
])
def test_when_a_call_switches_language(said, reported, offered, switch):
    assert heard(_caller(offered), reported, said) == switch  # type: ignore[arg-type]


def test_back_to_english_when_the_caller_asks():
    assert heard(_caller(["en", "es"], now="es"), "en", "Can we speak English please") == "en"  # type: ignore[arg-type]


def test_the_unknown_number_line_is_said_in_both_languages():
    assert "Goodbye." in UNKNOWN_NUMBER and "Adiós." in UNKNOWN_NUMBER
