"""The one error type the domain code raises for something the caller must fix."""


from __future__ import annotations

from typing import Any


class Refusal(ValueError):
    """A request that cannot be honoured; the message tells the model what to ask the caller.

    `said`: the same refusal as a fixed line a caller may hear without the model (the keypad of
    an outbound call), in any language: a key of domain/lines.py and its values (times as
    `time`, lists of them), put in words in the caller's language by `lines.refusal`."""

    def __init__(self, message: str, *, said: tuple[str, dict[str, Any]] | None = None
                 ) -> None:
        super().__init__(message)
        self.said = said
