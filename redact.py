"""Payment card numbers never belong in our records: customers pay at pickup.

A caller may still say one ("charge it to 4111 1111 1111 1111"). Any 13-19 digit stretch that
passes the Luhn check counts as a card number, wherever it sits in a longer run of digits
(speech-to-text writes digit groups split by spaces, dots or dashes, and runs them into the
numbers said next). Erring on the side of removing: digits of a long run that could belong to
a card number go, so a phone number said right next to one may go with it.

`PrivateLogs` does the same for log records and masks phone numbers in them.
"""

from __future__ import annotations

import logging
import re

CARD_MARK = "[card number removed]"
_RUN = re.compile(r"\d(?:[ .\-]?\d)*")  # digits, single separators allowed between them
_MIN, _MAX = 13, 19


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


def _card_spans(text: str) -> list[tuple[int, int]]:
    """Text spans covering every digit that belongs to some Luhn-valid 13-19 digit window."""
    spans = []
    for run in _RUN.finditer(text):
        where = [run.start() + i for i, ch in enumerate(run.group()) if ch.isdigit()]
        digits = "".join(text[i] for i in where)
        covered = [False] * len(digits)
        for i in range(len(digits) - _MIN + 1):
            for n in range(_MIN, min(_MAX, len(digits) - i) + 1):
                if luhn_ok(digits[i:i + n]):
                    covered[i:i + n] = [True] * n
        i = 0
        while i < len(digits):
            if not covered[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(digits) and covered[j + 1]:
                j += 1
            spans.append((where[i], where[j] + 1))
            i = j + 1
    return spans


def has_card_number(text: str) -> bool:
    return bool(_card_spans(text))


def redact_cards(text: str) -> str:
    for a, b in reversed(_card_spans(text)):
        text = text[:a] + CARD_MARK + text[b:]
    return text


# ---------------------------------------------------------------- logs

# A phone number in E.164 (caller IDs, and the SIP room names LiveKit builds from them:
# "call-_+16175550199_Ab12"), or a bare US number of 10/11 digits.
_PHONE = re.compile(r"\+\d{7,15}(?!\d)|(?<![\d.])1?\d{10}(?![\d.])")
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def mask_phones(text: str) -> str:
    """+16175550199 -> +*********99: enough to tell calls apart in a log, not to call back."""
    return _PHONE.sub(lambda m: re.sub(r"\d", "*", m.group()[:-2]) + m.group()[-2:], text)


def _clean(value: object, depth: int = 0) -> object:
    if isinstance(value, str):
        return mask_phones(redact_cards(value))
    if depth > 3:
        return value
    if isinstance(value, dict):
        return {k: _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean(v, depth + 1) for v in value)
    return value


class PrivateLogs(logging.Filter):
    """Masks phone numbers and removes card numbers from a record's message, arguments and
    `extra` fields before a handler writes it (LiveKit's own logs carry the room name, which
    holds the caller's number)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _clean(record.msg)
        if record.args:
            record.args = _clean(record.args)  # type: ignore[assignment]
        for key, value in list(vars(record).items()):
            if key not in _RECORD_FIELDS:
                setattr(record, key, _clean(value))
        if record.exc_text:
            record.exc_text = _clean(record.exc_text)  # type: ignore[assignment]
        return True


def protect_logs(*_: object) -> None:
    """Put `PrivateLogs` on every handler of the root logger (idempotent). The worker calls it
    once logging is set up; job processes forward their records to these handlers."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, PrivateLogs) for f in handler.filters):
            handler.addFilter(PrivateLogs())
