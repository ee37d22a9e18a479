"""Building the ERP's events the way their producers would send them (Avro with our .avsc, or JSON)."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from customer360.infrastructure.consumers.applier import ConsumedMessage
from customer360.infrastructure.messaging.avro_codec import AvroEventCodec

CODEC = AvroEventCodec()


def event(event_type: str, tenant: str, payload: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventId": event_id or f"evt-{secrets.token_hex(8)}",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "tenantId": tenant,
        "correlationId": f"corr-{secrets.token_hex(4)}",
        "payload": payload,
    }


def encoded(
    envelope: dict[str, Any], *, as_json: bool = False
) -> tuple[bytes, bytes, list[tuple[str, str | bytes | None]]]:
    """(key, value, headers) of the Kafka record a producer would send."""
    avro = CODEC.encode_envelope(envelope)
    if not as_json:
        return (
            avro.key,
            avro.value,
            [(name, value if isinstance(value, bytes) else b"") for name, value in avro.headers],
        )
    headers = [(n, v if isinstance(v, bytes) else b"") for n, v in avro.headers if n != "content-type"]
    return avro.key, json.dumps(envelope).encode(), [*headers, ("content-type", b"application/json")]


def message(envelope: dict[str, Any], *, as_json: bool = False, offset: int = 0) -> ConsumedMessage:
    key, value, headers = encoded(envelope, as_json=as_json)
    pairs = [(name, header if isinstance(header, bytes) else b"") for name, header in headers]
    return ConsumedMessage(topic="test.topic", partition=0, offset=offset, key=key, value=value, headers=pairs)


def lead(tenant: str, lead_id: str | None = None, **payload: Any) -> dict[str, Any]:
    body = {"leadId": lead_id or f"L-{secrets.token_hex(4)}", "source": "WEB", **payload}
    return event("LeadCreatedEvent", tenant, body)


def service_order(tenant: str, customer_id: str, **payload: Any) -> dict[str, Any]:
    body = {
        "serviceOrderId": f"SO-{secrets.token_hex(4)}",
        "customerId": customer_id,
        "status": "OPEN",
        "openedAt": "2026-11-20T08:30:00.000Z",
        **payload,
    }
    return event("ServiceOrderCreatedEvent", tenant, body)


def contract(tenant: str, customer_id: str, **payload: Any) -> dict[str, Any]:
    body = {
        "contractId": f"CTR-{secrets.token_hex(4)}",
        "customerId": customer_id,
        "services": ["ONSITE_REPAIR", "HOTLINE"],
        "slaTier": "GOLD",
        "responseTimeMinutes": 240,
        "resolutionTimeMinutes": 1440,
        "validFrom": "2026-01-01",
        "validTo": "2026-12-31",
        **payload,
    }
    return event("ContractActivatedEvent", tenant, body)


def master_update(tenant: str, customer_id: str | None, **payload: Any) -> dict[str, Any]:
    body = {"customerId": customer_id, "sourceSystem": "MDG", **payload}
    return event("CustomerMasterUpdatedEvent", tenant, body)
