"""The merge workflow's domain events in their published form: the seed's envelope and the Avro schemas."""

from __future__ import annotations

from datetime import UTC, datetime

from customer360.domain.events import CustomerMerged, CustomerUnmerged
from customer360.infrastructure.messaging.avro_codec import AvroEventCodec
from customer360.infrastructure.messaging.envelopes import envelope

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def test_merge_and_unmerge_envelopes_encode_with_the_latest_schemas_and_are_keyed_by_the_target() -> None:
    """CustomerMergedEvent (seed payload + mergeId) and CustomerUnmergedEvent survive the Kafka round trip."""
    codec = AvroEventCodec()
    events = [
        CustomerMerged(
            customer_id="CUST-T",
            occurred_at=NOW,
            actor="u",
            source_customer_id="CUST-S",
            merge_id="MRG-1",
            merge_reason="DUPLICATE",
        ),
        CustomerUnmerged(
            customer_id="CUST-T", occurred_at=NOW, actor="u", source_customer_id="CUST-S", merge_id="MRG-1"
        ),
    ]
    for event in events:
        body = envelope(event, event_id="evt-1", tenant_id="tenant-001", correlation_id="c-1")
        encoded = codec.encode_envelope(body)
        assert encoded.key == b"CUST-T"
        assert codec.decode_message(encoded.value, encoded.content_type) == body
