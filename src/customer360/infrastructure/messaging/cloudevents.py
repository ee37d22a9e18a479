"""CloudEvents (Kafka protocol binding, binary content mode) and W3C trace context on our Kafka records.

Beside the headers the ERP's conventions ask for (``event-type``, ``tenant-id``, ``correlation-id``,
``content-type``), every record carries the CloudEvents attributes as ``ce_`` headers — the value stays
the Avro single-object body, which the ``content-type`` header already names (that header is the
binding's ``datacontenttype``) — so that CloudEvents SDKs, Knative, Dapr or Kafka Connect read our events
without knowing our envelope. ``traceparent`` puts the event in the trace of its correlation id
(trace_context.py): a tracing relay replaces it with its publish span (tracing.py).

| header | value |
|---|---|
| ``ce_specversion`` | ``1.0`` |
| ``ce_id`` | ``eventId`` (unique per event; a re-sent event keeps it) |
| ``ce_source`` | ``/crm-customer360`` (the bounded context) |
| ``ce_type`` | the Avro full name, e.g. ``com.erp.crm.customer360.events.CustomerProfileCreatedEvent`` |
| ``ce_time`` | the event's ``timestamp``, RFC 3339 in UTC with milliseconds |
| ``ce_subject`` | the record key: the customer the event is about (merge and unmerge: the target) |
"""

from __future__ import annotations

from datetime import UTC, datetime

from customer360.infrastructure.trace_context import TraceParent, span_id_for, trace_id_for

SPEC_VERSION = "1.0"
SOURCE = "/crm-customer360"


def cloudevent_headers(*, event_id: str, full_name: str, timestamp_ms: int, subject: str) -> list[tuple[str, bytes]]:
    time = datetime.fromtimestamp(timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", event_id.encode()),
        ("ce_source", SOURCE.encode()),
        ("ce_type", full_name.encode()),
        ("ce_time", time.encode()),
        ("ce_subject", subject.encode()),
    ]


def event_traceparent(correlation_id: str | None, event_id: str) -> TraceParent:
    """The event's place in its correlation id's trace (the event id's, without one), as a span of its own.
    Sampled: a consumer that traces records its part, even though no tracer of ours recorded this span
    (parent-based samplers drop the children of unsampled parents, and the trace is worth having)."""
    return TraceParent(trace_id_for(correlation_id or event_id), span_id_for(event_id), sampled=True)
