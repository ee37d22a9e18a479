"""Request and response models of relationships, the hierarchy, the audit trail and the change feed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from customer360.domain.relationships import RelationshipType
from customer360.infrastructure.rest.models.common import ApiInput, ApiOutput, IsoDate


class RelationshipIn(ApiInput):
    type: RelationshipType = Field(description="SUBSIDIARY_OF builds the account hierarchy (to = parent)")
    to_customer_id: Annotated[str, StringConstraints(max_length=40)]
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None


class RelationshipValidityIn(ApiInput):
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None


class RelatedCustomer(ApiOutput):
    id: str
    name: str
    kind: str
    status: str


class RelationshipOut(ApiOutput):
    id: str
    type: str
    direction: str = Field(description="OUTGOING when this customer is the 'from' side")
    from_customer_id: str
    to_customer_id: str
    valid_from: date | None
    valid_to: date | None
    created_at: datetime
    other_customer: RelatedCustomer


class RelationshipList(ApiOutput):
    items: list[RelationshipOut]


class HierarchyNode(ApiOutput):
    id: str
    name: str
    kind: str
    status: str
    depth: int


class DescendantNode(HierarchyNode):
    parent_id: str


class HierarchyOut(ApiOutput):
    customer_id: str
    on: date
    ancestors: list[HierarchyNode] = Field(description="Nearest parent first, up to the root")
    descendants: list[DescendantNode] = Field(description="Breadth first, each with its parent")


class FieldChangeOut(ApiOutput):
    field: str
    old: Any
    new: Any


class AuditEntryOut(ApiOutput):
    id: int
    customer_id: str | None
    entity_type: str
    entity_id: str
    action: str
    actor: str
    source: str
    correlation_id: str
    occurred_at: datetime
    changes: list[FieldChangeOut]


class AuditPage(ApiOutput):
    items: list[AuditEntryOut]
    next_cursor: str | None


class EventEnvelope(ApiOutput):
    """The seed's event envelope."""

    event_type: str
    event_id: str
    timestamp: str
    aggregate_id: str
    tenant_id: str
    correlation_id: str | None = None
    payload: dict[str, Any]


class EventFeedPage(ApiOutput):
    items: list[EventEnvelope]
    next_cursor: str = Field(description="Pass as ?after= to continue; unchanged when nothing new arrived")
