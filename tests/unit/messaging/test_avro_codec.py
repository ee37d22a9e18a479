"""The Avro codec: single-object encoding, decoding, the envelope mapping and the content type."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import avro.io
import avro.schema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import customer360.infrastructure.messaging as messaging_package
from customer360.infrastructure.messaging.avro_codec import (
    AVRO_MEDIA_TYPE,
    AvroEventCodec,
    ContentType,
    DecodeFailure,
    EventDecodeError,
    InvalidEventError,
    UnknownEventTypeError,
    UnknownSchemaFingerprintError,
    UnsupportedContentTypeError,
    WireFormat,
    avro_content_type,
    envelope_to_record,
    parse_content_type,
    record_to_envelope,
)
from customer360.infrastructure.messaging.schema_catalog import SchemaVersion, load_schema_catalog
from customer360.infrastructure.trace_context import span_id_for, trace_id_for

SCHEMA_DIR = Path(messaging_package.__file__).parent / "schemas"
CATALOG = load_schema_catalog()
ALL_VERSIONS = list(CATALOG)
VERSION_IDS = [f"{s.name}-v{s.version}" for s in ALL_VERSIONS]

# 2026-11-27 is day 20784 after 1970-01-01 (2026-12-01 is day 20788).
TIMESTAMP_ISO = "2026-11-27T12:00:00.123Z"
TIMESTAMP_MILLIS = 20784 * 86_400_000 + 12 * 3_600_000 + 123
PRIMITIVE_TYPES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}

#: One payload per event type, holding every field of its latest schema (envelope form).
SAMPLE_PAYLOADS: dict[str, dict[str, Any]] = {
    "CustomerProfileCreatedEvent": {
        "customerId": "CUST-100",
        "name": "Acme Corp",
        "status": "ACTIVE",
        "segment": "ENTERPRISE",
        "kind": "ORGANIZATION",
        "primaryContactId": "CONT-10",
    },
    "CustomerProfileUpdatedEvent": {
        "customerId": "CUST-100",
        "changedFields": ["segment", "status"],
        "updatedBy": "user-200",
        "source": "API",
        "version": 7,
    },
    "CustomerMergedEvent": {
        "targetCustomerId": "CUST-100",
        "sourceCustomerId": "CUST-OLD",
        "mergeReason": "DUPLICATE",
        "mergeId": "MRG-1",
    },
    "ConsentUpdatedEvent": {
        "customerId": "CUST-100",
        "consentType": "EMAIL",
        "status": "GRANTED",
        "purpose": "MARKETING",
        "consentId": "CONS-1",
        "contactPoint": "anna.schmidt@example.com",
    },
    "CustomerUnmergedEvent": {"targetCustomerId": "CUST-100", "sourceCustomerId": "CUST-OLD", "mergeId": "MRG-1"},
    "CustomerErasedEvent": {
        "customerId": "CUST-100",
        "erasureRequestId": "ER-1",
        "erasedCustomerIds": ["CUST-100", "CUST-OLD"],
    },
    "LeadCreatedEvent": {
        "leadId": "LEAD-7",
        "companyName": "Müller Maschinenbau GmbH",
        "contactGivenName": "Jörg",
        "contactFamilyName": "Müller",
        "email": "joerg.mueller@example.de",
        "phone": "+4930123456",
        "country": "DE",
        "taxId": "DE123456789",
        "source": "TRADE_FAIR",
    },
    "ServiceOrderCreatedEvent": {
        "serviceOrderId": "SO-1",
        "customerId": "CUST-100",
        "orderNumber": "SO-2026-0001",
        "orderType": "REPAIR",
        "priority": "HIGH",
        "status": "OPEN",
        "openedAt": "2026-11-27T08:30:00.000Z",
        "summary": "Pump makes noise",
    },
    "ContractActivatedEvent": {
        "contractId": "CON-1",
        "customerId": "CUST-100",
        "services": ["ONSITE", "HOTLINE"],
        "slaTier": "GOLD",
        "responseTimeMinutes": 240,
        "resolutionTimeMinutes": 1440,
        "validFrom": "2026-12-01",
        "validTo": "2027-11-30",
    },
    "CustomerMasterUpdatedEvent": {
        "customerId": "CUST-100",
        "sourceSystem": "MDG",
        "externalId": "MDG-4711",
        "name": "Acme Corporation",
        "legalName": "Acme Corporation GmbH",
        "status": "ACTIVE",
        "segment": "ENTERPRISE",
        "industry": "C28",
        "website": "https://acme.example",
        "taxIds": [{"country": "DE", "value": "DE123456789"}],
        "creditLimit": "250000.00",
        "creditCurrency": "EUR",
        "paymentTerms": "NET30",
        "creditBlocked": False,
    },
}


@pytest.fixture(scope="module")
def codec() -> AvroEventCodec:
    return AvroEventCodec()


def sample_envelope(event_type: str, **overrides: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "eventType": event_type,
        "eventId": "evt-01JDX0000000000000000000",
        "timestamp": TIMESTAMP_ISO,
        "aggregateId": "CUST-100",
        "tenantId": "tenant-001",
        "correlationId": "corr-1",
        "payload": dict(SAMPLE_PAYLOADS[event_type]),
    }
    envelope.update(overrides)
    return envelope


def sample_record(schema: SchemaVersion) -> dict[str, Any]:
    """A record (wire values) with every field of ``schema``, taken from the latest-version sample."""
    _, full = envelope_to_record(sample_envelope(schema.name))
    return {name: full[name] for name in schema.field_names}


def crc64_avro(data: bytes) -> int:
    """CRC-64-AVRO (Rabin) exactly as the Avro specification's "Schema Fingerprints" section gives it."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def as_signed_long(value: int) -> int:
    return value - 2**64 if value >= 2**63 else value


