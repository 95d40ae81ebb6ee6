"""Ids derived from the call, so a retried or replayed save can never create a twin."""

from __future__ import annotations

import hashlib

# No 0/O, 1/I/L, 5/S, 8/B: letters and digits a caller can tell apart when read aloud.
SPOKEN_ALPHABET = "ACDEFGHJKMNPQRTUVWXY234679"


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


# How many ids a save walks through when each one holds a different record.
MAX_ID_ATTEMPTS = 5


def order_id(call_id: str, seq: int) -> str:
    return f"{call_id}-order-{seq}"


def replayed_order_id(original: str, attempt: int) -> str:
    """The id a queued order is replayed under when `original` holds a different order."""
    return original if attempt == 0 else f"{original}-{attempt + 1}"


def order_number(order_doc_id: str) -> str:
    """Four digits staff and caller say to each other; the name settles the rare clash."""
    return f"{int.from_bytes(_digest(order_doc_id)[:4], 'big') % 9000 + 1000}"


def reservation_code(call_id: str, seq: int, attempt: int = 0) -> str:
    """Six spoken-friendly characters; `attempt` moves to another code on the rare collision."""
    raw = _digest(call_id, "reservation", str(seq), str(attempt))
    return "".join(SPOKEN_ALPHABET[b % len(SPOKEN_ALPHABET)] for b in raw[:6])


def message_id(call_id: str, seq: int) -> str:
    return f"{call_id}-message-{seq}"
