"""What a stored transcript or message keeps: the words, not the caller's personal details.

Phone numbers, e-mail addresses, card numbers and street addresses said on a call are replaced
by a mark (`[phone]`, `[email]`, `[card number removed]`, `[address]`) before a transcript line
or a message's text is written. The unmasked values live only where the work needs them: the
order's or booking's phone field, the message's call-back number.

Libraries, and why:
- phone numbers: `phonenumbers.PhoneNumberMatcher` (Google's libphonenumber metadata), at
  POSSIBLE leniency, because fictional 555-01xx numbers and new ranges must go too; plus runs of
  seven or more spoken digits ("six one seven five five five ..."), which no matcher finds.
- street addresses: `usaddress` (a CRF tagger trained on US addresses, no model download), over
  each sentence; a run from a house number to a street type ("Street", "Ave") is an address,
  with unit, city, state and ZIP when they follow.
- card numbers: `redact.redact_cards` (Luhn over 13-19 digit windows), shared with the logs.
- e-mail: a pattern, written ("ann@example.com") and spoken ("ann at example dot com").
Presidio's recognisers would need a spaCy model, which cannot be downloaded here, so it is not used.

This module is for stored conversation text; `domain/redact.py` keeps the log filter.
"""

from __future__ import annotations

import re

import phonenumbers
import usaddress

from domain.contact import DEFAULT_REGION
from domain.redact import CARD_MARK, luhn_ok, redact_cards

PHONE_MARK = "[phone]"
EMAIL_MARK = "[email]"
ADDRESS_MARK = "[address]"

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_SPOKEN_EMAIL = re.compile(
    r"\b[\w.+-]+(?:\s+dot\s+[\w-]+)*\s+at\s+[\w-]+(?:\s+dot\s+[\w-]+)*\s+dot\s+[a-z]{2,6}\b",
    re.IGNORECASE,
)
_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
_DIGIT_WORD = r"(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine|\d)"
# Seven or more digits said one by one, with spaces, commas or dashes between them.
_SPOKEN_RUN = re.compile(
    rf"\b{_DIGIT_WORD}(?:[\s,.\-]+{_DIGIT_WORD}){{6,}}\b", re.IGNORECASE
)

_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/-]\d{1,2}[/-]\d{2,4}")  # "2026-12-05"

# usaddress labels that continue an address after its house number.
_STREET = {
    "StreetNamePreModifier", "StreetNamePreDirectional", "StreetNamePreType", "StreetName",
    "StreetNamePostType", "StreetNamePostDirectional", "StreetNamePostModifier",
}
_UNIT = {"OccupancyType", "OccupancyIdentifier", "SubaddressType", "SubaddressIdentifier"}
_TOWN = {"PlaceName", "StateName", "ZipCode"}
# Words that never sit inside a street name but do sit between a number and a street in orders
# and bookings ("table for 4 at 7 pm on Main Street" is not an address).
_NOT_STREET = {
    "at", "on", "for", "and", "with", "to", "from", "in", "pm", "am", "p.m.", "a.m.",
    "people", "o'clock", "tonight", "tomorrow", "please", "i", "we", "is", "are", "near",
}
_MAX_STREET_WORDS = 4
# A state or ZIP code after the street says it is an address, so it may have a longer name
# ("12 Saint Mary of the Woods Lane, Springfield, MA"); an order line has none after it.
_MAX_CONFIRMED_STREET_WORDS = 8
# A two-letter state counts only in capitals, as speech-to-text writes it ("ME", "MA"): "me",
# "in", "or", "ok", "hi", "oh", "pa" are the caller's words. A state said in full counts either way.
_STATE_CODES = set(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR".split()
)
_STATE_NAMES = set(
    "alabama alaska arizona arkansas california colorado connecticut delaware florida georgia "
    "hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts "
    "michigan minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon "
    "pennsylvania tennessee texas utah vermont virginia washington wisconsin wyoming".split()
)
_ZIP = re.compile(r"\d{5}(?:-\d{4})?")
# When the tagger misreads a sentence: a house number, one to four words, a street type.
_STREET_TYPES = (
    "street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    "terrace|ter|circle|cir|parkway|pkwy|highway|hwy|square|sq|trail|trl|alley|plaza|"
    "crescent|row|walk|loop"
)
_STREET_TYPE = re.compile(_STREET_TYPES, re.IGNORECASE)
_RULE_ADDRESS = re.compile(  # a street word: a word, or a numbered street ("1st", "42nd")
    rf"\b\d{{1,6}}[A-Za-z]?\s+((?:(?:[A-Za-z][\w'-]*|\d+(?:st|nd|rd|th))\.?\s+){{1,4}})"
    rf"(?:{_STREET_TYPES})\b"
    r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?",
    re.IGNORECASE,
)
# A street whose type comes first ("120 Avenue C", "45 Avenue of the Americas", "9 Route 66"):
# its name is a letter, a number or a capitalised word, so "1 Avenue blend" is not an address.
_PRE_TYPE_ADDRESS = re.compile(
    r"\b\d{1,6}[A-Za-z]?\s+(?i:avenue|ave|av|route|rte|highway|hwy)\.?\s+"
    r"(?:(?i:of\s+the)\s+)?(?:[A-Z]\b|\d+\b|[A-Z][a-z][\w'-]*)"
)
# A sentence ends at . ! ? before a capital, except after an abbreviation of an address.
_SENTENCE_END = re.compile(r"(\S*)[.!?]\s+(?=[A-Z])|\n+")
_ABBREVIATIONS = {"st", "ave", "rd", "blvd", "dr", "ln", "ct", "apt", "ste", "mt", "ft", "n",
                  "s", "e", "w", "ne", "nw", "se", "sw", "pl", "hwy", "pkwy", "mr", "mrs", "ms"}