def avsc_text(schema: SchemaVersion) -> str:
    return (SCHEMA_DIR / schema.name / f"v{schema.version}.avsc").read_text(encoding="utf-8")


def apache_schema(schema: SchemaVersion) -> avro.schema.Schema:
    return avro.schema.parse(avsc_text(schema))


def without_logical_types(node: Any) -> Any:
    if isinstance(node, list):
        return [without_logical_types(item) for item in node]
    if isinstance(node, dict):
        return {key: without_logical_types(value) for key, value in node.items() if key != "logicalType"}
    return node


def java_canonical_form(schema: SchemaVersion) -> str:
    """Apache avro's canonical form with the spec's [PRIMITIVES] rule applied as Java applies it.

    Apache avro for Python (1.12) writes a logical-typed primitive as ``{"type":"long"}``; Java's
    ``SchemaNormalization.toParsingForm`` (what a JVM consumer's decoder fingerprints) writes ``"long"``.
    """

    def collapse(node: Any) -> Any:
        if isinstance(node, list):
            return [collapse(item) for item in node]
        if isinstance(node, dict):
            if set(node) == {"type"} and node["type"] in PRIMITIVE_TYPES:
                return node["type"]
            return {key: collapse(value) for key, value in node.items()}
        return node

    canonical = json.loads(apache_schema(schema).canonical_form)
    return json.dumps(collapse(canonical), separators=(",", ":"), ensure_ascii=False)


def apache_decode(value: bytes, writer: SchemaVersion, reader: SchemaVersion | None = None) -> dict[str, Any]:
    """Decode with the Apache ``avro`` package from the bytes and the .avsc files alone."""
    writer_schema = apache_schema(writer)
    reader_schema = apache_schema(reader) if reader is not None else writer_schema
    decoder = avro.io.BinaryDecoder(io.BytesIO(value[10:]))
    datum = avro.io.DatumReader(writer_schema, reader_schema).read(decoder)
    assert isinstance(datum, dict)
    return datum


def to_wire_values(value: Any) -> Any:
    """Apache avro returns datetime/date for logical types; our records hold epoch millis/days."""
    if isinstance(value, datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, date):
        return (value - date(1970, 1, 1)).days
    if isinstance(value, dict):
        return {key: to_wire_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_wire_values(item) for item in value]
    return value


