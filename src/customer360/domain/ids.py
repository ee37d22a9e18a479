"""Identifiers: prefixed, time-sortable and unguessable (a ULID after the prefix).

A ULID is 48 bits of milliseconds and 80 random bits in Crockford base32, so ids sort by creation time
(keyset pagination and B-tree locality) while the random part makes them impossible to enumerate.
"""

from __future__ import annotations

import os
import re
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID_PATTERN = "[0-9A-HJKMNP-TV-Z]{26}"

CUSTOMER_PREFIX = "CUST"
CONTACT_PREFIX = "CONT"
RELATIONSHIP_PREFIX = "REL"
CONSENT_PREFIX = "CONS"
EVENT_PREFIX = "evt"
MERGE_PREFIX = "MRG"
LEGAL_HOLD_PREFIX = "HOLD"
ERASURE_PREFIX = "ERA"
IMPORT_PREFIX = "IMP"


_RANDOM_BITS = 80


class _MonotonicSource:
    """Ids made by one process in the same millisecond still sort in the order they were made.

    Contacts, consents and events created by one command share a millisecond; with a fresh random part
    each, they would read back (ordered by id) in a random order — and "the first contact" would change.
    As the ULID specification's monotonic mode does, an id in the same (or an earlier, after a clock step
    back) millisecond as the last one takes the last random part plus one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self, millis: int) -> int:
        with self._lock:
            fresh = (millis << _RANDOM_BITS) | int.from_bytes(os.urandom(10), "big")
            self._last = fresh if fresh >> _RANDOM_BITS > self._last >> _RANDOM_BITS else self._last + 1
            return self._last


_source = _MonotonicSource()


def new_ulid(now_ms: int | None = None) -> str:
    """Return a 26-character ULID for the given (or current) time in milliseconds.

    Without ``now_ms`` the ids of this process are strictly increasing (see ``_MonotonicSource``).
    """
    if now_ms is None:
        value = _source.next(time.time_ns() // 1_000_000)
    else:
        value = (now_ms << _RANDOM_BITS) | int.from_bytes(os.urandom(10), "big")
    return "".join([_CHAR_PAIRS[(value >> shift) & 1023] for shift in _PAIR_SHIFTS])


# 26 characters of 5 bits, most significant first, taken 10 bits (two characters) at a time: the loop of
# one character at a time was a few % of a bulk import's CPU (two ids a profile).
_CHAR_PAIRS = [high + low for high in _CROCKFORD for low in _CROCKFORD]
_PAIR_SHIFTS = tuple(range(120, -1, -10))


def new_id(prefix: str) -> str:
    """Return a new identifier such as ``CUST-01JDX…``."""
    return f"{prefix}-{new_ulid()}"


def id_pattern(prefix: str) -> str:
    """The regular expression an id with this prefix must match (for validation at the edge)."""
    return f"^{re.escape(prefix)}-{_ULID_PATTERN}$"


def is_valid_id(prefix: str, value: str) -> bool:
    """Whether ``value`` has the shape of an id with this prefix."""
    return re.fullmatch(id_pattern(prefix), value) is not None
