"""What went wrong with a consumed message, said without personal data; and "the database is down"."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError

from customer360.domain.errors import DomainError
from customer360.infrastructure.messaging.avro_codec import EventCodecError

_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionError and TimeoutError
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    InterfaceError,
)


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


def is_unavailable(error: BaseException) -> bool:
    """True when the database could not be reached (wait and retry: not the message's fault)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _CONNECTION_ERRORS):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False