class TestCrcOracle:
    @pytest.mark.parametrize(
        ("canonical_form", "java_fingerprint"),
        [
            ('"null"', 7195948357588979594),
            ('"boolean"', -6970731678124411036),
            ('"int"', 8247732601305521295),
            ('{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}', 7843277075252814651),
        ],
    )
    def test_the_test_crc_matches_the_avro_projects_published_vectors(
        self, canonical_form: str, java_fingerprint: int
    ) -> None:
        """The independent CRC in this test gives the Avro project's published fingerprints."""
        assert java_fingerprint == as_signed_long(crc64_avro(canonical_form.encode()))


class TestSingleObjectEncoding:
    @pytest.mark.parametrize("schema", ALL_VERSIONS, ids=VERSION_IDS)
    def test_value_starts_with_the_marker_c3_01(self, codec: AvroEventCodec, schema: SchemaVersion) -> None:
        """Every value starts with the two marker bytes C3 01."""
        value = codec.encode_with(schema, sample_record(schema))
        assert value[:2] == b"\xc3\x01"

    @pytest.mark.parametrize("schema", ALL_VERSIONS, ids=VERSION_IDS)
    def test_fingerprint_is_crc64_avro_of_the_canonical_form_little_endian(
        self, codec: AvroEventCodec, schema: SchemaVersion
    ) -> None:
        """Bytes 2..9 are the CRC-64-AVRO of the Parsing Canonical Form, little-endian."""
        value = codec.encode_with(schema, sample_record(schema))
        assert crc64_avro(java_canonical_form(schema).encode()).to_bytes(8, "little") == value[2:10]

    @pytest.mark.parametrize("schema", ALL_VERSIONS, ids=VERSION_IDS)
    def test_fingerprint_equals_apache_avros_own(self, codec: AvroEventCodec, schema: SchemaVersion) -> None:
        """Apache avro's fingerprint() (of the schema without logicalType, which PCF strips) is the header."""
        plain = avro.schema.parse(json.dumps(without_logical_types(json.loads(avsc_text(schema)))))
        value = codec.encode_with(schema, sample_record(schema))
        assert plain.fingerprint("CRC-64-AVRO") == value[2:10]

    @pytest.mark.parametrize("schema", ALL_VERSIONS, ids=VERSION_IDS)
    def test_canonical_form_is_the_one_java_computes(self, schema: SchemaVersion) -> None:
        """The catalog's Parsing Canonical Form is Java's (logical types reduced to the primitive)."""
        assert java_canonical_form(schema) == schema.canonical_form

    def test_apache_avro_for_python_keeps_logical_types_as_objects(self) -> None:
        """Known deviation: Apache avro (Python) writes {"type":"long"} where Java writes "long"."""
        schema = CATALOG.latest("CustomerMergedEvent")
        assert '"timestamp","type":{"type":"long"}' in apache_schema(schema).canonical_form

    @pytest.mark.parametrize("schema", ALL_VERSIONS, ids=VERSION_IDS)
    def test_java_long_is_the_signed_crc(self, schema: SchemaVersion) -> None:
        """fingerprintLong is the signed value Java's parsingFingerprint64 returns."""
        expected = as_signed_long(crc64_avro(java_canonical_form(schema).encode()))
        assert expected == schema.fingerprint.java_long

    @pytest.mark.parametrize("schema", ALL_VERSIONS, ids=VERSION_IDS)
    def test_apache_avro_decodes_the_body_with_the_avsc_file(
        self, codec: AvroEventCodec, schema: SchemaVersion
    ) -> None:
        """Apache avro decodes the body after the 10-byte header to the encoded record."""
        record = sample_record(schema)
        value = codec.encode_with(schema, record)
        assert record == to_wire_values(apache_decode(value, schema))

    def test_apache_avro_reads_v1_data_with_the_v2_schema(self, codec: AvroEventCodec) -> None:
        """Apache avro resolves v1 data to v2 with the new fields' defaults."""
        v1 = CATALOG.get("CustomerProfileCreatedEvent", 1)
        value = codec.encode_with(v1, sample_record(v1))
        datum = apache_decode(value, v1, CATALOG.get("CustomerProfileCreatedEvent", 2))
        assert (datum["kind"], datum["primaryContactId"], datum["correlationId"]) == ("ORGANIZATION", None, None)

    def test_encode_uses_the_latest_version(self, codec: AvroEventCodec) -> None:
        """encode() writes with the highest version of the event type."""
        latest = CATALOG.latest("CustomerMergedEvent")
        value = codec.encode("CustomerMergedEvent", sample_record(latest))
        assert latest.fingerprint.raw == value[2:10]


