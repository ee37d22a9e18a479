"""Telling "the database is away" from a bug, and keeping one record per outage.

While PostgreSQL is stopped, restarting or unreachable, every request fails the same way; that is not an
unexpected error with a stack trace per request but one outage: callers get 503 with Retry-After (the edge
middleware), operations get one warning when it starts, one line when it ends, a gauge and a counter.
Recovery needs nothing from us: SQLAlchemy and asyncpg replace broken connections on the next use; the
probe only notices the end of the outage so that it can be logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Awaitable, Callable

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import exc as sa_exc

_log = logging.getLogger("customer360.database")

# Errors PostgreSQL or the client library raise when the server cannot be reached or is going away.
_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,  # class 08: connection failures, a connection closed mid-operation
    asyncpg.CannotConnectNowError,  # starting up, shutting down, in recovery
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    sa_exc.TimeoutError,  # no pooled connection became free in time
)


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) says the database could not be used, rather than a fault of ours."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _UNAVAILABLE):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, asyncpg.InterfaceError) and "connection is closed" in str(current):
            return True
        # Network errors: refused, reset, aborted, timed out (the service talks to nothing else from here).
        if isinstance(current, ConnectionError | TimeoutError):
            return True
        # Other socket errors (a missing Unix socket is FileNotFoundError) count when the driver raised them.
        if isinstance(current, OSError) and _raised_in_driver(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _raised_in_driver(exc: BaseException) -> bool:
    return any(
        str(frame.f_globals.get("__name__", "")).startswith("asyncpg")
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


class DatabaseOutage:
    """The service's view of the database's availability, as requests find it."""

    def __init__(
        self,
        registry: CollectorRegistry,
        probe: Callable[[], Awaitable[bool]],
        *,
        retry_after_seconds: int = 5,
        probe_interval_seconds: float = 1.0,
    ) -> None:
        self.retry_after_seconds = retry_after_seconds
        self._probe = probe
        self._probe_interval = probe_interval_seconds
        self._since: float | None = None
        self._refused = 0
        self._watch: asyncio.Task[None] | None = None
        self._up = Gauge(
            "crm_customer360_database_up",
            "0 while requests find the database unreachable (from the first failure to a successful probe)",
            registry=registry,
        )
        self._up.set(1)
        self._unavailable = Counter(
            "crm_customer360_database_unavailable_responses",
            "Requests answered 503 SERVICE_UNAVAILABLE because the database could not be reached",
            registry=registry,
        )

    @property
    def down(self) -> bool:
        return self._since is not None

    def request_failed(self, exc: BaseException) -> None:
        """A request could not use the database: counted; the first of an outage is logged and watched."""
        self._unavailable.inc()
        self._refused += 1
        if self._since is not None:
            return
        self._since = time.monotonic()
        self._up.set(0)
        _log.warning(
            "database unreachable: answering 503 until it is back",
            extra={"error_type": type(exc).__name__, "retry_after_seconds": self.retry_after_seconds},
        )
        self._watch = asyncio.get_running_loop().create_task(self._until_back(), name="database-outage")

    async def _until_back(self) -> None:
        while True:
            await asyncio.sleep(self._probe_interval)
            try:
                if await self._probe():
                    break
            except Exception as exc:  # the probe's own failure: keep probing, the outage is not over
                _log.debug("database probe failed", extra={"error_type": type(exc).__name__})
        down_for = time.monotonic() - (self._since or time.monotonic())
        _log.info(
            "database reachable again",
            extra={"down_seconds": round(down_for, 1), "requests_refused": self._refused},
        )
        self._since = None
        self._refused = 0
        self._up.set(1)

    async def close(self) -> None:
        if self._watch is not None and not self._watch.done():
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