def mask_personal(text: str) -> str:
    """The text with phone numbers, e-mails, card numbers and street addresses masked."""
    text = redact_cards(text)
    text = _EMAIL.sub(EMAIL_MARK, text)
    text = _SPOKEN_EMAIL.sub(EMAIL_MARK, text)
    text = _SPOKEN_RUN.sub(_spoken_number, text)
    text = _mask_phones(text)
    return _mask_addresses(text)


def _spoken_number(match: re.Match[str]) -> str:
    digits = "".join(_DIGIT_WORDS.get(w.lower(), w) for w in re.findall(r"\w+", match.group()))
    if 13 <= len(digits) <= 19 and luhn_ok(digits):
        return CARD_MARK
    return PHONE_MARK


def _mask_phones(text: str) -> str:
    matcher = phonenumbers.PhoneNumberMatcher(
        text, DEFAULT_REGION, leniency=phonenumbers.Leniency.POSSIBLE
    )
    spans = [(m.start, m.end) for m in matcher if not _DATE.fullmatch(m.raw_string)]
    return _replace(text, spans, PHONE_MARK)


def _mask_addresses(text: str) -> str:
    spans: list[tuple[int, int]] = []
    start = 0
    for end in [*_sentence_ends(text), len(text)]:
        spans.extend((start + a, start + b) for a, b in _address_spans(text[start:end]))
        start = end
    for m in _RULE_ADDRESS.finditer(text):
        words = {w.strip(".").lower() for w in m.group(1).split()}
        if not words & _NOT_STREET:
            spans.append(m.span())
    spans.extend(m.span() for m in _PRE_TYPE_ADDRESS.finditer(text))
    return _replace(text, _merged(spans), ADDRESS_MARK)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


def _sentence_ends(text: str) -> list[int]:
    return [
        m.end() for m in _SENTENCE_END.finditer(text)
        if m.group(1) is None or m.group(1).lower() not in _ABBREVIATIONS
    ]


def _address_spans(sentence: str) -> list[tuple[int, int]]:
    if not any(ch.isdigit() for ch in sentence):
        return []  # every address we mask starts with a house number
    try:
        # The tagger reads a sentence's closing full stop as a sign of "not an address".
        tagged = usaddress.parse(sentence.rstrip().rstrip(".!?"))
    except Exception:
        return []
    places: list[tuple[int, int]] = []
    cursor = 0
    for token, _ in tagged:
        at = sentence.find(token, cursor)
        if at < 0:
            return []
        places.append((at, at + len(token)))
        cursor = at + len(token)
    spans = []
    i = 0
    while i < len(tagged):
        end = _address_at(tagged, i)
        if end is None:
            i += 1
            continue
        a, b = places[i][0], places[end][1]
        while b > a and sentence[b - 1] in ",.;":
            b -= 1  # the sentence keeps its punctuation
        spans.append((a, b))
        i = end + 1
    return spans


def _address_at(tagged: list[tuple[str, str]], i: int) -> int | None:
    """Index of the last token of the address starting at token i, or None."""
    token, label = tagged[i]
    if label != "AddressNumber" or not re.fullmatch(r"\d+[A-Za-z]?(?:-\d+)?,?", token):
        return None
    j = i + 1
    street_words = 0
    last_type = None
    while j < len(tagged) and tagged[j][1] in _STREET:
        word = tagged[j][0].strip(",.").lower()
        if word in _NOT_STREET:
            return None
        if tagged[j][1] == "StreetName":
            street_words += 1
        if tagged[j][1] in ("StreetNamePostType", "StreetNamePreType") and _STREET_TYPE.fullmatch(
            word
        ):
            last_type = j  # the tagger's word for a street type, and really one ("booking" isn't)
        j += 1
    if last_type is None or street_words == 0 or street_words > _MAX_CONFIRMED_STREET_WORDS:
        return None
    end = j - 1
    while j < len(tagged) and tagged[j][1] in _UNIT and _unit_word(tagged[j]):
        end = j
        j += 1
    town_end = _confirmed_town_end(tagged, j)
    if town_end is not None:
        return town_end
    return end if street_words <= _MAX_STREET_WORDS else None


def _confirmed_town_end(tagged: list[tuple[str, str]], j: int) -> int | None:
    """Index of the last state or ZIP code of the town starting at token j, or None: a city
    counts only when a real state or ZIP code confirms it."""
    town_end = None
    while j < len(tagged) and tagged[j][1] in _TOWN:
        said = tagged[j][0].strip(",.")
        word = said.lower()
        if word in _NOT_STREET:
            break
        if (tagged[j][1] == "StateName" and (said in _STATE_CODES or word in _STATE_NAMES)) or (
            tagged[j][1] == "ZipCode" and _ZIP.fullmatch(word)
        ):
            town_end = j
        j += 1
    return town_end


_UNIT_TYPES = {"apt", "apartment", "suite", "ste", "unit", "floor", "fl", "room", "rm", "#",
               "building", "bldg", "lot", "space", "dept"}


def _unit_word(token: tuple[str, str]) -> bool:
    """"Apt 4B" is a unit; "Thanks" after "Blvd." is not, whatever the tagger says."""
    word, label = token[0].strip(",.").lower(), token[1]
    if label.endswith("Type"):
        return word in _UNIT_TYPES
    return bool(re.fullmatch(r"#?\d+[a-z]?|[a-z]|#?[a-z]\d+", word))


def _replace(text: str, spans: list[tuple[int, int]], mark: str) -> str:
    for a, b in sorted(spans, reverse=True):
        text = text[:a] + mark + text[b:]
    return text
