"""MergeRepository on PostgreSQL: merge records, provenance, pair decisions, survivorship policies.

Writes are queued on the unit of work's pending writes and run at its flush (pending_writes.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from customer360.domain.errors import ConcurrentModification
from customer360.domain.merge import MergeRecord, MergeStatus, PairDecision
from customer360.domain.provenance import Provenance
from customer360.domain.survivorship import SurvivorshipPolicy
from customer360.infrastructure.persistence.merge_documents import record_document, record_from
from customer360.infrastructure.persistence.pending_writes import PendingWrites
from customer360.infrastructure.persistence.tables import (
    customer_merge,
    customer_provenance,
    duplicate_pair,
    survivorship_policy,
)

# Last change per profile field, from the audit trail (change sets name fields in the API's spelling).
_FIELD_CHANGED_AT = text(
    """
    SELECT c.value ->> 'field' AS field, max(a.occurred_at) AS changed_at
      FROM audit_log a CROSS JOIN LATERAL jsonb_array_elements(a.changes) AS c(value)
     WHERE a.tenant_id = :tenant AND a.customer_id = :id AND a.entity_type = 'CUSTOMER'
     GROUP BY 1
    """
)


class SqlMergeRepository:
    def __init__(
        self, writes: PendingWrites, tenant_id: str, correlation_id: str, default_policy: SurvivorshipPolicy
    ) -> None:
        self._db = writes
        self._tenant = tenant_id
        self._correlation_id = correlation_id
        self._default = default_policy

    # -- survivorship policy ------------------------------------------------------------------------
    def default_policy(self) -> SurvivorshipPolicy:
        return self._default

    async def policy(self) -> SurvivorshipPolicy:
        p = survivorship_policy.c
        row = (await self._db.execute(select(p.document, p.version).where(p.tenant_id == self._tenant))).first()
        if row is None:
            return self._default
        return SurvivorshipPolicy.from_document(row.document, self._default, row.version)

    async def save_policy(self, policy: SurvivorshipPolicy, *, actor: str, now: datetime) -> SurvivorshipPolicy:
        p = survivorship_policy.c
        values = {
            "document": policy.to_document(),
            "version": policy.version + 1,
            "updated_at": now,
            "updated_by": actor,
        }
        if policy.version == 0:
            statement = (
                pg_insert(survivorship_policy)
                .values(tenant_id=self._tenant, **values)
                .on_conflict_do_nothing()
                .returning(p.version)
            )
        else:
            statement = (
                update(survivorship_policy)  # type: ignore[assignment]
                .where(p.tenant_id == self._tenant, p.version == policy.version)
                .values(**values)
                .returning(p.version)
            )

        async def write(connection: AsyncConnection) -> None:
            if (await connection.execute(statement)).first() is None:
                raise ConcurrentModification("The survivorship policy was changed concurrently")

        self._db.later(write)
        return SurvivorshipPolicy(policy.rules, policy.source_priority, policy.version + 1)

    async def field_changed_at(self, customer_id: str) -> dict[str, datetime]:
        rows = await self._db.execute(_FIELD_CHANGED_AT, {"tenant": self._tenant, "id": customer_id})
        return {row.field: row.changed_at for row in rows if row.field}

    # -- provenance -----------------------------------------------------------------------------------
    async def provenance(self, customer_id: str) -> Provenance | None:
        c = customer_provenance.c
        document = (
            await self._db.execute(select(c.document).where(c.tenant_id == self._tenant, c.customer_id == customer_id))
        ).scalar_one_or_none()
        return None if document is None else Provenance.from_document(customer_id, document)

    async def save_provenance(self, provenance: Provenance, now: datetime) -> None:
        statement = pg_insert(customer_provenance).values(
            tenant_id=self._tenant,
            customer_id=provenance.customer_id,
            document=provenance.to_document(),
            updated_at=now,
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[customer_provenance.c.tenant_id, customer_provenance.c.customer_id],
            set_={"document": statement.excluded.document, "updated_at": statement.excluded.updated_at},
        )
        self._db.later(lambda connection: connection.execute(upsert))

    # -- merge records --------------------------------------------------------------------------------
    async def add(self, record: MergeRecord) -> None:
        statement = insert(customer_merge).values(
            tenant_id=self._tenant,
            id=record.id,
            target_id=record.target_id,
            source_id=record.source_id,
            reason=record.reason,
            status=record.status.value,
            record=record_document(record),
            merged_at=record.merged_at,
            merged_by=record.merged_by,
            correlation_id=self._correlation_id,
        )
        self._db.later(lambda connection: connection.execute(statement))

    async def active_merge(self, target_id: str, source_id: str) -> MergeRecord | None:
        m = customer_merge.c
        row = (
            (
                await self._db.execute(
                    select(customer_merge)
                    .where(
                        m.tenant_id == self._tenant,
                        m.target_id == target_id,
                        m.source_id == source_id,
                        m.status == MergeStatus.MERGED.value,
                    )
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else record_from(row)

    async def merges_into(self, target_id: str) -> list[MergeRecord]:
        m = customer_merge.c
        rows = (
            await self._db.execute(
                select(customer_merge)
                .where(m.tenant_id == self._tenant, m.target_id == target_id)
                .order_by(m.merged_at, m.id)
            )
        ).mappings()
        return [record_from(row) for row in rows]

    async def close(self, record: MergeRecord) -> None:
        m = customer_merge.c
        statement = (
            update(customer_merge)
            .where(m.tenant_id == self._tenant, m.id == record.id, m.status == MergeStatus.MERGED.value)
            .values(
                status=record.status.value,
                unmerged_at=record.unmerged_at,
                unmerged_by=record.unmerged_by,
                unmerge_report=dict(record.unmerge_report or {}),
            )
        )

        async def write(connection: AsyncConnection) -> None:
            if (await connection.execute(statement)).rowcount != 1:
                raise ConcurrentModification(f"Merge {record.id} was undone concurrently", {"mergeId": record.id})

        self._db.later(write)

    # -- pair decisions -------------------------------------------------------------------------------
    async def decide_pair(self, decision: PairDecision) -> None:
        values = {
            "status": decision.status.value,
            "reason": decision.reason,
            "decided_by": decision.decided_by,
            "decided_at": decision.decided_at,
            "merge_id": decision.merge_id,
        }
        statement = pg_insert(duplicate_pair).values(
            tenant_id=self._tenant, low_id=decision.low_id, high_id=decision.high_id, **values
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[duplicate_pair.c.tenant_id, duplicate_pair.c.low_id, duplicate_pair.c.high_id],
            set_={name: statement.excluded[name] for name in values},
        )
        self._db.later(lambda connection: connection.execute(upsert))
