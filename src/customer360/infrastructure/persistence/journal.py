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
LOCK_OUTBOX = text(f"LOCK TABLE {SCHEMA}.event_outbox IN EXCLUSIVE MODE")
NOTIFY_RELAY = text(f"NOTIFY {OUTBOX_CHANNEL}")


class EnvelopeSerializer(Protocol):
    def __call__(self, event: DomainEvent, *, event_id: str, tenant_id: str, correlation_id: str) -> dict[str, Any]: ...


def audit_row(context: RequestContext, event: DomainEvent) -> dict[str, Any]:
    return {
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


def outbox_row(context: RequestContext, event: DomainEvent, envelope: EnvelopeSerializer) -> dict[str, Any]:
    """The outbox row of a published event (a new event id each time)."""
    event_id = new_id(EVENT_PREFIX)
    body = envelope(event, event_id=event_id, tenant_id=context.tenant_id, correlation_id=context.correlation_id)
    return {
        "tenant_id": context.tenant_id,
        "event_id": event_id,
        "event_type": body["eventType"],
        "aggregate_id": event.customer_id,
        "correlation_id": context.correlation_id,
        "envelope": body,
        "created_at": event.occurred_at,
    }


async def write_audit(connection: AsyncConnection, context: RequestContext, events: Sequence[DomainEvent]) -> None:
    if not events:
        return
    await connection.execute(insert(audit_log), [audit_row(context, event) for event in events])


async def write_outbox(
    connection: AsyncConnection,
    context: RequestContext,
    events: Sequence[DomainEvent],
    envelope: EnvelopeSerializer,
) -> None:
    rows = [outbox_row(context, e, envelope) for e in events if e.published]  # audit-only events stay out
    if not rows:
        return
    await connection.execute(LOCK_OUTBOX)
    await connection.execute(insert(event_outbox), rows)
    # Delivered at commit, and only if the transaction commits: it wakes the relay.
    await connection.execute(NOTIFY_RELAY)
