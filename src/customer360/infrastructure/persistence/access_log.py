"""The access log: who read whose personal data (profile reads, lists, searches, exports), without the data.

**Off the hot path.** Recording is a list append in the request (no I/O, no await); a background task
writes the buffer in batches — when ``ACCESS_LOG_BATCH_SIZE`` entries are waiting or every
``ACCESS_LOG_FLUSH_INTERVAL_SECONDS`` — and once more on shutdown. One insert per tenant and batch, in
that tenant's own transaction (row-level security applies as everywhere). The price: entries of the last
interval are lost if the process is killed (not on a normal shutdown); when the database is unreachable
the entries wait, up to ``ACCESS_LOG_MAX_BUFFER``, beyond which new ones are dropped and counted
(``crm_customer360_access_log_dropped_total``) rather than exhausting memory. An outage is one warning,
the one availability.py logs; the access log's own warnings are for its own failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.queries import Document, Page
from customer360.infrastructure.availability import database_unavailable
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.profile_queries import decode_number_cursor, encode_cursor
from customer360.infrastructure.persistence.tables import data_access_log

_log = logging.getLogger("customer360.access_log")
A = data_access_log.c

# One statement of five arrays per batch: a multi-row INSERT costs the service a bind parameter per value
# and PostgreSQL a parse of every row (measured: ~0.1 ms less database time per profile read).
_INSERT_BATCH = text(
    "INSERT INTO data_access_log (tenant_id, customer_id, actor, action, correlation_id, occurred_at)"
    " SELECT :tenant, * FROM unnest(CAST(:customers AS text[]), CAST(:actors AS text[]), CAST(:actions AS text[]),"
    " CAST(:correlations AS text[]), CAST(:times AS timestamptz[]))"
)


@dataclass(frozen=True, slots=True)
class AccessEntry:
    tenant_id: str
    customer_id: str
    actor: str
    action: str
    correlation_id: str
    occurred_at: datetime


class AccessLog:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        enabled: bool = True,
        flush_interval: float = 1.0,
        batch_size: int = 500,
        max_buffer: int = 100_000,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._engine = engine
        self._enabled = enabled
        self._interval = flush_interval
        self._batch_size = batch_size
        self._max_buffer = max_buffer
        self._buffer: list[AccessEntry] = []
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._failing = False
        self._dropped = Counter(
            "crm_customer360_access_log_dropped",
            "Access-log entries dropped because the buffer was full",
            registry=registry,
        )
        self._written = Counter("crm_customer360_access_log_written", "Access-log entries written", registry=registry)

    def record(self, tenant_id: str, actor: str, action: str, customer_ids: Iterable[str], correlation_id: str) -> None:
        """Remember a read (no I/O here); the background task writes it."""
        if not self._enabled:
            return
        now = datetime.now(UTC)
        for customer_id in dict.fromkeys(customer_ids):
            if len(self._buffer) >= self._max_buffer:
                self._dropped.inc()
                continue
            self._buffer.append(AccessEntry(tenant_id, customer_id, actor, action, correlation_id[:128], now))
        if len(self._buffer) >= self._batch_size:
            self._wake.set()
        self._ensure_running()

    def _ensure_running(self) -> None:
        if self._task is None and not self._closed:
            with contextlib.suppress(RuntimeError):  # no running loop: the next record() starts it
                self._task = asyncio.get_running_loop().create_task(self._run(), name="access-log-flush")

    async def _run(self) -> None:
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> int:
        """Write everything buffered; on failure the entries go back to wait for the next attempt.

        Flushes take turns, so one returns only after the entries recorded before it are written — also
        those the background task had already taken and was still writing."""
        async with self._flushing:
            return await self._flush()

    async def _flush(self) -> int:
        batch, self._buffer = self._buffer, []
        if not batch:
            return 0
        by_tenant: dict[str, list[AccessEntry]] = defaultdict(list)
        for entry in batch:
            by_tenant[entry.tenant_id].append(entry)
        written = 0
        for tenant_id, entries in by_tenant.items():
            try:
                await self._insert(tenant_id, entries)
                written += len(entries)
            except Exception as exc:  # the database may be down: keep the entries for the next attempt
                if not self._failing:  # once per streak of failures, not at every flush of an outage
                    _log_failure(exc)
                self._failing = True
                self._buffer[:0] = entries[: max(0, self._max_buffer - len(self._buffer))]
        if written and self._failing:
            _log.info("access log written again")
            self._failing = False
        self._written.inc(written)
        return written

    async def _insert(self, tenant_id: str, entries: list[AccessEntry]) -> None:
        async with tenant_transaction(self._engine, tenant_id) as connection:
            await connection.execute(
                _INSERT_BATCH,
                {
                    "tenant": tenant_id,
                    "customers": [e.customer_id for e in entries],
                    "actors": [e.actor for e in entries],
                    "actions": [e.action for e in entries],
                    "correlations": [e.correlation_id for e in entries],
                    "times": [e.occurred_at for e in entries],
                },
            )

    async def write(
        self, tenant_id: str, actor: str, action: str, customer_ids: Iterable[str], correlation_id: str
    ) -> None:
        """Write at once, in a transaction of its own, bypassing the buffer: a bulk export reads far more
        profiles than the buffer holds, and each must be on record before the next batch goes out."""
        if not self._enabled:
            return
        now = datetime.now(UTC)
        entries = [AccessEntry(tenant_id, c, actor, action, correlation_id[:128], now) for c in customer_ids]
        if entries:
            await self._insert(tenant_id, entries)
            self._written.inc(len(entries))

    async def close(self) -> None:
        """Stop the background task and write what is left."""
        self._closed = True
        if self._task is not None:
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def entries(
        self, tenant_id: str, *, customer_id: str | None, actor: str | None, cursor: str | None, limit: int
    ) -> Page:
        after = decode_number_cursor(cursor)
        query = select(data_access_log).where(A.tenant_id == tenant_id).order_by(A.id).limit(limit + 1)
        if customer_id is not None:
            query = query.where(A.customer_id == customer_id)
        if actor is not None:
            query = query.where(A.actor == actor)
        if after is not None:
            query = query.where(A.id > after)
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = (await connection.execute(query)).mappings().all()
        items = [_document(r) for r in rows[:limit]]
        return Page(items, encode_cursor(str(items[-1]["id"])) if len(rows) > limit else None)


def _log_failure(exc: Exception) -> None:
    """The database away is the outage's one warning (availability.py, logged by the requests it fails);
    here it is a line of information. Any other failure is the access log's own, and a warning."""
    if database_unavailable(exc):
        _log.info("access log waits for the database", extra={"error_type": type(exc).__name__})
    else:
        _log.warning("access log not written; retrying", extra={"error_type": type(exc).__name__})


def _document(row: Any) -> Document:
    return {
        "id": row["id"],
        "customerId": row["customer_id"],
        "actor": row["actor"],
        "action": row["action"],
        "correlationId": row["correlation_id"],
        "occurredAt": row["occurred_at"],
    }
