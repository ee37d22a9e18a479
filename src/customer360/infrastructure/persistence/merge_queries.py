"""Read side of the merge workflow: a customer's merges and one merge's audit record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.queries import Document, Page
from customer360.domain.ids import MERGE_PREFIX, is_valid_id
from customer360.infrastructure.persistence.customer_rows import customer_page
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.profile_queries import decode_cursor
from customer360.infrastructure.persistence.tables import customer_merge

M = customer_merge.c


def _summary(row: Any) -> Document:
    return {
        "id": row["id"],
        "targetCustomerId": row["target_id"],
        "sourceCustomerId": row["source_id"],
        "mergeReason": row["reason"],
        "status": row["status"],
        "mergedAt": row["merged_at"],
        "mergedBy": row["merged_by"],
        "unmergedAt": row["unmerged_at"],
        "unmergedBy": row["unmerged_by"],
    }


class SqlMergeQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def merges_of(self, tenant_id: str, customer_id: str, cursor: str | None, limit: int) -> Page | None:
        """Merges where the customer was the target or the source, oldest first."""
        query = select(customer_merge).where(
            M.tenant_id == tenant_id, or_(M.target_id == customer_id, M.source_id == customer_id)
        )
        return await customer_page(
            self._engine,
            tenant_id,
            customer_id,
            query,
            key=M.id,
            after=decode_cursor(cursor),
            limit=limit,
            document=_summary,
        )

    async def merge(self, tenant_id: str, merge_id: str) -> Document | None:
        if not is_valid_id(MERGE_PREFIX, merge_id):
            return None
        async with tenant_transaction(self._engine, tenant_id) as connection:
            row = (
                (await connection.execute(select(customer_merge).where(M.tenant_id == tenant_id, M.id == merge_id)))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return {
            **_summary(row),
            "correlationId": row["correlation_id"],
            "record": row["record"],
            "unmergeReport": row["unmerge_report"],
        }
