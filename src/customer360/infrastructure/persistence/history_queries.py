"""Read side of the histories: consent records, the audit trail and the change feed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.queries import Document, Page
from customer360.domain.consent import ConsentRecord
from customer360.infrastructure.persistence.consent_repository import record_from_row
from customer360.infrastructure.persistence.customer_rows import customer_page, customer_rows
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.profile_queries import (
    decode_cursor,
    decode_number_cursor,
)
from customer360.infrastructure.persistence.tables import audit_log, consent_record, event_outbox


def consent_document(row: Any) -> Document:
    return {
        "id": row["id"],
        "customerId": row["customer_id"],
        "type": row["channel"],
        "purpose": row["purpose"],
        "status": row["status"],
        "contactPoint": {"kind": row["contact_point_kind"], "value": row["contact_point_value"]}
        if row["contact_point_kind"]
        else None,
        "legalBasis": row["legal_basis"],
        "source": row["source"],
        "policyVersion": row["policy_version"],
        "evidence": row["evidence"],
        "effectiveAt": row["effective_at"],
        "recordedAt": row["recorded_at"],
        "recordedBy": row["recorded_by"],
        "expiresAt": row["expires_at"],
    }


def _audit_document(row: Any) -> Document:
    return {
        "id": row["id"],
        "customerId": row["customer_id"],
        "entityType": row["entity_type"],
        "entityId": row["entity_id"],
        "action": row["action"],
        "actor": row["actor"],
        "source": row["source"],
        "correlationId": row["correlation_id"],
        "occurredAt": row["occurred_at"],
        "changes": row["changes"],
    }


class SqlHistoryQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def consent_history(self, tenant_id: str, customer_id: str, cursor: str | None, limit: int) -> Page | None:
        c = consent_record.c
        query = select(consent_record).where(c.tenant_id == tenant_id, c.customer_id == customer_id)
        return await customer_page(
            self._engine,
            tenant_id,
            customer_id,
            query,
            key=c.id,
            after=decode_cursor(cursor),
            limit=limit,
            document=consent_document,
        )

    async def consent_records(self, tenant_id: str, customer_id: str) -> list[ConsentRecord] | None:
        c = consent_record.c
        query = select(consent_record).where(c.tenant_id == tenant_id, c.customer_id == customer_id)
        rows = await customer_rows(self._engine, tenant_id, customer_id, query)
        return None if rows is None else [record_from_row(r) for r in rows]

    async def audit(self, tenant_id: str, customer_id: str, cursor: str | None, limit: int) -> Page | None:
        a = audit_log.c
        query = select(audit_log).where(a.tenant_id == tenant_id, a.customer_id == customer_id)
        return await customer_page(
            self._engine,
            tenant_id,
            customer_id,
            query,
            key=a.id,
            after=decode_number_cursor(cursor),
            limit=limit,
            document=_audit_document,
        )

    async def recent_audit(self, tenant_id: str, customer_id: str, limit: int) -> list[Document]:
        """The customer's latest audit entries, newest first (the console's 360 page)."""
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = (
                (
                    await connection.execute(
                        select(audit_log)
                        .where(audit_log.c.tenant_id == tenant_id, audit_log.c.customer_id == customer_id)
                        .order_by(audit_log.c.id.desc())
                        .limit(limit)
                    )
                )
                .mappings()
                .all()
            )
        return [_audit_document(r) for r in rows]

    async def customer_events(self, tenant_id: str, customer_id: str, limit: int) -> list[Document]:
        """The latest events about one customer still in the outbox (its aggregate), newest first."""
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = await connection.execute(
                select(event_outbox.c.envelope)
                .where(event_outbox.c.tenant_id == tenant_id, event_outbox.c.aggregate_id == customer_id)
                .order_by(event_outbox.c.position.desc())
                .limit(limit)
            )
            return [dict(envelope) for envelope in rows.scalars()]

    async def events(self, tenant_id: str, after: int, limit: int) -> tuple[list[Document], int]:
        """Envelopes after a feed position; positions follow commit order, so nothing is ever skipped."""
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = (
                await connection.execute(
                    select(event_outbox.c.position, event_outbox.c.envelope)
                    .where(event_outbox.c.tenant_id == tenant_id, event_outbox.c.position > after)
                    .order_by(event_outbox.c.position)
                    .limit(limit)
                )
            ).all()
        last = rows[-1][0] if rows else after
        return [dict(envelope) for _, envelope in rows], last
