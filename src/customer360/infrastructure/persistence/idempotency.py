"""Responses remembered under an Idempotency-Key, per tenant, for IDEMPOTENCY_TTL_HOURS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customer360.application.ports import StoredResponse
from customer360.domain.errors import IdempotencyKeyInProgress
from customer360.infrastructure.persistence.database import create_engine, tenant_transaction
from customer360.infrastructure.persistence.pending_writes import PendingWrites
from customer360.infrastructure.persistence.tables import SCHEMA, idempotency_record


class SqlIdempotencyStore:
    """The write half, used inside the unit of work so the response commits with the change."""

    def __init__(self, writes: PendingWrites, tenant_id: str) -> None:
        self._db = writes
        self._tenant = tenant_id

    async def save(self, key: str, response: StoredResponse) -> None:
        statement = insert(idempotency_record).values(
            tenant_id=self._tenant,
            key=key,
            fingerprint=response.fingerprint,
            status_code=response.status_code,
            body=response.body,
            headers=response.headers,
            created_at=datetime.now(UTC),
        )

        async def write(connection: AsyncConnection) -> None:
            try:
                async with connection.begin_nested():
                    await connection.execute(statement)
            except IntegrityError:
                # A concurrent request with the same key committed first; ours must not apply twice.
                raise IdempotencyKeyInProgress(
                    "A request with this Idempotency-Key was processed concurrently"
                ) from None

        self._db.later(write)


class SqlIdempotencyLookup:
    def __init__(self, engine: AsyncEngine, ttl: timedelta) -> None:
        self._engine = engine
        self._ttl = ttl

    async def find(self, tenant_id: str, key: str) -> StoredResponse | None:
        async with tenant_transaction(self._engine, tenant_id) as connection:
            row = (
                (
                    await connection.execute(
                        select(idempotency_record).where(
                            idempotency_record.c.tenant_id == tenant_id,
                            idempotency_record.c.key == key,
                            idempotency_record.c.created_at > datetime.now(UTC) - self._ttl,
                        )
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        return StoredResponse(row["fingerprint"], row["status_code"], bytes(row["body"]), dict(row["headers"]))


class IdempotencyPurge:
    """Deletes remembered responses older than IDEMPOTENCY_TTL_HOURS, for every tenant (worker role)."""

    def __init__(self, worker_url: URL, ttl: timedelta) -> None:
        self._worker_url = worker_url
        self._ttl = ttl

    async def run_once(self, chunk: int = 5000) -> int:
        engine = create_engine(self._worker_url, pooled=False)
        purged = 0
        try:
            while True:
                async with engine.begin() as connection:
                    result = await connection.execute(_PURGE, {"before": datetime.now(UTC) - self._ttl, "chunk": chunk})
                if result.rowcount < chunk:
                    return purged + result.rowcount
                purged += result.rowcount
        finally:
            await engine.dispose()


# Chunked, so a large backlog never holds a long lock; the created_at index serves the scan.
_PURGE = text(
    f"""DELETE FROM {SCHEMA}.idempotency_record WHERE ctid IN (
          SELECT ctid FROM {SCHEMA}.idempotency_record WHERE created_at < :before LIMIT :chunk)"""
)