class TestRoundTrip:
    def test_samples_cover_every_event_type(self) -> None:
        """Every event type in the catalog has a sample here (a new schema needs one)."""
        assert set(CATALOG.names()) == set(SAMPLE_PAYLOADS)

    @pytest.mark.parametrize("schema", ALL_VERSIONS, ids=VERSION_IDS)
    def test_record_survives_encode_and_decode(self, codec: AvroEventCodec, schema: SchemaVersion) -> None:
        """decode(encode(record)) gives the record and names the writer version."""
        record = sample_record(schema)
        decoded = codec.decode(codec.encode_with(schema, record))
        assert (record, schema) == (decoded.record, decoded.writer)

    @pytest.mark.parametrize("event_type", sorted(SAMPLE_PAYLOADS))
    def test_envelope_survives_the_kafka_round_trip(self, codec: AvroEventCodec, event_type: str) -> None:
        """An envelope encoded for Kafka decodes to the same envelope."""
        envelope = sample_envelope(event_type)
        encoded = codec.encode_envelope(envelope)
        decoded = codec.decode_message(encoded.value, encoded.content_type)
        assert {**envelope, "aggregateId": encoded.key.decode()} == decoded

    def test_old_version_is_projected_onto_the_latest(self, codec: AvroEventCodec) -> None:
        """decode_as_latest() fills v2 fields missing from v1 data with their defaults."""
        v1 = CATALOG.get("CustomerMergedEvent", 1)
        decoded = codec.decode_as_latest(codec.encode_with(v1, sample_record(v1)))
        assert (decoded.schema.version, decoded.record["mergeId"], decoded.record["correlationId"]) == (2, None, None)

    def test_decode_without_reader_keeps_the_writer_shape(self, codec: AvroEventCodec) -> None:
        """decode() without a reader returns exactly the writer version's fields."""
        v1 = CATALOG.get("CustomerProfileCreatedEvent", 1)
        decoded = codec.decode(codec.encode_with(v1, sample_record(v1)))
        assert list(v1.field_names) == list(decoded.record)


