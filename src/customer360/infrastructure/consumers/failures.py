"""What went wrong with a consumed message, said without personal data ("the database is down" is
infrastructure/availability.py's ``database_unavailable``, shared with the HTTP edge)."""

from __future__ import annotations

from customer360.domain.errors import DomainError
from customer360.infrastructure.messaging.avro_codec import EventCodecError


def describe(error: BaseException) -> tuple[str, str]:
    """(reason code, message) for logs, metrics and dead-letter headers.

    Domain and codec errors are written to carry no personal data (ids, field names and rules only);
    anything else is named by its type alone, because e.g. a database error can quote row values.
    """
    if isinstance(error, DomainError):
        return f"failed:{error.code}", error.message
    if isinstance(error, EventCodecError):
        return f"invalid:{type(error).__name__}", str(error)
    if isinstance(error, KeyError | TypeError | ValueError):
        return "invalid:payload", f"the payload does not fit the use case ({type(error).__name__})"
    return f"error:{type(error).__name__}", type(error).__name__
