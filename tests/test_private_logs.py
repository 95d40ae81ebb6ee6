"""No log handler writes a phone or card number, whichever path it reaches the record by.

Each test logs through a real `logging.Logger` into real handlers (a stream handler with the
standard formatter, LiveKit's JSON formatter, a JSON formatter of the common kind that renders
`exc_info` itself, and the queue handler LiveKit's job processes forward records through),
with `redact.PrivateLogs` put on them by `protect_logs` as the worker does. The paths are the
ones a number can take: the message, its arguments (strings, ints, objects, a mapping),
`extra` fields (flat, nested, not strings), the traceback of `log.exception` / `exc_info=`
(exception message, source lines, chained causes) and `stack_info`.
"""

from __future__ import annotations

import io
import json
import logging
import logging.handlers
import queue
import re
from collections.abc import Callable, Iterator

import pytest
from livekit.agents.cli.log import JsonFormatter

from domain.redact import PrivateLogs, mask_phones, protect_logs
from tests.privacy import CALLER, CARD, CARDS, PHONE_FORMATS, digit_runs, phone_leaks


class RendersExcInfoItself(logging.Formatter):
    """The usual hand-written JSON formatter: formatException(record.exc_info) on every call,
    never looking at the cached exc_text a filter could have cleaned."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"msg": record.getMessage(), "extra": {
            k: str(v) for k, v in vars(record).items() if k in ("room", "job", "caller")}}
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out)


FORMATTERS: dict[str, Callable[[], logging.Formatter]] = {
    "standard": lambda: logging.Formatter("%(levelname)s %(name)s %(message)s"),
    "livekit-json": JsonFormatter,
    "renders-exc_info": RendersExcInfoItself,
}


@pytest.fixture(params=list(FORMATTERS))
def written(request: pytest.FixtureRequest) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose only handler is on the root logger, protected the way main.py does."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(FORMATTERS[request.param]())
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [handler]
    protect_logs()
    assert any(isinstance(f, PrivateLogs) for f in handler.filters)
    logger = logging.getLogger(f"restaurant.test.private.{request.param}")
    logger.setLevel(logging.DEBUG)
    try:
        yield logger, out
    finally:
        root.handlers = saved


# Fields the formatters add that hold digits of their own (when, which process, which line).
_OWN_DIGITS = re.compile(r'"(timestamp|pid|code\.line\.number)": ("[^"]*"|\d+)|line \d+')


def leaks(text: str) -> list[str]:
    text = _OWN_DIGITS.sub("", text)
    found = [f"phone run {r}" for r in phone_leaks(text)]
    for card in CARDS:
        found += [f"card run {r}" for r in digit_runs(card, text)]
    return found


class Customer:
    """An object whose str() names the caller, as a pydantic model's would."""

    def __str__(self) -> str:
        return f"Customer(phone='{CALLER}', note='card {CARD}')"


def test_message_text(written):
    logger, out = written
    for number in PHONE_FORMATS:
        logger.info(f"caller {number} asked to pay with {CARD}")
    assert leaks(out.getvalue()) == [], out.getvalue()
    assert out.getvalue().count("**99") == len(PHONE_FORMATS)  # masked, still told apart


@pytest.mark.parametrize("args", [
    (CALLER, CARD),
    (int(CALLER[1:]), CARD.replace(" ", "")),  # as %d, and a card without spaces
    (Customer(), "x"),
    ({"phone": CALLER, "card": CARDS[1]},),
], ids=["strings", "int-as-%d", "object-str", "mapping"])
def test_message_arguments(written, args):
    logger, out = written
    if isinstance(args[0], dict):
        logger.warning("booking for %(phone)s paid by %(card)s", args[0])
    elif isinstance(args[0], int):
        logger.warning("callback %d, card %s", *args)
    else:
        logger.warning("saved %s (%s)", *args)
    assert leaks(out.getvalue()) == [], out.getvalue()


def test_extra_fields(written):
    logger, out = written
    logger.info("job received", extra={
        "room": f"call-_{CALLER}_Ab12",
        "job": {"participant": {"identity": f"sip_{CALLER}", "said": [f"card {CARDS[2]}"]}},
        "caller": int(CALLER[1:]),
    })
    text = out.getvalue()
    assert leaks(text) == [], text


