"""Correlation ids and W3C trace context (https://www.w3.org/TR/trace-context/) mapped onto each other.

The service's correlation id (X-Correlation-ID, the ``correlationId`` of events, ``correlation_id`` in
logs) decides the trace id, so that one id finds a request in the logs, on the broker and in a tracing
backend:

- a correlation id of 32 hex digits (not all zero) *is* a trace id (lower-cased);
- a ULID, which the service generates when the caller sent none, is 128 bits: its value is the trace id;
- any other correlation id (a caller's own format) maps to the first 128 bits of its SHA-256: stable, so
  the same correlation id always lands in the same trace, but not reversible — logs carry both ids.

A request that brings a ``traceparent`` but no X-Correlation-ID gets that trace id as its correlation id,
so the caller's trace goes on through us.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from customer360.domain.ids import new_ulid

_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_ULID = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
# Crockford's base32 digits onto the ones int(..., 32) reads: a ULID's value in one C call.
_CROCKFORD_TO_BASE32 = str.maketrans("0123456789ABCDEFGHJKMNPQRSTVWXYZ", "0123456789abcdefghijklmnopqrstuv")
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
#: The W3C header (HTTP and Kafka alike).
TRACEPARENT = "traceparent"
_CORRELATION = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


def trace_id_for(correlation_id: str) -> str:
    """The 32-hex-digit trace id of a correlation id (see the module's rules)."""
    lowered = correlation_id.lower()
    if _HEX32.match(lowered) and lowered != _ZERO_TRACE:
        return lowered
    if _ULID.match(correlation_id):
        value = int(correlation_id.translate(_CROCKFORD_TO_BASE32), 32)
        if value:
            return f"{value:032x}"
    return hashlib.sha256(correlation_id.encode()).hexdigest()[:32]


def span_id_for(seed: str) -> str:
    """A stable 16-hex-digit span id for something that has an id of its own (an event)."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return digest[:16] if digest[:16] != _ZERO_SPAN else digest[16:32]


@dataclass(frozen=True, slots=True)
class TraceParent:
    trace_id: str
    span_id: str
    sampled: bool

    def header(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"


def parse_traceparent(value: str | None) -> TraceParent | None:
    """A valid ``traceparent`` header value, or None (version ff, zero ids and bad shapes are invalid)."""
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip())
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return TraceParent(trace_id, span_id, bool(int(flags, 16) & 1))


def correlation_id_of(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """A request's correlation id: X-Correlation-ID when well-formed; else the trace id of a valid
    traceparent (the caller's trace goes on through us); else a new ULID."""
    traceparent = None
    for name, value in headers:
        if name == b"x-correlation-id":
            candidate = value.decode("latin-1")
            if _CORRELATION.match(candidate):
                return candidate
        elif name == b"traceparent" and traceparent is None:
            traceparent = parse_traceparent(value.decode("latin-1"))
    return traceparent.trace_id if traceparent is not None else new_ulid()
