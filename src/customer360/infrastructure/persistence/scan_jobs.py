"""Batch scan jobs as rows of ``duplicate_scan``: reading, the latest unfinished one, saving."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from customer360.application.duplicate_ports import ScanJob
from customer360.infrastructure.persistence.tables import duplicate_scan


def job_from_row(row: Any) -> ScanJob:
    return ScanJob(
        id=row.id,
        status=row.status,
        phase=row.phase,
        checkpoint=row.checkpoint,
        processed=row.processed,
        total=row.total,
        result=row.result,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
    )


def job_values(job: ScanJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status,
        "phase": job.phase,
        "checkpoint": dict(job.checkpoint),
        "processed": job.processed,
        "total": job.total,
        "result": dict(job.result),
        "error": job.error,
        "requested_by": job.requested_by,
        "requested_at": job.requested_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


async def load_job(connection: AsyncConnection, tenant_id: str, scan_id: str) -> ScanJob | None:
    row = (
        await connection.execute(
            text("SELECT * FROM duplicate_scan WHERE tenant_id = :tenant AND id = :id"),
            {"tenant": tenant_id, "id": scan_id},
        )
    ).first()
    return None if row is None else job_from_row(row)


async def latest_unfinished(connection: AsyncConnection, tenant_id: str) -> ScanJob | None:
    """The latest job that is queued or was left running (interrupted unless its lock is held)."""
    row = (
        await connection.execute(
            text(
                "SELECT * FROM duplicate_scan WHERE tenant_id = :tenant AND status IN ('QUEUED', 'RUNNING') "
                "ORDER BY requested_at DESC, id DESC LIMIT 1"
            ),
            {"tenant": tenant_id},
        )
    ).first()
    return None if row is None else job_from_row(row)


async def store_job(connection: AsyncConnection, tenant_id: str, job: ScanJob) -> None:
    values = job_values(job)
    statement = insert(duplicate_scan).values(tenant_id=tenant_id, **values)
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=[duplicate_scan.c.tenant_id, duplicate_scan.c.id],
            set_={name: statement.excluded[name] for name in values if name != "id"},
        )
    )
