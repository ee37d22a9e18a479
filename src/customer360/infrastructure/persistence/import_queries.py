"""The read side of imports (``ImportQueries``): jobs with their progress and counts, and the report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.import_ports import ImportJobView, RowIssue
from customer360.domain.errors import InvalidValue
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.import_store import import_running, job_from_row
from customer360.infrastructure.persistence.profile_queries import decode_cursor, encode_cursor
from customer360.infrastructure.persistence.tables import import_issue, import_job

J = import_job.c
R = import_issue.c


def _pair(cursor: str | None) -> tuple[str, str] | None:
    value = decode_cursor(cursor)
    if value is None:
        return None
    first, sep, second = value.partition("|")
    if not sep:
        raise InvalidValue("cursor", "is not a cursor returned by this API")
    return first, second


class SqlImportQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def job(self, tenant_id: str, job_id: str) -> ImportJobView | None:
        async with tenant_transaction(self._engine, tenant_id) as connection:
            row = (await connection.execute(select(import_job).where(J.tenant_id == tenant_id, J.id == job_id))).first()
            if row is None:
                return None
            return ImportJobView(job_from_row(row), await import_running(connection, tenant_id, job_id))

    async def jobs(self, tenant_id: str, cursor: str | None, limit: int) -> tuple[list[ImportJobView], str | None]:
        query = select(import_job).where(J.tenant_id == tenant_id)
        after = _pair(cursor)
        if after is not None:
            query = query.where(tuple_(J.requested_at, J.id) < tuple_(_timestamp(after[0]), after[1]))
        query = query.order_by(J.requested_at.desc(), J.id.desc()).limit(limit + 1)
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = (await connection.execute(query)).all()
            views = [
                ImportJobView(job_from_row(r), await import_running(connection, tenant_id, r.id)) for r in rows[:limit]
            ]
        last = views[-1].job if views else None
        more = len(rows) > limit and last is not None
        return views, encode_cursor(f"{last.requested_at.isoformat()}|{last.id}") if more and last else None

    async def report(
        self, tenant_id: str, job_id: str, cursor: str | None, limit: int
    ) -> tuple[list[RowIssue], str | None]:
        query = select(R.row_number, R.field, R.outcome, R.reason, R.customer_id).where(
            R.tenant_id == tenant_id, R.job_id == job_id
        )
        after = _pair(cursor)
        if after is not None:
            if not after[0].isdigit():
                raise InvalidValue("cursor", "is not a cursor returned by this API")
            query = query.where(tuple_(R.row_number, R.field) > tuple_(int(after[0]), after[1]))
        query = query.order_by(R.row_number, R.field).limit(limit + 1)
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = (await connection.execute(query)).all()
        issues = [RowIssue(r.row_number, r.field, r.outcome, r.reason, r.customer_id) for r in rows[:limit]]
        more = len(rows) > limit and issues
        return issues, encode_cursor(f"{issues[-1].row}|{issues[-1].field}") if more else None


def _timestamp(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue("cursor", "is not a cursor returned by this API") from None