class TestEnvelopeMapping:
    def test_timestamp_becomes_epoch_millis(self) -> None:
        """The envelope's ISO timestamp becomes milliseconds since the epoch."""
        _, record = envelope_to_record(sample_envelope("CustomerProfileCreatedEvent"))
        assert record["timestamp"] == TIMESTAMP_MILLIS

    def test_payload_fields_are_flattened(self) -> None:
        """Payload fields sit at the record's top level next to the envelope fields."""
        _, record = envelope_to_record(sample_envelope("ConsentUpdatedEvent"))
        expected = {"eventId", "timestamp", "tenantId", "correlationId", *SAMPLE_PAYLOADS["ConsentUpdatedEvent"]}
        assert expected == set(record)

    def test_dates_become_days_since_epoch(self) -> None:
        """ISO dates become days since 1970-01-01 and come back unchanged."""
        _, record = envelope_to_record(sample_envelope("ContractActivatedEvent"))
        assert (record["validFrom"], record["validTo"]) == (20788, 21152)

    def test_timestamp_payload_fields_are_converted_too(self) -> None:
        """Timestamp-millis payload fields (openedAt) are converted like the envelope's."""
        _, record = envelope_to_record(sample_envelope("ServiceOrderCreatedEvent"))
        assert record["openedAt"] == TIMESTAMP_MILLIS - (3 * 3_600_000 + 30 * 60_000 + 123)

    def test_record_maps_back_to_the_envelope(self) -> None:
        """record_to_envelope() restores the envelope with ISO timestamps in milliseconds."""
        envelope = sample_envelope("CustomerMasterUpdatedEvent")
        event_type, record = envelope_to_record(envelope)
        assert envelope == record_to_envelope(event_type, record)

    def test_timestamp_without_milliseconds_is_written_with_them(self) -> None:
        """A seed-style timestamp (no fraction) comes back with .000Z."""
        envelope = sample_envelope("CustomerMergedEvent", timestamp="2026-02-02T10:05:00Z")
        event_type, record = envelope_to_record(envelope)
        assert record_to_envelope(event_type, record)["timestamp"] == "2026-02-02T10:05:00.000Z"

    def test_offset_timestamps_are_normalised_to_utc(self) -> None:
        """A timestamp with a +01:00 offset is stored as the same instant in UTC."""
        envelope = sample_envelope("CustomerMergedEvent", timestamp="2026-11-27T13:00:00.123+01:00")
        assert envelope_to_record(envelope)[1]["timestamp"] == TIMESTAMP_MILLIS

    def test_missing_optional_payload_fields_get_their_defaults(self) -> None:
        """A payload without fields that have defaults is completed with the defaults."""
        envelope = sample_envelope("CustomerProfileCreatedEvent")
        del envelope["payload"]["kind"], envelope["payload"]["primaryContactId"]
        _, record = envelope_to_record(envelope)
        assert (record["kind"], record["primaryContactId"]) == ("ORGANIZATION", None)

    def test_missing_correlation_id_becomes_null(self) -> None:
        """An envelope without correlationId yields a null correlationId."""
        envelope = sample_envelope("ConsentUpdatedEvent")
        del envelope["correlationId"]
        assert envelope_to_record(envelope)[1]["correlationId"] is None

    def test_missing_required_payload_field_is_rejected(self) -> None:
        """A payload without a field that has no default raises InvalidEventError."""
        envelope = sample_envelope("CustomerMergedEvent")
        del envelope["payload"]["sourceCustomerId"]
        with pytest.raises(InvalidEventError, match="sourceCustomerId"):
            envelope_to_record(envelope)

    def test_unknown_payload_field_is_rejected(self) -> None:
        """A payload field that the schema does not have raises InvalidEventError."""
        envelope = sample_envelope("CustomerMergedEvent")
        envelope["payload"]["surprise"] = 1
        with pytest.raises(InvalidEventError, match="surprise"):
            envelope_to_record(envelope)

    def test_timestamp_without_offset_is_rejected(self) -> None:
        """A naive timestamp is ambiguous and raises InvalidEventError."""
        with pytest.raises(InvalidEventError, match="UTC offset"):
            envelope_to_record(sample_envelope("CustomerMergedEvent", timestamp="2026-11-27T12:00:00"))

    def test_envelope_without_tenant_is_rejected(self) -> None:
        """An envelope without tenantId raises InvalidEventError."""
        with pytest.raises(InvalidEventError, match="tenantId"):
            envelope_to_record(sample_envelope("CustomerMergedEvent", tenantId=None))

    def test_unknown_event_type_is_reported_as_such(self) -> None:
        """An eventType that is not in the catalog raises UnknownEventTypeError."""
        with pytest.raises(UnknownEventTypeError):
            envelope_to_record({**sample_envelope("CustomerMergedEvent"), "eventType": "CustomerCreatedEvent"})

    def test_invalid_value_error_names_the_field_but_not_the_value(self, codec: AvroEventCodec) -> None:
        """Errors name the offending field and never echo values (they may be personal data)."""
        envelope = sample_envelope("ConsentUpdatedEvent")
        envelope["payload"]["consentType"] = 42
        with pytest.raises(InvalidEventError) as caught:
            codec.encode_envelope(envelope)
        message = str(caught.value)
        assert ("consentType" in message, "anna.schmidt" in message, "42" in message) == (True, False, False)


