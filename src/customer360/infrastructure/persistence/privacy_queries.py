"""Read side of privacy: a customer's legal holds and erasure requests."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.domain.privacy import ErasureRequest, ErasureStatus, LegalHold
from customer360.infrastructure.persistence.customer_rows import customer_rows
from customer360.infrastructure.persistence.privacy_store import hold_from_row
from customer360.infrastructure.persistence.tables import erasure_request, legal_hold


class SqlPrivacyQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def holds(self, tenant_id: str, customer_id: str) -> list[LegalHold] | None:
        h = legal_hold.c
        query = select(legal_hold).where(h.tenant_id == tenant_id, h.customer_id == customer_id)
        rows = await customer_rows(self._engine, tenant_id, customer_id, query.order_by(h.placed_at, h.id))
        return None if rows is None else [hold_from_row(r) for r in rows]

    async def erasure_requests(self, tenant_id: str, customer_id: str) -> list[ErasureRequest] | None:
        e = erasure_request.c
        query = select(erasure_request).where(e.tenant_id == tenant_id, e.customer_id == customer_id)
        rows = await customer_rows(self._engine, tenant_id, customer_id, query.order_by(e.requested_at, e.id))
        if rows is None:
            return None
        return [
            ErasureRequest(
                id=r["id"],
                customer_id=r["customer_id"],
                reason=r["reason"],
                requester=r["requester"],
                status=ErasureStatus(r["status"]),
                requested_at=r["requested_at"],
                requested_by=r["requested_by"],
                completed_at=r["completed_at"],
                erased_customer_ids=tuple(r["erased_customer_ids"]),
                data_classes=tuple(r["data_classes"]),
                blocked_by=r["blocked_by"],
            )
            for r in rows
        ]
