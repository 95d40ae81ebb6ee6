"""Payment card numbers never belong in our records: customers pay at pickup.

A caller may still say one ("charge it to 4111 1111 1111 1111"). `find_card_numbers` spots a
13-19 digit run (spaces, dots or dashes between digit groups allowed) that passes the Luhn
check; `redact_cards` replaces each with a marker so a transcript can be kept without it.
"""

from __future__ import annotations

import re

CARD_MARK = "[card number removed]"
# 13-19 digits, optionally split by single spaces, dots or dashes (how STT writes them).
_CANDIDATE = re.compile(r"(?<![\d])(?:\d[ .\-]?){12,18}\d(?![\d])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def find_card_numbers(text: str) -> list[str]:
    """The card-like digit runs in `text`, as written."""
    found = []
    for m in _CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.append(m.group())
    return found


def has_card_number(text: str) -> bool:
    return bool(find_card_numbers(text))


def redact_cards(text: str) -> str:
    def swap(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group())
        return CARD_MARK if 13 <= len(digits) <= 19 and luhn_ok(digits) else m.group()

    return _CANDIDATE.sub(swap, text)