class TestKafkaRecord:
    def test_key_is_the_customer_id(self, codec: AvroEventCodec) -> None:
        """The Kafka key is the customerId, whatever the envelope's aggregateId says."""
        encoded = codec.encode_envelope(sample_envelope("ConsentUpdatedEvent", aggregateId="CONS-1"))
        assert encoded.key == b"CUST-100"

    def test_merge_events_are_keyed_by_the_target(self, codec: AvroEventCodec) -> None:
        """Merge events are keyed by the surviving (target) customer."""
        encoded = codec.encode_envelope(sample_envelope("CustomerMergedEvent"))
        assert encoded.key == b"CUST-100"

    def test_headers_carry_type_tenant_correlation_and_content_type(self, codec: AvroEventCodec) -> None:
        """The ERP's headers: event-type, tenant-id, correlation-id and content-type, first."""
        encoded = codec.encode_envelope(sample_envelope("CustomerProfileUpdatedEvent"))
        assert encoded.headers[:4] == [
            ("event-type", b"CustomerProfileUpdatedEvent"),
            ("tenant-id", b"tenant-001"),
            ("correlation-id", b"corr-1"),
            (
                "content-type",
                b"application/vnd.apache.avro+binary; encoding=single-object; "
                b"schema=com.erp.crm.customer360.events.CustomerProfileUpdatedEvent",
            ),
        ]

    def test_headers_carry_the_cloudevents_binding_and_trace_context(self, codec: AvroEventCodec) -> None:
        """ce_* attributes of the Kafka protocol binding (binary mode) and a W3C traceparent follow."""
        encoded = codec.encode_envelope(sample_envelope("CustomerProfileUpdatedEvent"))
        headers = dict(encoded.headers[4:])
        traceparent = headers.pop("traceparent")
        assert headers == {
            "ce_specversion": b"1.0",
            "ce_id": b"evt-01JDX0000000000000000000",
            "ce_source": b"/crm-customer360",
            "ce_type": b"com.erp.crm.customer360.events.CustomerProfileUpdatedEvent",
            "ce_time": TIMESTAMP_ISO.encode(),
            "ce_subject": b"CUST-100",
        }
        assert traceparent == f"00-{trace_id_for('corr-1')}-{span_id_for('evt-01JDX0000000000000000000')}-01".encode()

    def test_correlation_header_is_left_out_without_a_correlation_id(self, codec: AvroEventCodec) -> None:
        """No correlation-id header when the event has no correlation id."""
        encoded = codec.encode_envelope(sample_envelope("CustomerProfileUpdatedEvent", correlationId=None))
        assert "correlation-id" not in dict(encoded.headers)

    def test_repr_leaves_out_the_value(self, codec: AvroEventCodec) -> None:
        """repr() of an encoded or decoded event shows no field values."""
        encoded = codec.encode_envelope(sample_envelope("ConsentUpdatedEvent"))
        decoded = codec.decode(encoded.value)
        assert "anna" not in repr(encoded) + repr(decoded)


