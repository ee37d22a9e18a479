"""Domain events → the seed's event envelope (JSON), as stored in the outbox and served by the feed.

Envelope: eventType, eventId, timestamp (ISO-8601 UTC, milliseconds), aggregateId, tenantId,
correlationId, payload. The payloads are the published contract (docs/events.md).
"""

from __future__ import annotations

from typing import Any

from customer360.domain.events import (
    ConsentUpdated,
    CustomerErased,
    CustomerMerged,
    CustomerProfileCreated,
    CustomerProfileUpdated,
    CustomerUnmerged,
    DomainEvent,
)
from customer360.domain.primitives import iso_millis


def event_payload(event: DomainEvent) -> tuple[str, dict[str, Any]]:
    """The published event type and payload of a domain event."""
    match event:
        case CustomerProfileCreated():
            return "CustomerProfileCreatedEvent", {
                "customerId": event.customer_id,
                "name": event.name,
                "status": event.status,
                "primaryContactId": event.primary_contact_id,
                "segment": event.segment,
                "kind": event.kind,
            }
        case CustomerProfileUpdated():
            return "CustomerProfileUpdatedEvent", {
                "customerId": event.customer_id,
                "changedFields": event.changed_fields,
                "updatedBy": event.actor,
                "source": event.source,
                "version": event.version,
            }
        case ConsentUpdated():
            return "ConsentUpdatedEvent", {
                "customerId": event.customer_id,
                "consentType": event.channel,
                "status": event.status,
                "purpose": event.purpose,
                "consentId": event.consent_id,
                "contactPoint": event.contact_point,
            }
        case CustomerMerged():
            return "CustomerMergedEvent", {
                "targetCustomerId": event.customer_id,
                "sourceCustomerId": event.source_customer_id,
                "mergeReason": event.merge_reason,
                "mergeId": event.merge_id,
            }
        case CustomerUnmerged():
            return "CustomerUnmergedEvent", {
                "targetCustomerId": event.customer_id,
                "sourceCustomerId": event.source_customer_id,
                "mergeId": event.merge_id,
            }
        case CustomerErased():
            return "CustomerErasedEvent", {
                "customerId": event.customer_id,
                "erasureRequestId": event.erasure_request_id,
                "erasedCustomerIds": list(event.erased_customer_ids),
            }
    raise TypeError(f"no published form for {type(event).__name__}")


def envelope(event: DomainEvent, *, event_id: str, tenant_id: str, correlation_id: str) -> dict[str, Any]:
    event_type, payload = event_payload(event)
    return {
        "eventType": event_type,
        "eventId": event_id,
        "timestamp": iso_millis(event.occurred_at),
        "aggregateId": event.customer_id,
        "tenantId": tenant_id,
        "correlationId": correlation_id,
        "payload": payload,
    }
