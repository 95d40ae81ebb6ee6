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

# A phone number as it reaches a log: E.164 (caller IDs, and the SIP room names LiveKit builds
# from them: "call-_+16175550199_Ab12"), international with groups ("+1 617 555 0199"), or a
# North American number of 10/11 digits, bare or grouped the ways people and libraries write
# them ("617 555 0199", "(617) 555-0199", "617.555.0199", "1-617-555-0199"). Dotted runs that
# are part of something longer (an IP address, a version) are left alone.
_G = r"[ .\-]?"
_PHONE = re.compile(
    rf"\+\d(?:{_G}\d){{6,14}}(?!\d)"
    rf"|(?<!\d)(?<!\d\.)(?:1{_G})?(?:\(\d{{3}}\) ?|\d{{3}}{_G})\d{{3}}{_G}\d{{4}}(?!\d|\.\d)"
)
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def mask_phones(text: str) -> str:
    """+16175550199 -> +*********99: enough to tell calls apart in a log, not to call back."""
    return _PHONE.sub(lambda m: re.sub(r"\d", "*", m.group()[:-2]) + m.group()[-2:], text)


_SCALARS = (bool, float, type(None))
_DEPTH = 4


def _clean(value: object, depth: int = 0) -> object:
    """`value` with every phone masked and every card removed, keeping its type where that
    cannot leak: strings, containers, and numbers that hold no phone. Anything else (an int
    that reads as a phone, a model whose str() names the caller, a container nested too deep)
    becomes its cleaned text, because a formatter would write that text anyway."""
    if isinstance(value, str):
        return mask_phones(redact_cards(value))
    if isinstance(value, _SCALARS):
        return value
    if depth < _DEPTH:
        if isinstance(value, dict):
            return {k: _clean(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(_clean(v, depth + 1) for v in value)
    try:
        text = str(value)
    except Exception:  # a broken __str__ must not stop the log call
        return "[unprintable]"
    cleaned = mask_phones(redact_cards(text))
    if cleaned == text and isinstance(value, int):
        return value
    return cleaned


class LoggedException(Exception):
    """Stands in for a logged exception once its traceback has been cleaned: formatters that
    call formatException(record.exc_info) themselves print this cleaned text, never the
    original exception's message or frames."""


def _clean_exception(record: logging.LogRecord) -> None:
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = _TRACEBACKS.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = str(_clean(record.exc_text))
        if record.exc_info:
            stand_in = LoggedException(record.exc_text)
            record.exc_info = (LoggedException, stand_in, None)
    if record.stack_info:
        record.stack_info = str(_clean(record.stack_info))


_TRACEBACKS = logging.Formatter()


class PrivateLogs(logging.Filter):
    """Masks phone numbers and removes card numbers from everything a handler could write:
    the message with its arguments, `extra` fields, the traceback (`exc_info`, which no
    formatter has rendered yet when a filter runs) and `stack_info`. LiveKit's own logs carry
    the room name, which holds the caller's number.

    The message is rendered here (`msg % args`) and cleaned as a whole: an argument's str()
    or a number formatted with %d can hold a phone just as well as a string argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it for the handler's handleError
            record.msg = _clean(record.msg)
            record.args = _clean(record.args)  # type: ignore[assignment]
        else:
            record.msg = str(_clean(message))
            record.args = ()
        for key, value in list(vars(record).items()):
            if key not in _RECORD_FIELDS:
                setattr(record, key, _clean(value))
        _clean_exception(record)
        return True


def protect_logs(*_: object) -> None:
    """Put `PrivateLogs` on every handler of the root logger (idempotent). The worker calls it
    once logging is set up; job processes forward their records to these handlers."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, PrivateLogs) for f in handler.filters):
            handler.addFilter(PrivateLogs())
