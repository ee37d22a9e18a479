"""The write side of consumed events, on the unit of work's connection (same transaction as the effect).

``SqlInbox`` is what makes consuming idempotent: the ``(tenant, consumer, event id)`` row is inserted
first; if it is there already the event was applied before and the transaction does nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from customer360.application.integration_events import LeadLink
from customer360.domain.entitlements import CreditTermsChange, Entitlement, ServiceOrder
from customer360.infrastructure.persistence.pending_writes import SqlExecutor
from customer360.infrastructure.persistence.tables import (
    SCHEMA,
    consumer_inbox,
    customer_credit,
    customer_key,
    customer_profile,
    entitlement,
    lead_link,
    service_history,
)


class SqlInbox:
    def __init__(self, connection: AsyncConnection, tenant_id: str) -> None:
        self._conn = connection
        self._tenant = tenant_id

    async def remember(
        self, consumer: str, event_id: str, event_type: str, topic: str, partition: int, offset: int, at: datetime
    ) -> bool:
        """Record the event as processed; False when it was (a redelivery: apply nothing)."""
        statement = (
            pg_insert(consumer_inbox)
            .values(
                tenant_id=self._tenant,
                consumer=consumer,
                event_id=event_id,
                event_type=event_type,
                topic=topic,
                partition=partition,
                offset=offset,
                processed_at=at,
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "consumer", "event_id"])
            .returning(consumer_inbox.c.event_id)
        )
        return (await self._conn.execute(statement)).first() is not None


class SqlIntegrationStore:
    """Runs on the unit of work's pending writes: its statements follow the writes queued before them."""

    def __init__(self, connection: SqlExecutor, tenant_id: str) -> None:
        self._conn = connection
        self._tenant = tenant_id

    async def add_service_order(self, order: ServiceOrder, event_id: str, at: datetime) -> bool:
        statement = (
            pg_insert(service_history)
            .values(
                tenant_id=self._tenant,
                service_order_id=order.service_order_id,
                customer_id=order.customer_id,
                order_number=order.order_number,
                order_type=order.order_type,
                priority=order.priority,
                status=order.status,
                opened_at=order.opened_at,
                summary=order.summary,
                event_id=event_id,
                recorded_at=at,
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "service_order_id"])
            .returning(service_history.c.service_order_id)
        )
        return (await self._conn.execute(statement)).first() is not None

    async def upsert_entitlement(self, entitlement_: Entitlement, activated_at: datetime, event_id: str) -> bool:
        values = {
            "tenant_id": self._tenant,
            "contract_id": entitlement_.contract_id,
            "customer_id": entitlement_.customer_id,
            "services": list(entitlement_.services),
            "sla_tier": entitlement_.sla_tier,
            "response_time_minutes": entitlement_.response_time_minutes,
            "resolution_time_minutes": entitlement_.resolution_time_minutes,
            "valid_from": entitlement_.valid_from,
            "valid_to": entitlement_.valid_to,
            "activated_at": activated_at,
            "event_id": event_id,
            "updated_at": func.now(),
        }
        insert = pg_insert(entitlement).values(**values)
        statement = insert.on_conflict_do_update(
            index_elements=["tenant_id", "contract_id"],
            set_={name: insert.excluded[name] for name in values if name not in ("tenant_id", "contract_id")},
            # An activation older than the stored one (a late redelivery, a replay) changes nothing.
            where=entitlement.c.activated_at <= insert.excluded.activated_at,
        ).returning(entitlement.c.contract_id)
        return (await self._conn.execute(statement)).first() is not None

    async def update_credit(
        self, customer_id: str, change: CreditTermsChange, source_system: str, source_time: datetime, event_id: str
    ) -> bool:
        fields = {
            "credit_limit": change.credit_limit,
            "currency": change.currency,
            "payment_terms": change.payment_terms,
            "credit_blocked": change.credit_blocked,
        }
        insert = pg_insert(customer_credit).values(
            tenant_id=self._tenant,
            customer_id=customer_id,
            source_system=source_system,
            source_updated_at=source_time,
            event_id=event_id,
            updated_at=func.now(),
            **fields,
        )
        excluded = insert.excluded
        statement = insert.on_conflict_do_update(
            index_elements=["tenant_id", "customer_id"],
            set_={
                # null in a master update means "unchanged": keep what is stored.
                **{name: func.coalesce(excluded[name], customer_credit.c[name]) for name in fields},
                "source_system": excluded.source_system,
                "source_updated_at": excluded.source_updated_at,
                "event_id": excluded.event_id,
                "updated_at": excluded.updated_at,
            },
            where=customer_credit.c.source_updated_at <= excluded.source_updated_at,
        ).returning(customer_credit.c.customer_id)
        return (await self._conn.execute(statement)).first() is not None

    async def lead_owner(self, lead_id: str) -> str | None:
        result = await self._conn.execute(
            select(lead_link.c.customer_id).where(lead_link.c.tenant_id == self._tenant, lead_link.c.lead_id == lead_id)
        )
        return result.scalar_one_or_none()

    async def link_lead(self, link: LeadLink) -> None:
        await self._conn.execute(
            pg_insert(lead_link).values(
                tenant_id=self._tenant,
                lead_id=link.lead_id,
                customer_id=link.customer_id,
                outcome=link.outcome,
                matched_on=link.matched_on,
                lead_source=link.lead_source,
                event_id=link.event_id,
                linked_at=link.linked_at,
            )
        )

    async def customers_with_key(self, key_type: str, values: Sequence[str]) -> list[str]:
        p = customer_profile.c
        query = (
            select(p.id)
            .select_from(
                customer_key.join(
                    customer_profile,
                    and_(p.tenant_id == customer_key.c.tenant_id, p.id == customer_key.c.customer_id),
                )
            )
            .where(
                customer_key.c.tenant_id == self._tenant,
                customer_key.c.key_type == key_type,
                customer_key.c.key_value.in_(list(values)),
                p.status.not_in(("MERGED", "ERASED")),
            )
            .group_by(p.id, p.status)
            .order_by((p.status == "ACTIVE").desc(), p.id)
        )
        return list((await self._conn.execute(query)).scalars())


async def purge_inbox(connection: AsyncConnection, before: datetime, chunk: int = 5000) -> int:
    """Forget processed event ids older than ``before`` (worker role, every tenant), in bounded chunks."""
    statement = text(
        f"DELETE FROM {SCHEMA}.consumer_inbox WHERE ctid = ANY(ARRAY("
        f"SELECT ctid FROM {SCHEMA}.consumer_inbox WHERE processed_at < :before LIMIT :chunk))"
    )
    total = 0
    while True:
        deleted = (await connection.execute(statement, {"before": before, "chunk": chunk})).rowcount
        await connection.commit()
        total += deleted
        if deleted < chunk:
            return total
