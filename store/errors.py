"""What the store raises and returns: domain errors the caller can act on, and save results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


class SlotFull(Exception):
    """The slot cannot take this party; `free_seats` says how many seats are left there."""

    def __init__(self, slot: str, free_seats: int) -> None:
        super().__init__(f"slot {slot} has only {free_seats} free seats")
        self.slot = slot
        self.free_seats = max(0, free_seats)


class ReservationNotFound(LookupError):
    def __init__(self, code: str) -> None:
        super().__init__(f"no reservation with code {code!r}")
        self.code = code


class ReservationCancelled(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(f"reservation {code} is cancelled")
        self.code = code


class CodeTaken(Exception):
    """Another call already holds this reservation code; retry with the next `attempt`."""

    def __init__(self, code: str) -> None:
        super().__init__(f"reservation code {code} belongs to another call")
        self.code = code


class OrderIdTaken(Exception):
    """A different order is stored under this id; save this one under the next id."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order id {order_id} holds a different order")
        self.order_id = order_id


class PersistenceUnavailable(RuntimeError):
    """Firestore did not answer within the retry budget (and the write could not be queued)."""


SaveStatus = Literal["saved", "already_saved", "queued"]


@dataclass(frozen=True)
class SaveResult:
    """Every status is a success: a queued write is durable and will be replayed."""

    status: SaveStatus
    id: str


@dataclass(frozen=True)
class BookingResult(SaveResult):
    @property
    def code(self) -> str:
        return self.id
