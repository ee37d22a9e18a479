"""Avro single-object events over a real Kafka-protocol broker (Tansu), and what that broker does.

Events are produced by an idempotent producer (``acks=all``) with the codec's key and headers,
consumed by a consumer group, and decoded twice: by the codec (fastavro) and by the Apache ``avro``
package from the bytes and the .avsc files alone.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import avro.io
import avro.schema
import pytest
from confluent_kafka import Consumer, Message, Producer

import customer360.infrastructure.messaging as messaging_package
from customer360.infrastructure.messaging.avro_codec import AvroEventCodec
from tests.support.kafka_broker import (
    TansuBroker,
    consumer_config,
    create_topics,
    producer_config,
    topic_partitions,
)

SCHEMA_DIR = Path(messaging_package.__file__).parent / "schemas"
CUSTOMERS = [f"CUST-{n:03d}" for n in range(24)]
UPDATES_PER_CUSTOMER = 6
PARTITIONS = 6


@dataclass(frozen=True)
class Received:
    partition: int
    offset: int
    key: bytes
    value: bytes
    headers: dict[str, bytes]


@dataclass(frozen=True)
class Delivery:
    topic: str
    group: str
    sent: list[dict[str, Any]]
    received: list[Received]


# ------------------------------------------------------------------------------------------ helpers


def build_envelopes(batch: str) -> list[dict[str, Any]]:
    """Per customer: created, several updates (version 2, 3, ...), a consent; interleaved across customers."""
    per_customer: dict[str, list[dict[str, Any]]] = {}
    for index, customer in enumerate(CUSTOMERS):
        events = [
            envelope(
                "CustomerProfileCreatedEvent",
                customer,
                batch,
                0,
                {"customerId": customer, "name": f"Customer {index}", "status": "ACTIVE", "segment": None},
            )
        ]
        for version in range(2, UPDATES_PER_CUSTOMER + 2):
            events.append(
                envelope(
                    "CustomerProfileUpdatedEvent",
                    customer,
                    batch,
                    version - 1,
                    {
                        "customerId": customer,
                        "changedFields": ["segment"],
                        "updatedBy": "user-1",
                        "source": "API",
                        "version": version,
                    },
                )
            )
        events.append(
            envelope(
                "ConsentUpdatedEvent",
                customer,
                batch,
                UPDATES_PER_CUSTOMER + 1,
                {"customerId": customer, "consentType": "EMAIL", "status": "GRANTED", "consentId": f"CONS-{index}"},
            )
        )
        per_customer[customer] = events
    interleaved: list[dict[str, Any]] = []
    for step in range(UPDATES_PER_CUSTOMER + 2):
        interleaved.extend(events[step] for events in per_customer.values())
    return interleaved


def envelope(event_type: str, customer: str, batch: str, seq: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventId": f"evt-{batch}-{customer}-{seq:03d}",
        "timestamp": f"2026-11-27T12:00:{seq:02d}.{seq:03d}Z",
        "aggregateId": customer,
        "tenantId": "tenant-001",
        "correlationId": f"corr-{batch}-{seq}",
        "payload": payload,
    }


def produce(bootstrap_servers: str, topic: str, envelopes: Iterable[dict[str, Any]]) -> None:
    codec = AvroEventCodec()
    producer = Producer(producer_config(bootstrap_servers))
    errors: list[str] = []

    def on_delivery(error: Any, _message: Any) -> None:
        if error is not None:
            errors.append(str(error))

    for item in envelopes:
        encoded = codec.encode_envelope(item)
        producer.produce(topic, key=encoded.key, value=encoded.value, headers=encoded.headers, on_delivery=on_delivery)
        producer.poll(0)
    remaining = producer.flush(30)
    assert (remaining, errors) == (0, [])


def consume(bootstrap_servers: str, topic: str, group: str, expected: int, timeout: float = 60.0) -> list[Received]:
    """Read ``expected`` records with a consumer group, commit, and leave the group."""
    consumer = Consumer(consumer_config(bootstrap_servers, group))
    consumer.subscribe([topic])
    received: list[Received] = []
    deadline = time.monotonic() + timeout
    try:
        while len(received) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None or message.error() is not None:
                continue
            received.append(as_received(message))
        # Anything beyond ``expected`` would be a duplicate: give it a moment to show up.
        extra_deadline = time.monotonic() + 1.0
        while time.monotonic() < extra_deadline:
            message = consumer.poll(0.1)
            if message is not None and message.error() is None:
                received.append(as_received(message))
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return received


def as_received(message: Message) -> Received:
    key, value, partition, offset = message.key(), message.value(), message.partition(), message.offset()
    assert key is not None
    assert value is not None
    assert partition is not None
    assert offset is not None
    raw = message.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    headers = {name: header.encode() if isinstance(header, str) else header or b"" for name, header in pairs}
    return Received(partition=partition, offset=offset, key=key, value=value, headers=headers)


def plain_fingerprint_index() -> dict[bytes, Path]:
    """Fingerprint → .avsc file, computed by Apache avro (on the schema without logicalType, as Java's PCF)."""

    def strip(node: Any) -> Any:
        if isinstance(node, list):
            return [strip(item) for item in node]
        if isinstance(node, dict):
            return {key: strip(value) for key, value in node.items() if key != "logicalType"}
        return node

    index: dict[bytes, Path] = {}
    for path in SCHEMA_DIR.glob("*/v*.avsc"):
        plain = avro.schema.parse(json.dumps(strip(json.loads(path.read_text(encoding="utf-8")))))
        index[plain.fingerprint("CRC-64-AVRO")] = path
    return index


def apache_avro_decode(value: bytes, index: dict[bytes, Path]) -> tuple[str, dict[str, Any]]:
    """Decode from the bytes and the .avsc files only: marker, fingerprint → file, Avro binary body."""
    assert value[:2] == b"\xc3\x01"
    path = index[value[2:10]]
    writer = avro.schema.parse(path.read_text(encoding="utf-8"))
    datum = avro.io.DatumReader(writer).read(avro.io.BinaryDecoder(io.BytesIO(value[10:])))
    assert isinstance(datum, dict)
    return path.parent.name, datum


def iso_millis(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def delivery(broker: TansuBroker) -> Delivery:
    """Produce every sample event once and consume them back with a consumer group."""
    topic = f"crm.customer360.it.{uuid.uuid4().hex[:8]}"
    group = f"crm-customer360-it-{uuid.uuid4().hex[:8]}"
    create_topics(broker.bootstrap_servers, {topic: PARTITIONS})
    sent = build_envelopes("a")
    produce(broker.bootstrap_servers, topic, sent)
    received = consume(broker.bootstrap_servers, topic, group, expected=len(sent))
    return Delivery(topic=topic, group=group, sent=sent, received=received)


def sent_by_id(delivery: Delivery) -> dict[str, dict[str, Any]]:
    return {item["eventId"]: item for item in delivery.sent}


# ------------------------------------------------------------------------------------------ tests


class TestAvroOverKafka:
    def test_topic_was_created_with_six_partitions(self, broker: TansuBroker, delivery: Delivery) -> None:
        """AdminClient.create_topics created the topic with 6 partitions."""
        assert topic_partitions(broker.bootstrap_servers)[delivery.topic] == PARTITIONS

    def test_every_event_arrives_exactly_once(self, delivery: Delivery) -> None:
        """Count and set of eventIds consumed equal those produced."""
        codec = AvroEventCodec()
        received_ids = [codec.decode_message(r.value)["eventId"] for r in delivery.received]
        assert (len(received_ids), set(received_ids)) == (len(delivery.sent), set(sent_by_id(delivery)))

    def test_events_use_several_partitions(self, delivery: Delivery) -> None:
        """Keys spread over the 6 partitions (the order test below is not trivially on one partition)."""
        assert len({r.partition for r in delivery.received}) > 1

    def test_one_customers_events_share_a_partition(self, delivery: Delivery) -> None:
        """All records of one key land on one partition."""
        partitions: dict[bytes, set[int]] = {}
        for record in delivery.received:
            partitions.setdefault(record.key, set()).add(record.partition)
        assert dict.fromkeys(partitions, 1) == {key: len(found) for key, found in partitions.items()}

    def test_per_customer_order_is_kept(self, delivery: Delivery) -> None:
        """Each customer's events are consumed in the order they were produced."""
        codec = AvroEventCodec()
        consumed: dict[str, list[str]] = {}
        for record in delivery.received:
            consumed.setdefault(record.key.decode(), []).append(codec.decode_message(record.value)["eventId"])
        produced: dict[str, list[str]] = {}
        for item in delivery.sent:
            produced.setdefault(item["aggregateId"], []).append(item["eventId"])
        assert produced == consumed

    def test_key_is_the_customer_id(self, delivery: Delivery) -> None:
        """The record key is the event's customerId."""
        codec = AvroEventCodec()
        mismatches = [
            r.key for r in delivery.received if codec.decode_message(r.value)["payload"]["customerId"] != r.key.decode()
        ]
        assert mismatches == []

    def test_headers_name_type_tenant_correlation_and_content_type(self, delivery: Delivery) -> None:
        """Every record carries event-type, tenant-id, correlation-id and content-type headers (the ERP's; the
        CloudEvents and trace headers beside them are checked by the e2e CloudEvents test)."""
        by_id = sent_by_id(delivery)
        codec = AvroEventCodec()
        wrong = []
        for record in delivery.received:
            original = by_id[codec.decode_message(record.value)["eventId"]]
            expected = {
                "event-type": original["eventType"].encode(),
                "tenant-id": b"tenant-001",
                "correlation-id": original["correlationId"].encode(),
                "content-type": codec.content_type(original["eventType"]).encode(),
            }
            if {name: value for name, value in record.headers.items() if name in expected} != expected:
                wrong.append(original["eventId"])
        assert wrong == []

    def test_fastavro_decodes_every_value_to_the_produced_envelope(self, delivery: Delivery) -> None:
        """The codec (fastavro) turns each value back into the envelope that was produced."""
        codec = AvroEventCodec()
        by_id = sent_by_id(delivery)
        differing = []
        for record in delivery.received:
            decoded = codec.decode_message(record.value, record.headers["content-type"])
            expected = codec.decode_message(json.dumps(by_id[decoded["eventId"]]).encode(), "application/json")
            if decoded != expected:
                differing.append(decoded["eventId"])
        assert differing == []

    def test_apache_avro_decodes_every_value_from_bytes_and_avsc_files(self, delivery: Delivery) -> None:
        """Apache avro decodes each value with nothing but the .avsc files, to the produced content."""
        index = plain_fingerprint_index()
        by_id = sent_by_id(delivery)
        differing = []
        for record in delivery.received:
            event_type, datum = apache_avro_decode(record.value, index)
            original = by_id[datum["eventId"]]
            matches = (
                event_type == original["eventType"]
                and iso_millis(datum["timestamp"]) == original["timestamp"]
                and datum["tenantId"] == original["tenantId"]
                and datum["correlationId"] == original["correlationId"]
                and all(datum[name] == value for name, value in original["payload"].items())
            )
            if not matches:
                differing.append(datum["eventId"])
        assert differing == []

    def test_group_resumes_after_its_committed_offsets(self, broker: TansuBroker, delivery: Delivery) -> None:
        """A new consumer of the same group reads only what was produced after the commit."""
        later = build_envelopes("b")[: len(CUSTOMERS)]
        produce(broker.bootstrap_servers, delivery.topic, later)
        received = consume(broker.bootstrap_servers, delivery.topic, delivery.group, expected=len(later))
        codec = AvroEventCodec()
        assert sorted(codec.decode_message(r.value)["eventId"] for r in received) == sorted(
            item["eventId"] for item in later
        )


class TestTansuTestBroker:
    def test_a_producer_auto_creates_a_missing_topic_with_four_partitions(self, broker: TansuBroker) -> None:
        """Quirk: producing to a missing topic creates it with 4 partitions (create topics first)."""
        topic = f"auto.{uuid.uuid4().hex[:8]}"
        produce(broker.bootstrap_servers, topic, build_envelopes("c")[:1])
        assert topic_partitions(broker.bootstrap_servers)[topic] == 4

    def test_outage_by_pause_loses_nothing(self, private_broker: TansuBroker) -> None:
        """Events produced while the broker is paused arrive, once each, after it resumes."""
        topic = "crm.customer360.profile.updated"
        create_topics(private_broker.bootstrap_servers, {topic: PARTITIONS})
        sent = build_envelopes("d")
        producer = Producer(producer_config(private_broker.bootstrap_servers))
        codec = AvroEventCodec()
        with private_broker.outage():
            for item in sent:
                encoded = codec.encode_envelope(item)
                producer.produce(topic, key=encoded.key, value=encoded.value, headers=encoded.headers)
            producer.poll(1.0)
        assert producer.flush(30) == 0
        received = consume(private_broker.bootstrap_servers, topic, "outage-test", expected=len(sent))
        assert sorted(codec.decode_message(r.value)["eventId"] for r in received) == sorted(
            item["eventId"] for item in sent
        )

    def test_restart_on_the_same_port_starts_an_empty_broker(self, private_broker: TansuBroker) -> None:
        """Quirk: with memory storage a restarted broker has lost every topic."""
        port = private_broker.port
        create_topics(private_broker.bootstrap_servers, {"before.restart": 3})
        private_broker.restart()
        assert (private_broker.port, "before.restart" in topic_partitions(private_broker.bootstrap_servers)) == (
            port,
            False,
        )
