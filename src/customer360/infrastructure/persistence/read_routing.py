"""Which server a read goes to: a streaming replica (``DATABASE_READ_URL``) unless it is down or has not
yet replayed the caller's last write (``application.consistency``); then the primary.

Bootstrap builds each read-side port twice, on the primary's engine and on the replica's, and hands the
routers ``routed(primary, replica, routing)``: every coroutine method asks the routing, runs on the
replica, and runs again on the primary when the replica cannot answer (connection refused or lost,
shut down, a query cancelled by recovery). A replica that failed is left alone for ``retry_seconds``.
Reads are idempotent, so running one again is safe.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application import consistency
from customer360.infrastructure.persistence.database import create_engine
from customer360.infrastructure.persistence.profile_lookup import ProfileLookup

T = TypeVar("T")
log = logging.getLogger(__name__)

_REPLAYED = "SELECT pg_last_wal_replay_lsn()::text"
_FAILURES = (
    OSError,  # refused, reset, timed out
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.OperatorInterventionError,  # shutdown, crash of another backend
    asyncpg.TransactionRollbackError,  # a query cancelled by a conflict with recovery
)


def replica_failure(exc: BaseException) -> bool:
    """Errors that say the replica cannot answer now (not that the read itself is wrong)."""
    if isinstance(exc, _FAILURES):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        cause = exc.orig.__cause__ if exc.orig is not None else None
        return exc.connection_invalidated or (cause is not None and replica_failure(cause))
    return False


class ReplicaRouting:
    def __init__(self, replica: ProfileLookup, *, retry_seconds: float = 5.0) -> None:
        self._replica = replica
        self._retry_seconds = retry_seconds
        self._down_until = 0.0
        self._replayed = -1

    @property
    def up(self) -> bool:
        return time.monotonic() >= self._down_until

    def failed(self, exc: BaseException) -> None:
        log.warning("read replica unavailable, reading from the primary", extra={"error": type(exc).__name__})
        self._down_until = time.monotonic() + self._retry_seconds

    async def use_replica(self) -> bool:
        """Up, and replayed at least as far as this request's floor (asked only when the last answer was behind)."""
        if not self.up:
            return False
        holder = consistency.current()
        floor = holder.floor if holder is not None else None
        if floor is None or self._replayed >= floor:
            return True
        try:
            replayed = await self._replica.value(_REPLAYED)
        except Exception as exc:
            if not replica_failure(exc):
                raise
            self.failed(exc)
            return False
        # NULL: not in recovery, i.e. the "replica" is a primary and has everything.
        self._replayed = (1 << 64) if replayed is None else (consistency.parse_position(replayed) or -1)
        return self._replayed >= floor


def routed(primary: T, replica: T | None, routing: ReplicaRouting | None) -> T:
    """``primary`` itself without a replica; else a stand-in whose coroutine methods prefer the replica."""
    if replica is None or routing is None:
        return primary
    return cast(T, _Routed(primary, replica, routing))


class _Routed:
    def __init__(self, primary: Any, replica: Any, routing: ReplicaRouting) -> None:
        self._primary = primary
        self._replica = replica
        self._routing = routing

    def __getattr__(self, name: str) -> Any:
        on_primary = getattr(self._primary, name)
        if not inspect.iscoroutinefunction(on_primary):
            return on_primary
        on_replica: Callable[..., Any] = getattr(self._replica, name)
        routing = self._routing

        @functools.wraps(on_primary)
        async def read(*args: Any, **kwargs: Any) -> Any:
            if await routing.use_replica():
                try:
                    return await on_replica(*args, **kwargs)
                except Exception as exc:
                    if not replica_failure(exc):
                        raise
                    routing.failed(exc)
            return await on_primary(*args, **kwargs)

        return read


class ReadReplica:
    """The replica's engine and lookup pool (opened on first use: a replica that is down when the service
    starts costs nothing but a warning), its routing, and read ports built on it."""

    def __init__(self, url: URL, *, pool_size: int, max_overflow: int, lookup_size: int, retry_seconds: float) -> None:
        self.engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        self.lookup = ProfileLookup(url, size=lookup_size)
        self.routing = ReplicaRouting(self.lookup, retry_seconds=retry_seconds)

    def route(self, primary: T, build: Callable[[AsyncEngine, ProfileLookup], T]) -> T:
        return routed(primary, build(self.engine, self.lookup), self.routing)

    async def aclose(self) -> None:
        await self.lookup.close()
        await self.engine.dispose()
