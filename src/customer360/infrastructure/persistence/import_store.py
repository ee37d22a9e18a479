"""Import jobs, their staging rows and their report on PostgreSQL (``ImportJobs``).

Staged rows arrive a batch at a time while the file is read (one INSERT over unnest each); they are
read back in row-number order (the primary key) a chunk at a time, and deleted in one statement when
the job finishes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customer360.application.import_ports import ImportJob, ImportOptions, RowIssue, StagedRow
from customer360.infrastructure.persistence.advisory_locks import LOCK_HELD, advisory_lock_held
from customer360.infrastructure.persistence.bulk_insert import columns_of, insert_rows
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.tables import import_issue, import_job, import_row

_STAGED = "SELECT row_number, body FROM import_row WHERE tenant_id = $1 AND job_id = $2 AND row_number > $3 "
_STAGED += "ORDER BY row_number LIMIT $4"


def job_values(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status,
        "format": job.options.format,
        "options": job.options.to_dict(),
        "staged_rows": job.staged_rows,
        "processed_rows": job.processed_rows,
        "counts": dict(job.counts),
        "error": job.error,
        "error_details": None if job.error_details is None else dict(job.error_details),
        "requested_by": job.requested_by,
        "correlation_id": job.correlation_id,
        "requested_at": job.requested_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def job_from_row(row: Any) -> ImportJob:
    return ImportJob(
        id=row.id,
        status=row.status,
        options=ImportOptions.from_dict(row.options),
        requested_by=row.requested_by,
        correlation_id=row.correlation_id,
        requested_at=row.requested_at,
        staged_rows=row.staged_rows,
        processed_rows=row.processed_rows,
        counts=dict(row.counts),
        error=row.error,
        error_details=row.error_details,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def issue_rows(tenant_id: str, job_id: str, issues: Sequence[RowIssue]) -> list[tuple[Any, ...]]:
    return [(tenant_id, job_id, i.row, i.field[:200], i.outcome, i.reason, i.customer_id) for i in issues]


ISSUE_COLUMNS = columns_of(
    import_issue, ["tenant_id", "job_id", "row_number", "field", "outcome", "reason", "customer_id"]
)
_ROW_COLUMNS = columns_of(import_row, ["tenant_id", "job_id", "row_number", "body"])


class SqlImportJobs:
    def __init__(self, engine: AsyncEngine, tenant_id: str) -> None:
        self._engine = engine
        self._tenant = tenant_id

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncConnection]:
        async with tenant_transaction(self._engine, self._tenant) as connection:
            yield connection

    @staticmethod
    async def _driver(connection: AsyncConnection) -> asyncpg.Connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        return driver

    async def create(self, job: ImportJob) -> None:
        async with self._tx() as connection:
            await connection.execute(insert(import_job).values(tenant_id=self._tenant, **job_values(job)))

    async def job(self, job_id: str) -> ImportJob | None:
        async with self._tx() as connection:
            row = (
                await connection.execute(
                    select(import_job).where(import_job.c.tenant_id == self._tenant, import_job.c.id == job_id)
                )
            ).first()
        return None if row is None else job_from_row(row)

    async def _save(self, connection: AsyncConnection, job: ImportJob) -> None:
        values = job_values(job)
        del values["id"]
        await connection.execute(
            update(import_job).where(import_job.c.tenant_id == self._tenant, import_job.c.id == job.id).values(**values)
        )

    async def save(self, job: ImportJob) -> None:
        async with self._tx() as connection:
            await self._save(connection, job)

    async def stage(self, job: ImportJob, rows: Sequence[StagedRow], issues: Sequence[RowIssue]) -> None:
        async with self._tx() as connection:
            driver = await self._driver(connection)
            staged = [(self._tenant, job.id, r.number, orjson.dumps(r.body).decode()) for r in rows]
            await insert_rows(driver, "import_row", _ROW_COLUMNS, staged)
            await insert_rows(driver, "import_issue", ISSUE_COLUMNS, issue_rows(self._tenant, job.id, issues))
            await self._save(connection, job)

    async def staged(self, job_id: str, after: int, limit: int) -> list[StagedRow]:
        async with self._tx() as connection:
            rows = await (await self._driver(connection)).fetch(_STAGED, self._tenant, job_id, after, limit)
        return [StagedRow(number, orjson.loads(body)) for number, body in rows]

    async def save_progress(self, job: ImportJob, issues: Sequence[RowIssue]) -> None:
        async with self._tx() as connection:
            rows = issue_rows(self._tenant, job.id, issues)
            await insert_rows(
                await self._driver(connection), "import_issue", ISSUE_COLUMNS, rows, "ON CONFLICT DO NOTHING"
            )
            await self._save(connection, job)

    async def finish(self, job: ImportJob) -> None:
        async with self._tx() as connection:
            await connection.execute(
                delete(import_row).where(import_row.c.tenant_id == self._tenant, import_row.c.job_id == job.id)
            )
            await self._save(connection, job)


# One process applies a job at a time: an advisory lock held by its own connection for the whole run
# (and while the file is staged). A job left RUNNING without it was interrupted and can be resumed.
IMPORT_LOCK_CLASS = 360_012_001
_TRY_LOCK = text("SELECT pg_try_advisory_lock(:cls, hashtext(:key))")
_UNLOCK = text("SELECT pg_advisory_unlock(:cls, hashtext(:key))")


def _lock_key(tenant_id: str, job_id: str) -> dict[str, object]:
    return {"cls": IMPORT_LOCK_CLASS, "key": f"{tenant_id}/{job_id}"}


async def try_lock_import(connection: AsyncConnection, tenant_id: str, job_id: str) -> bool:
    """Take the job's lock for the life of ``connection`` (autocommit), if it is free."""
    return bool((await connection.execute(_TRY_LOCK, _lock_key(tenant_id, job_id))).scalar_one())


async def unlock_import(connection: AsyncConnection, tenant_id: str, job_id: str) -> None:
    await connection.execute(_UNLOCK, _lock_key(tenant_id, job_id))


_REQUEUE = text(
    "UPDATE import_job SET status = 'QUEUED' WHERE tenant_id = :tenant AND id = :id AND status = 'RUNNING' "
    f"AND NOT {LOCK_HELD}"
)


async def requeue_import(engine: AsyncEngine, tenant_id: str, job_id: str) -> None:
    """An interrupted job (RUNNING, nobody holding it) goes back to QUEUED before its worker is started:
    until that worker claims it, the job reads as waiting to run, not as stopped."""
    async with tenant_transaction(engine, tenant_id) as connection:
        await connection.execute(_REQUEUE, {"tenant": tenant_id, "id": job_id, **_lock_key(tenant_id, job_id)})


async def import_running(connection: AsyncConnection, tenant_id: str, job_id: str) -> bool:
    """Whether a process holds the job's lock (read without taking it: advisory_locks.py)."""
    return await advisory_lock_held(connection, IMPORT_LOCK_CLASS, f"{tenant_id}/{job_id}")
