"""What a commit writes besides the aggregates: audit rows and outbox rows, from the recorded events.

The outbox insert takes an EXCLUSIVE lock on the outbox table first. Positions are then allocated in
commit order, so a reader that has seen position N can never later find a committed row below N: the
relay can publish "everything after the last position" and the change feed never skips an event.
The lock is held only from the insert to the commit, at the very end of the transaction: the audit rows
and ``write_outbox`` (migration 0015: the lock, the outbox rows, the relay's wake-up at commit) are one
statement, so the only round trip made while the lock is held is the commit's.

The envelope (the published JSON form of an event) is messaging's business: the unit of work is given
the function that writes it (``EnvelopeSerializer``), so persistence imports nothing from messaging.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import DateTime, Text

from customer360.application.context import RequestContext
from customer360.domain.events import DomainEvent
from customer360.domain.ids import EVENT_PREFIX, new_id
from customer360.infrastructure.persistence.database import text_literal
from customer360.infrastructure.persistence.tables import SCHEMA

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


# The audit rows, then the outbox rows, of one commit: one statement (arrays, one element a row; the order
# of the events is the order of the audit ids and of the outbox positions). The values are either bound
# (``WRITE_AUDIT``, ``WRITE_AUDIT_AND_OUTBOX``) or written into the text as literals (`journal_statement`).
_AUDIT = """
INSERT INTO audit_log
       (tenant_id, customer_id, entity_type, entity_id, action, actor, source, correlation_id, occurred_at, changes)
SELECT {tenant}, a.customer_id, a.entity_type, a.entity_id, a.action, {actor}, {source}, {correlation}, a.occurred_at,
       CAST(a.changes AS jsonb)
  FROM unnest({a_customers}, {a_types}, {a_ids}, {a_actions}, {a_times}, {a_changes})
       WITH ORDINALITY AS a(customer_id, entity_type, entity_id, action, occurred_at, changes, n)
 ORDER BY a.n
"""
# The outbox rows by write_outbox (migration 0015): the lock, the rows, the relay's wake-up.
_OUTBOX = "SELECT write_outbox({tenant}, {correlation}, {o_ids}, {o_types}, {o_aggregates}, {o_envelopes}, {o_times})"
_TEXTS = (
    "a_customers",
    "a_types",
    "a_ids",
    "a_actions",
    "a_changes",
    "o_ids",
    "o_types",
    "o_aggregates",
    "o_envelopes",
)
_TIMES = ("a_times", "o_times")
_SCALARS = ("tenant", "actor", "source", "correlation")
_BOUND = {name: f":{name}" for name in (*_SCALARS, *_TEXTS, *_TIMES)}
_ARRAYS: dict[str, BindParameter[Any]] = {
    **{name: bindparam(name, type_=ARRAY(Text)) for name in _TEXTS},
    **{name: bindparam(name, type_=ARRAY(DateTime(timezone=True))) for name in _TIMES},
}
WRITE_AUDIT = text(_AUDIT.format(**_BOUND)).bindparams(*(p for name, p in _ARRAYS.items() if name.startswith("a_")))
WRITE_AUDIT_AND_OUTBOX = text(f"WITH audit AS ({_AUDIT}) {_OUTBOX}".format(**_BOUND)).bindparams(*_ARRAYS.values())


def _journal_parameters(
    context: RequestContext, events: Sequence[DomainEvent], envelope: EnvelopeSerializer
) -> dict[str, Any]:
    """The statement's values: the audit arrays always, the outbox arrays when an event is published."""
    audit = [audit_row(context, event) for event in events]
    parameters: dict[str, Any] = {
        "tenant": context.tenant_id,
        "actor": context.actor,
        "source": context.source,
        "correlation": context.correlation_id,
        "a_customers": [row["customer_id"] for row in audit],
        "a_types": [row["entity_type"] for row in audit],
        "a_ids": [row["entity_id"] for row in audit],
        "a_actions": [row["action"] for row in audit],
        "a_times": [row["occurred_at"] for row in audit],
        "a_changes": [orjson.dumps(row["changes"]).decode() for row in audit],
    }
    outbox = [outbox_row(context, e, envelope) for e in events if e.published]  # audit-only events stay out
    if outbox:
        parameters.update(
            o_ids=[row["event_id"] for row in outbox],
            o_types=[row["event_type"] for row in outbox],
            o_aggregates=[row["aggregate_id"] for row in outbox],
            o_envelopes=[orjson.dumps(row["envelope"]).decode() for row in outbox],
            o_times=[row["created_at"] for row in outbox],
        )
    return parameters


async def write_journal(
    connection: AsyncConnection,
    context: RequestContext,
    events: Sequence[DomainEvent],
    envelope: EnvelopeSerializer,
) -> None:
    """The audit rows of ``events`` and the outbox rows of the published ones, with the outbox lock and the
    relay's wake-up when there are some: one round trip."""
    if not events:
        return
    parameters = _journal_parameters(context, events, envelope)
    await connection.execute(WRITE_AUDIT_AND_OUTBOX if "o_ids" in parameters else WRITE_AUDIT, parameters)


def journal_statement(
    context: RequestContext, events: Sequence[DomainEvent], envelope: EnvelopeSerializer
) -> str | None:
    """`write_journal`'s statement with its values written in as literals, for a simple query that also
    commits (``database.commit_with``): the outbox lock is then taken and released inside one round trip,
    and the commit costs none of its own. None when a value cannot be a literal the same way it would be
    bound (a timestamp without a time zone, a value that is not text, a NUL, which PostgreSQL refuses: the
    bound statement then says so as before) or there is nothing to write."""
    if not events:
        return None
    parameters = _journal_parameters(context, events, envelope)
    try:
        return _with_literals(parameters)
    except ValueError:
        return None


def _with_literals(parameters: dict[str, Any]) -> str:
    literals: dict[str, str] = {}
    for name in _SCALARS:
        literals[name] = _literal(parameters[name])
    for name in _TEXTS:
        if name in parameters:
            literals[name] = _text_array(parameters[name])
    for name in _TIMES:
        if name in parameters:
            times = parameters[name]
            if any(not isinstance(t, datetime) or t.utcoffset() is None for t in times):
                raise ValueError("a timestamp without a time zone")
            literals[name] = _array((_literal(t.isoformat()) for t in times), "timestamptz[]")
    if "o_ids" in parameters:
        return f"WITH audit AS ({_AUDIT}) {_OUTBOX}".format(**literals)
    return _AUDIT.format(**literals)


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if not isinstance(value, str):
        raise ValueError("not a text PostgreSQL can hold")
    return text_literal(value)


def _array(elements: Iterable[str], type_name: str) -> str:
    return f"CAST(ARRAY[{', '.join(elements)}] AS {type_name})"


def _text_array(values: Sequence[object]) -> str:
    return _array((_literal(v) for v in values), "text[]")