def _charge(card: str, phone: str) -> None:
    raise ValueError(f"cannot charge {card} for caller {phone}")


def _save_for(phone: str) -> None:
    try:
        _charge(CARDS[1], phone)
    except ValueError as e:
        raise RuntimeError(f"saving the order of {phone} failed") from e


def test_log_exception_traceback(written):
    """The traceback is rendered after the filter ran: message, chained cause, and a source
    line holding a literal card number ("4927 5836 1047 2539" below) are all cleaned."""
    logger, out = written
    try:
        _save_for("617-555-0199")
    except RuntimeError:
        logger.exception("order not saved")
    try:
        raise KeyError(f"customers/{CALLER} 4927 5836 1047 2539")
    except KeyError:
        logger.error("lookup failed", exc_info=True)
    text = out.getvalue()
    assert "Traceback" in text and "ValueError" in text and "KeyError" in text  # still useful
    assert leaks(text) == [], text


def test_exc_info_passed_as_an_exception_object(written):
    logger, out = written
    try:
        _charge(CARD, CALLER)
    except ValueError as e:
        error = e
    logger.warning("retrying", exc_info=error)
    assert "cannot charge" in out.getvalue() and leaks(out.getvalue()) == [], out.getvalue()


def test_stack_info(written):
    logger, out = written

    def where_we_log() -> None:
        logger.info("here", stack_info=bool("the caller, +16175550199, on the stack's source"))

    where_we_log()
    text = out.getvalue()
    assert "Stack (most recent call last)" in text and "where_we_log" in text
    assert leaks(text) == [], text


def test_a_record_formatted_before_the_filter_ran_is_cleaned_too():
    """A handler without the filter that formatted first caches the traceback in exc_text."""
    out = io.StringIO()
    plain, protected = logging.StreamHandler(io.StringIO()), logging.StreamHandler(out)
    protected.addFilter(PrivateLogs())
    logger = logging.getLogger("restaurant.test.private.twice")
    logger.propagate = False
    logger.handlers = [plain, protected]
    try:
        try:
            _charge(CARD, CALLER)
        except ValueError:
            logger.exception("failed")
    finally:
        logger.handlers = []
        logger.propagate = True
    assert "cannot charge" in out.getvalue() and leaks(out.getvalue()) == [], out.getvalue()


def test_records_forwarded_through_a_queue_arrive_clean():
    """Job processes hand records to the main process through a queue handler, which renders
    the message and traceback into the record before it leaves."""
    q: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    sender = logging.handlers.QueueHandler(q)
    sender.addFilter(PrivateLogs())
    logger = logging.getLogger("restaurant.test.private.queue")
    logger.propagate = False
    logger.handlers = [sender]
    try:
        try:
            _save_for(CALLER)
        except RuntimeError:
            logger.exception("call %s failed", f"call-_{CALLER}_Q1", extra={"card": CARD})
    finally:
        logger.handlers = []
        logger.propagate = True
    received = q.get_nowait()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.handle(received)
    assert "saving the order" in out.getvalue() and leaks(out.getvalue()) == [], out.getvalue()


def test_masking_keeps_what_is_not_a_phone():
    for text in ("10.0.0.1:5060", "2026-11-28 00:12:06,123", "livekit-agents 1.8.9",
                 "order 4821", "192.168.100.200", "$12.50", "slot 2026-11-27T19:00"):
        assert mask_phones(text) == text
    assert re.fullmatch(r"\+\*{9}99", mask_phones(CALLER))


def test_a_broken_format_string_does_not_break_the_log_call(capsys):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(PrivateLogs())
    logger = logging.getLogger("restaurant.test.private.broken")
    logger.propagate = False  # pytest's own handlers raise on a bad record; ours must not
    logger.handlers = [handler]
    try:
        logger.info("%d items for %s", "not a number", CALLER)  # handleError, no exception
    finally:
        logger.handlers = []
        logger.propagate = True
    reported = capsys.readouterr().err  # logging prints the bad record's message and args
    assert "not a number" in reported and "'%d items for %s'" in reported
    assert leaks(out.getvalue() + reported) == [], reported