class TestDecodeErrors:
    def test_unknown_fingerprint_raises_the_codec_error(self, codec: AvroEventCodec) -> None:
        """A fingerprint that no shipped schema has raises UnknownSchemaFingerprintError."""
        value = codec.encode("CustomerMergedEvent", sample_record(CATALOG.latest("CustomerMergedEvent")))
        with pytest.raises(UnknownSchemaFingerprintError) as caught:
            codec.decode(value[:2] + bytes(8) + value[10:])
        assert (
            caught.value.reason,
            isinstance(caught.value, EventDecodeError),
        ) == (DecodeFailure.UNKNOWN_FINGERPRINT, True)

    @pytest.mark.parametrize("cut", [1, 3, 10, 20])
    def test_truncated_body_raises_the_codec_error(self, codec: AvroEventCodec, cut: int) -> None:
        """A value cut short anywhere in the body raises EventDecodeError."""
        value = codec.encode("CustomerMergedEvent", sample_record(CATALOG.latest("CustomerMergedEvent")))
        with pytest.raises(EventDecodeError):
            codec.decode(value[:-cut])

    def test_truncated_header_raises_truncated(self, codec: AvroEventCodec) -> None:
        """A value shorter than the 10-byte header raises EventDecodeError(truncated)."""
        with pytest.raises(EventDecodeError) as caught:
            codec.decode(b"\xc3\x01\x00\x01")
        assert caught.value.reason == DecodeFailure.TRUNCATED

    def test_missing_marker_raises_bad_marker(self, codec: AvroEventCodec) -> None:
        """A value that does not start with C3 01 raises EventDecodeError(bad-marker)."""
        with pytest.raises(EventDecodeError) as caught:
            codec.decode(b'{"eventType": "CustomerMergedEvent"}')
        assert caught.value.reason == DecodeFailure.BAD_MARKER

    def test_trailing_bytes_raise_the_codec_error(self, codec: AvroEventCodec) -> None:
        """Bytes after a complete body raise EventDecodeError(trailing-bytes)."""
        value = codec.encode("CustomerMergedEvent", sample_record(CATALOG.latest("CustomerMergedEvent")))
        with pytest.raises(EventDecodeError) as caught:
            codec.decode(value + b"\x00")
        assert caught.value.reason == DecodeFailure.TRAILING_BYTES

    def test_empty_value_raises_empty(self, codec: AvroEventCodec) -> None:
        """A tombstone (no value) raises EventDecodeError(empty)."""
        with pytest.raises(EventDecodeError) as caught:
            codec.decode_message(None)
        assert caught.value.reason == DecodeFailure.EMPTY

    def test_reading_as_another_event_type_raises_schema_mismatch(self, codec: AvroEventCodec) -> None:
        """Projecting onto another event type's schema raises EventDecodeError(schema-mismatch)."""
        value = codec.encode("CustomerMergedEvent", sample_record(CATALOG.latest("CustomerMergedEvent")))
        with pytest.raises(EventDecodeError) as caught:
            codec.decode(value, reader=CATALOG.latest("CustomerUnmergedEvent"))
        assert caught.value.reason == DecodeFailure.SCHEMA_MISMATCH

    @settings(max_examples=300, deadline=None)
    @given(schema=st.sampled_from(ALL_VERSIONS), body=st.binary(max_size=80))
    def test_garbage_body_raises_only_the_codec_error(self, schema: SchemaVersion, body: bytes) -> None:
        """Random bytes after a valid header either decode or raise EventDecodeError, nothing else."""
        codec = AvroEventCodec(CATALOG)
        with contextlib.suppress(EventDecodeError):
            codec.decode(b"\xc3\x01" + schema.fingerprint.raw + body)


