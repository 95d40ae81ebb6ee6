"""What a Spanish-speaking caller said, in the words the menu and the clock rules read.

The model passes the caller's words as said ("cappuccino grande con leche de avena", "mañana",
"a las siete"); the menu, the sizes and the date and time rules read English. For a caller
served in Spanish, "grande" is large (for an English caller it is the coffee chain's medium),
and days, times and counts are put into the words `natural.py` reads. Menu names in Spanish
("Guacamole con Totopos") are tried as said first (see actions/orders.py).
"""

from __future__ import annotations

import re
import unicodedata

SIZES = {"grande": "large", "grandes": "large", "mediano": "medium", "mediana": "medium",
         "medianos": "medium", "pequeño": "small", "pequeña": "small", "chico": "small",
         "chica": "small", "normal": "medium"}

NUMBERS = {"un": "1", "una": "1", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4",
           "cinco": "5", "seis": "6", "siete": "7", "ocho": "8", "nueve": "9", "diez": "10",
           "once": "11", "doce": "12", "trece": "13", "catorce": "14", "quince": "15",
           "veinte": "20"}

# Longest first when applied; whole words only.
PHRASES = {
    # the order
    "leche de avena": "oat milk", "leche de almendras": "almond milk",
    "leche de almendra": "almond milk", "leche entera": "whole milk",
    "leche descremada": "skim milk", "leche desnatada": "skim milk",
    "jarabe de vainilla": "vanilla syrup", "sirope de vainilla": "vanilla syrup",
    "vainilla": "vanilla", "shot extra": "extra shot", "carga extra": "extra shot",
    "jugo de naranja": "orange juice", "zumo de naranja": "orange juice",
    "galleta": "cookie", "galletas": "cookies", "té verde": "green tea",
    "magdalena": "muffin", "magdalenas": "muffins", "cruasán": "croissant",
    "cruasanes": "croissants", "por favor": "please", "con": "with", "sin": "no", "y": "and",
    # days
    "pasado mañana": "the day after tomorrow", "mañana por la noche": "tomorrow night",
    "mañana por la tarde": "tomorrow evening", "mañana por la mañana": "tomorrow morning",
    "esta noche": "tonight", "esta tarde": "this evening", "hoy": "today",
    "lunes": "monday", "martes": "tuesday", "miércoles": "wednesday", "jueves": "thursday",
    "viernes": "friday", "sábado": "saturday", "domingo": "sunday", "próximo": "next",
    "que viene": "",
    # times
    "de la mañana": "am", "por la mañana": "in the morning", "de la tarde": "pm",
    "de la noche": "pm", "por la noche": "at night", "mediodía": "noon",
    "en punto": "o'clock", "mañana": "tomorrow",
    # counts
    "personas": "people", "persona": "person", "somos": "", "para": "for",
}
_DROP = ("el", "la", "las", "los", "a", "de", "este", "esta", "a las", "a la")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text.lower().strip())


def _sub_words(text: str, table: dict[str, str]) -> str:
    for said in sorted(table, key=len, reverse=True):
        text = re.sub(rf"(?<![\wñáéíóú]){re.escape(said)}(?![\wñáéíóú])", table[said], text)
    return text


# Words an English order does not use: a caller whose words hold two of them speaks Spanish,
# whatever language the call is served in (a restaurant without Spanish, a text-only call).
_MARKERS = frozenset({"quiero", "quisiera", "con", "sin", "por", "favor", "para", "llevar",
                      "leche", "avena", "una", "un", "dos", "tres", "y", "de", "el", "los",
                      "las", "hola", "gracias", "también", "más", "café", "helado", "galleta"})


def said_in_spanish(words: str) -> bool:
    """Whether the caller's words are Spanish ("un capuchino grande con leche de avena")."""
    found = {w for w in re.findall(r"[\wñáéíóú]+", _fold(words)) if w in _MARKERS}
    return len(found) >= 2


def size(said: str | None) -> str | None:
    """The size a Spanish-speaking caller means ("grande" is large)."""
    if said is None:
        return None
    return SIZES.get(_fold(said), said)


def sizes_in(phrase: str) -> str:
    """Only the size words put in English: the rest of the phrase may be a Spanish menu name."""
    return _sub_words(_fold(phrase), SIZES)


def to_english(text: str) -> str:
    """An order phrase, day, time or count as the menu and the clock rules read it."""
    out = _sub_words(_fold(text), {**SIZES, **PHRASES})
    out = _sub_words(out, NUMBERS)
    out = re.sub(r"\b(\d{1,2}) and media\b", r"\1:30", out)
    out = re.sub(r"\b(\d{1,2}) and cuarto\b", r"\1:15", out)
    out = re.sub(r"\b(\d{1,2}) menos cuarto\b", r"quarter to \1", out)
    out = _sub_words(out, dict.fromkeys(_DROP, ""))
    return " ".join(out.split())


def when(date: str | None, time: str | None) -> tuple[str | None, str | None]:
    """A day and a time as said in Spanish ("el viernes", "a las siete y media")."""
    day = to_english(date) if date else date
    at = to_english(time) if time else time
    return day, at
