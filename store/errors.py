"""What the store raises and returns: domain errors the caller can act on, and save results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from models import Reservation

# `store` re-exports these (store/__init__.py): the line's code imports them from there.
__all__ = [
    "BookingResult", "CodeTaken", "OrderIdTaken", "PersistenceUnavailable", "ReservationCancelled",
    "ReservationNotFound", "SaveResult", "SaveStatus", "SlotFull", "StaleReservation",
]


class SlotFull(Exception):
    """No table (or combination, or seats) stays free for the party's whole meal then."""

    def __init__(self, slot: str) -> None:
        super().__init__(f"nothing free for the whole meal at {slot}")
        self.slot = slot


# ReservationNotFound, ReservationCancelled ~ CodeTaken, OrderIdTaken below: a deliberate
# same-shape pair (`duplicates`): each error names the one record a caller acts on.
class ReservationNotFound(LookupError):
    def __init__(self, code: str) -> None:
        super().__init__(f"no reservation with code {code!r}")
        self.code = code


class ReservationCancelled(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(f"reservation {code} is cancelled")
        self.code = code


class StaleReservation(Exception):
    """Someone changed the reservation since the version the caller of a change saw;
    `current` is the reservation as it is now."""

    def __init__(self, res: Reservation) -> None:
        super().__init__(f"reservation {res.code} was changed meanwhile")
        self.current = res


# A deliberate same-shape pair (`duplicates`) with ReservationNotFound and
# ReservationCancelled above: each error names the one record a caller acts on.
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
