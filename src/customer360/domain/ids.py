"""Identifiers: prefixed, time-sortable and unguessable (a ULID after the prefix).

A ULID is 48 bits of milliseconds and 80 random bits in Crockford base32, so ids sort by creation time
(keyset pagination and B-tree locality) while the random part makes them impossible to enumerate.
"""

from __future__ import annotations

import os
import re
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


def new_ulid(now_ms: int | None = None) -> str:
    """Return a 26-character ULID for the given (or current) time in milliseconds."""
    millis = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """Return a new identifier such as ``CUST-01JDX…``."""
    return f"{prefix}-{new_ulid()}"


def id_pattern(prefix: str) -> str:
    """The regular expression an id with this prefix must match (for validation at the edge)."""
    return f"^{re.escape(prefix)}-{_ULID_PATTERN}$"


def is_valid_id(prefix: str, value: str) -> bool:
    """Whether ``value`` has the shape of an id with this prefix."""
    return re.fullmatch(id_pattern(prefix), value) is not None
