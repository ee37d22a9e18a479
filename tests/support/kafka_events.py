"""Reading what reached the broker, and decoding it with nothing but the bytes and the ``.avsc`` files.

``read_records`` assigns every partition of the topics from the beginning (no consumer group, so no
join delay) and reads until a condition on what it collected holds.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import avro.io
import avro.schema
import fastavro
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition
from confluent_kafka.admin import AdminClient

import customer360.infrastructure.messaging as messaging_package
from customer360.infrastructure.messaging.avro_codec import AvroEventCodec, EventCodecError

SCHEMA_DIR = Path(messaging_package.__file__).parent / "schemas"


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes
    headers: dict[str, bytes]
    envelope: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.envelope["eventId"])

    @property
    def tenant(self) -> str:
        return self.headers.get("tenant-id", b"").decode()


def read_records(
    bootstrap_servers: str,
    topics: Iterable[str],
    until: Callable[[list[Record]], bool],
    *,
    keep: Callable[[Record], bool] = lambda record: True,
    timeout: float = 60.0,
    linger: float = 0.5,
) -> list[Record]:
    """Records of ``topics`` (oldest first per partition) kept by ``keep``, once ``until`` holds.

    After ``until`` holds, reading goes on for ``linger`` seconds so that duplicates would show up.
    Raises AssertionError when ``until`` does not hold within ``timeout``.
    """
    codec = AvroEventCodec()
    wanted = set(topics)
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"test-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
        }
    )
    assigned: set[str] = set()
    records: list[Record] = []
    deadline = time.monotonic() + timeout
    next_assignment = 0.0
    satisfied_at: float | None = None
    try:
        while True:
            now = time.monotonic()
            if assigned != wanted and now >= next_assignment:
                # A topic that does not exist yet (the relay creates it on its first publish) joins later.
                assigned |= _assign_new(consumer, admin, wanted - assigned)
                next_assignment = now + 0.5
            if satisfied_at is None and until(records):
                satisfied_at = now
            if satisfied_at is not None and now - satisfied_at >= linger:
                return records
            if satisfied_at is None and now > deadline:
                raise AssertionError(f"condition not met within {timeout} s; {len(records)} records read")
            for message in consumer.consume(num_messages=500, timeout=0.1):
                if message.error() is None:
                    record = as_record(message, codec)
                    if keep(record):
                        records.append(record)
    finally:
        consumer.close()


def _assign_new(consumer: Consumer, admin: AdminClient, topics: set[str]) -> set[str]:
    metadata = admin.list_topics(timeout=10)
    present = {topic for topic in topics if topic in metadata.topics}
    partitions = [
        TopicPartition(topic, partition, OFFSET_BEGINNING)
        for topic in sorted(present)
        for partition in metadata.topics[topic].partitions
    ]
    if partitions:
        consumer.incremental_assign(partitions)
    return present


def as_record(message: Message, codec: AvroEventCodec) -> Record:
    raw = message.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    headers = {name: value.encode() if isinstance(value, str) else value or b"" for name, value in pairs}
    value = message.value() or b""
    try:
        envelope = codec.decode_message(value, headers.get("content-type"))
    except EventCodecError:  # e.g. a poison message on the dead-letter topic
        envelope = {}
    return Record(
        topic=message.topic() or "",
        partition=message.partition() or 0,
        offset=message.offset() or 0,
        key=message.key() or b"",
        value=value,
        headers=headers,
        envelope=envelope,
    )


def _strip_logical_types(node: Any) -> Any:
    if isinstance(node, list):
        return [_strip_logical_types(item) for item in node]
    if isinstance(node, dict):
        return {key: _strip_logical_types(value) for key, value in node.items() if key != "logicalType"}
    return node


def _schema_files() -> list[Path]:
    return sorted(SCHEMA_DIR.glob("*/v*.avsc"))


def fastavro_decode(value: bytes) -> dict[str, Any]:
    """Plain fastavro: marker, fingerprint → the .avsc with that fingerprint, schemaless body."""
    assert value[:2] == b"\xc3\x01"
    for path in _schema_files():
        schema = fastavro.parse_schema(json.loads(path.read_text(encoding="utf-8")))
        canonical = fastavro.schema.to_parsing_canonical_form(schema)
        if bytes.fromhex(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO")) == value[2:10]:
            datum = fastavro.schemaless_reader(io.BytesIO(value[10:]), schema)
            assert isinstance(datum, dict)
            return datum
    raise AssertionError("no .avsc has this fingerprint")


def apache_avro_decode(value: bytes) -> dict[str, Any]:
    """Apache avro: its fingerprint of the schema without logicalType equals Java's (docs/events.md)."""
    assert value[:2] == b"\xc3\x01"
    for path in _schema_files():
        document = json.loads(path.read_text(encoding="utf-8"))
        plain = avro.schema.parse(json.dumps(_strip_logical_types(document)))
        if plain.fingerprint("CRC-64-AVRO") == value[2:10]:
            writer = avro.schema.parse(json.dumps(document))
            datum = avro.io.DatumReader(writer).read(avro.io.BinaryDecoder(io.BytesIO(value[10:])))
            assert isinstance(datum, dict)
            return datum
    raise AssertionError("no .avsc has this fingerprint")
