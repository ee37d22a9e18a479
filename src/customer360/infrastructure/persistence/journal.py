"""What a commit writes besides the aggregates: audit rows and outbox rows, from the recorded events.

The outbox insert takes an EXCLUSIVE lock on the outbox table first. Positions are then allocated in
commit order, so a reader that has seen position N can never later find a committed row below N: the
relay can publish "everything after the last position" and the change feed never skips an event.
The lock is held only from the insert to the commit, at the very end of the transaction.

The envelope (the published JSON form of an event) is messaging's business: the unit of work is given
the function that writes it (``EnvelopeSerializer``), so persistence imports nothing from messaging.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from customer360.application.context import RequestContext
from customer360.domain.events import DomainEvent
from customer360.domain.ids import EVENT_PREFIX, new_id
from customer360.infrastructure.persistence.tables import SCHEMA, audit_log, event_outbox

OUTBOX_CHANNEL = "crm_customer360_outbox"


class EnvelopeSerializer(Protocol):
    def __call__(self, event: DomainEvent, *, event_id: str, tenant_id: str, correlation_id: str) -> dict[str, Any]: ...


async def write_audit(connection: AsyncConnection, context: RequestContext, events: Sequence[DomainEvent]) -> None:
    if not events:
        return
    await connection.execute(
        insert(audit_log),
        [
            {
                "tenant_id": context.tenant_id,
                "customer_id": event.customer_id,
                "entity_type": event.entity[0],
                "entity_id": event.entity[1],
                "action": event.action,
                "actor": context.actor,
                "source": context.source,
                "correlation_id": context.correlation_id,
                "occurred_at": event.occurred_at,
                "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in event.changes],
            }
            for event in events
        ],
    )


async def write_outbox(
    connection: AsyncConnection,
    context: RequestContext,
    events: Sequence[DomainEvent],
    envelope: EnvelopeSerializer,
) -> None:
    events = [event for event in events if event.published]  # audit-only events stay out of the outbox
    if not events:
        return
    rows = []
    for event in events:
        event_id = new_id(EVENT_PREFIX)
        body = envelope(event, event_id=event_id, tenant_id=context.tenant_id, correlation_id=context.correlation_id)
        rows.append(
            {
                "tenant_id": context.tenant_id,
                "event_id": event_id,
                "event_type": body["eventType"],
                "aggregate_id": event.customer_id,
                "correlation_id": context.correlation_id,
                "envelope": body,
                "created_at": event.occurred_at,
            }
        )
    await connection.execute(text(f"LOCK TABLE {SCHEMA}.event_outbox IN EXCLUSIVE MODE"))
    await connection.execute(insert(event_outbox), rows)
    # Delivered at commit, and only if the transaction commits: it wakes the relay.
    await connection.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