class TestDecodeMessage:
    def test_content_type_naming_another_schema_raises_schema_mismatch(self, codec: AvroEventCodec) -> None:
        """A content-type whose schema differs from the fingerprint's raises schema-mismatch."""
        encoded = codec.encode_envelope(sample_envelope("CustomerMergedEvent"))
        with pytest.raises(EventDecodeError) as caught:
            codec.decode_message(encoded.value, codec.content_type("CustomerUnmergedEvent"))
        assert caught.value.reason == DecodeFailure.SCHEMA_MISMATCH

    def test_unknown_fingerprint_of_an_unknown_type_is_an_unknown_event_type(self, codec: AvroEventCodec) -> None:
        """Unknown fingerprint + a content-type naming an unknown type raises UnknownEventTypeError."""
        value = b"\xc3\x01" + bytes(8) + b"\x00"
        with pytest.raises(UnknownEventTypeError):
            codec.decode_message(value, avro_content_type("com.erp.sales.events.QuoteSentEvent"))

    def test_json_envelope_is_accepted_and_normalised(self, codec: AvroEventCodec) -> None:
        """A JSON envelope decodes to the canonical envelope (defaults filled, ms timestamps)."""
        document = sample_envelope("LeadCreatedEvent", timestamp="2026-11-27T12:00:00Z", aggregateId="LEAD-7")
        del document["payload"]["taxId"], document["correlationId"]
        envelope = codec.decode_message(json.dumps(document).encode(), "application/json; charset=utf-8")
        assert (
            envelope["timestamp"],
            envelope["payload"]["taxId"],
            envelope["correlationId"],
        ) == ("2026-11-27T12:00:00.000Z", None, None)

    def test_json_without_content_type_is_recognised(self, codec: AvroEventCodec) -> None:
        """Without a content-type header a JSON object is recognised by its first byte."""
        document = sample_envelope("ContractActivatedEvent", aggregateId="CON-1")
        assert document == codec.decode_message(json.dumps(document).encode())

    def test_avro_without_content_type_is_recognised(self, codec: AvroEventCodec) -> None:
        """Without a content-type header Avro is recognised by the C3 01 marker."""
        encoded = codec.encode_envelope(sample_envelope("ConsentUpdatedEvent"))
        assert codec.decode_message(encoded.value)["eventType"] == "ConsentUpdatedEvent"

    def test_json_of_an_unknown_event_type_raises_unknown_event_type(self, codec: AvroEventCodec) -> None:
        """A JSON envelope of a type we do not know raises UnknownEventTypeError (log and skip)."""
        document = {"eventType": "QuoteSentEvent", "eventId": "e", "tenantId": "t", "payload": {}}
        with pytest.raises(UnknownEventTypeError):
            codec.decode_message(json.dumps(document).encode(), "application/json")

    def test_json_envelope_without_tenant_raises_invalid_envelope(self, codec: AvroEventCodec) -> None:
        """A JSON envelope without tenantId raises EventDecodeError(invalid-envelope)."""
        document = sample_envelope("LeadCreatedEvent")
        del document["tenantId"]
        with pytest.raises(EventDecodeError) as caught:
            codec.decode_message(json.dumps(document).encode(), "application/json")
        assert caught.value.reason == DecodeFailure.INVALID_ENVELOPE

    def test_json_envelope_with_an_ill_typed_field_raises_invalid_envelope(self, codec: AvroEventCodec) -> None:
        """A JSON envelope whose field has the wrong type raises EventDecodeError(invalid-envelope)."""
        document = sample_envelope("ContractActivatedEvent")
        document["payload"]["responseTimeMinutes"] = "four hours"
        with pytest.raises(EventDecodeError) as caught:
            codec.decode_message(json.dumps(document).encode(), "application/json")
        assert caught.value.reason == DecodeFailure.INVALID_ENVELOPE

    def test_malformed_json_raises_invalid_json(self, codec: AvroEventCodec) -> None:
        """Text that is not JSON raises EventDecodeError(invalid-json)."""
        with pytest.raises(EventDecodeError) as caught:
            codec.decode_message(b"{not json", "application/json")
        assert caught.value.reason == DecodeFailure.INVALID_JSON


class TestContentType:
    def test_avro_content_type_names_the_full_schema_name(self, codec: AvroEventCodec) -> None:
        """The content-type of a created event names its full record name."""
        assert codec.content_type("CustomerProfileCreatedEvent") == (
            "application/vnd.apache.avro+binary; encoding=single-object; "
            "schema=com.erp.crm.customer360.events.CustomerProfileCreatedEvent"
        )

    def test_avro_content_type_parses_back(self) -> None:
        """parse_content_type() reads back what avro_content_type() writes."""
        value = avro_content_type("com.erp.crm.customer360.events.CustomerMergedEvent")
        assert ContentType(WireFormat.AVRO_SINGLE_OBJECT, "com.erp.crm.customer360.events.CustomerMergedEvent") == (
            parse_content_type(value.encode())
        )

    def test_parameters_are_case_and_space_insensitive(self) -> None:
        """Media type and parameter names are case-insensitive; spaces and quotes are ignored."""
        parsed = parse_content_type(f'{AVRO_MEDIA_TYPE.upper()} ;ENCODING="single-object";schema=x.Y')
        assert ContentType(WireFormat.AVRO_SINGLE_OBJECT, "x.Y") == parsed

    def test_json_content_type_is_recognised(self) -> None:
        """application/json (with a UTF-8 charset) is the JSON envelope format."""
        assert parse_content_type("application/json; charset=UTF-8").wire_format == WireFormat.JSON

    @pytest.mark.parametrize(
        "value",
        [
            "text/plain",
            "application/vnd.apache.avro+binary; encoding=confluent",
            "application/json; charset=latin-1",
            "application/json; broken",
        ],
    )
    def test_other_content_types_are_rejected(self, value: str) -> None:
        """Formats we do not read raise UnsupportedContentTypeError."""
        with pytest.raises(UnsupportedContentTypeError):
            parse_content_type(value)
