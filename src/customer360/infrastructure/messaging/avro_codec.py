"""Our events on Kafka: Avro single-object encoding, and the mapping to the JSON envelope.

Wire format (the Avro specification, "Single-object encoding")::

    C3 01 | 8-byte CRC-64-AVRO fingerprint of the writer schema's Parsing Canonical Form (little-endian) | body

The body is the Avro binary encoding of one flat record: the envelope's ``eventId``, ``timestamp``
(long, timestamp-millis), ``tenantId`` and ``correlationId``, plus the payload fields at the top level.
We always write the latest version of an event type's schema; we read every version we ship (the
fingerprint names it) and can project it onto another version (normally the latest).

Records handled here carry *wire values*: timestamp-millis fields are ints (epoch milliseconds) and
date fields are ints (days since 1970-01-01); :func:`envelope_to_record` and
:func:`record_to_envelope` translate them from and to ISO-8601 strings
(``2026-11-27T12:00:00.123Z``, ``2026-11-27``).

Kafka records carry the header ``content-type``:
``application/vnd.apache.avro+binary; encoding=single-object; schema=<full record name>``, or
``application/json`` for a JSON envelope (accepted on input only).

Error messages never contain field values (they may be personal data), only schema and field names.
"""

from __future__ import annotations

import copy
import functools
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from fastavro.validation import ValidationError, validate

from customer360.infrastructure.messaging.cloudevents import cloudevent_headers, event_traceparent
from customer360.infrastructure.messaging.schema_catalog import (
    Fingerprint,
    SchemaCatalog,
    SchemaNotFoundError,
    SchemaVersion,
    load_schema_catalog,
)
from customer360.infrastructure.trace_context import TRACEPARENT

SINGLE_OBJECT_MARKER = b"\xc3\x01"
HEADER_SIZE = len(SINGLE_OBJECT_MARKER) + 8
AVRO_MEDIA_TYPE = "application/vnd.apache.avro+binary"
SINGLE_OBJECT_ENCODING = "single-object"
JSON_MEDIA_TYPE = "application/json"
#: Other spellings of an Avro binary media type that we accept on input.
AVRO_MEDIA_TYPE_ALIASES = frozenset({AVRO_MEDIA_TYPE, "application/avro", "avro/binary"})

HEADER_EVENT_TYPE = "event-type"
HEADER_TENANT_ID = "tenant-id"
HEADER_CORRELATION_ID = "correlation-id"
HEADER_CONTENT_TYPE = "content-type"

#: Fields of the Avro record that come from the envelope rather than from the payload.
ENVELOPE_FIELDS = ("eventId", "timestamp", "tenantId", "correlationId")
_REQUIRED_ENVELOPE_FIELDS = ("eventId", "timestamp", "tenantId")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
_MILLISECOND = timedelta(milliseconds=1)

JsonObject = dict[str, Any]
#: Kafka record headers as confluent-kafka takes them (we always put bytes in them).
KafkaHeaders = list[tuple[str, str | bytes | None]]


class EventCodecError(Exception):
    """Base of every error of this module."""


class UnknownEventTypeError(EventCodecError, LookupError):
    """The event type is not in the schema catalog (consumers log and skip such messages)."""

    def __init__(self, event_type: str) -> None:
        super().__init__(f"unknown event type {event_type!r}")
        self.event_type = event_type


class InvalidEventError(EventCodecError):
    """An envelope or record does not fit its schema (missing, unknown or ill-typed fields)."""


class DecodeFailure(StrEnum):
    """Why a message could not be decoded; stable values for logs, metrics and dead-letter headers."""

    EMPTY = "empty"
    TRUNCATED = "truncated"
    BAD_MARKER = "bad-marker"
    UNKNOWN_FINGERPRINT = "unknown-fingerprint"
    MALFORMED_BODY = "malformed-body"
    TRAILING_BYTES = "trailing-bytes"
    SCHEMA_MISMATCH = "schema-mismatch"
    UNSUPPORTED_CONTENT_TYPE = "unsupported-content-type"
    INVALID_JSON = "invalid-json"
    INVALID_ENVELOPE = "invalid-envelope"


class EventDecodeError(EventCodecError):
    """A message could not be decoded into an event; :attr:`reason` says why."""

    def __init__(self, reason: DecodeFailure, message: str) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason


class UnknownSchemaFingerprintError(EventDecodeError):
    """The fingerprint names no schema we know (e.g. a newer version than we ship)."""

    def __init__(self, fingerprint: bytes, declared_schema: str | None = None) -> None:
        hint = f" (content-type names {declared_schema})" if declared_schema else ""
        super().__init__(DecodeFailure.UNKNOWN_FINGERPRINT, f"no schema has fingerprint {fingerprint.hex()}{hint}")
        self.fingerprint = fingerprint
        self.declared_schema = declared_schema


class UnsupportedContentTypeError(EventDecodeError):
    """The ``content-type`` header names a format we do not read."""

    def __init__(self, message: str) -> None:
        super().__init__(DecodeFailure.UNSUPPORTED_CONTENT_TYPE, message)


# --------------------------------------------------------------------------------------- content type


class WireFormat(StrEnum):
    AVRO_SINGLE_OBJECT = "avro-single-object"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class ContentType:
    """A parsed ``content-type`` header value."""

    wire_format: WireFormat
    #: Full Avro record name from the ``schema`` parameter (Avro only; optional on input).
    schema: str | None = None

    def __str__(self) -> str:
        if self.wire_format is WireFormat.JSON:
            return JSON_MEDIA_TYPE
        rendered = f"{AVRO_MEDIA_TYPE}; encoding={SINGLE_OBJECT_ENCODING}"
        return f"{rendered}; schema={self.schema}" if self.schema else rendered


def avro_content_type(full_name: str) -> str:
    """The ``content-type`` header value for a single-object-encoded record of ``full_name``."""
    return str(ContentType(WireFormat.AVRO_SINGLE_OBJECT, full_name))


def parse_content_type(value: str | bytes) -> ContentType:
    """Parse a ``content-type`` header; raises :class:`UnsupportedContentTypeError`."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise UnsupportedContentTypeError("content-type is not UTF-8") from None
    media_type, *parameter_parts = (part.strip() for part in value.split(";"))
    media_type = media_type.lower()
    parameters: dict[str, str] = {}
    for part in parameter_parts:
        if not part:
            continue
        name, separator, parameter = part.partition("=")
        if not separator:
            raise UnsupportedContentTypeError(f"malformed content-type parameter {name.strip()!r}")
        parameters[name.strip().lower()] = parameter.strip().strip('"')
    if media_type in AVRO_MEDIA_TYPE_ALIASES:
        encoding = parameters.get("encoding", SINGLE_OBJECT_ENCODING).lower()
        if encoding != SINGLE_OBJECT_ENCODING:
            raise UnsupportedContentTypeError(f"Avro encoding {encoding!r} is not supported")
        return ContentType(WireFormat.AVRO_SINGLE_OBJECT, parameters.get("schema") or None)
    if media_type == JSON_MEDIA_TYPE:
        charset = parameters.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedContentTypeError(f"JSON charset {charset!r} is not supported")
        return ContentType(WireFormat.JSON)
    raise UnsupportedContentTypeError(f"media type {media_type!r} is not supported")


def detect_content_type(value: bytes, content_type: str | bytes | None) -> ContentType:
    """The header's content type, or (no header) the format recognised from the first bytes."""
    if content_type:
        return parse_content_type(content_type)
    if value.startswith(SINGLE_OBJECT_MARKER):
        return ContentType(WireFormat.AVRO_SINGLE_OBJECT)
    if value.lstrip()[:1] == b"{":
        return ContentType(WireFormat.JSON)
    raise UnsupportedContentTypeError("no content-type header and the value is neither Avro nor JSON")


# --------------------------------------------------------------------------------------- codec


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """A decoded record, in the shape of :attr:`schema` (the reader), written with :attr:`writer`."""

    schema: SchemaVersion
    writer: SchemaVersion
    #: Left out of ``repr``: field values may be personal data.
    record: JsonObject = field(repr=False)

    @property
    def event_type(self) -> str:
        return self.schema.name


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """Everything a producer needs for one Kafka record."""

    event_type: str
    schema: SchemaVersion
    key: bytes
    #: Left out of ``repr``: the value may hold personal data.
    value: bytes = field(repr=False)
    headers: KafkaHeaders = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return avro_content_type(self.schema.full_name)


class AvroEventCodec:
    """Encodes and decodes our events; cheap to share between threads (holds no mutable state)."""

    def __init__(self, catalog: SchemaCatalog | None = None) -> None:
        self._catalog = catalog if catalog is not None else load_schema_catalog()

    @property
    def catalog(self) -> SchemaCatalog:
        return self._catalog

    def schema_for(self, event_type: str, version: int | None = None) -> SchemaVersion:
        """The schema we write for ``event_type`` (or the given version of it)."""
        try:
            return self._catalog.get(event_type, version)
        except SchemaNotFoundError:
            if event_type in self._catalog:
                raise
            raise UnknownEventTypeError(event_type) from None

    def content_type(self, event_type: str) -> str:
        return avro_content_type(self.schema_for(event_type).full_name)

    # ----------------------------------------------------------------------------- records

    def encode(self, event_type: str, record: Mapping[str, Any], *, version: int | None = None) -> bytes:
        """Single-object encoding of ``record`` with the latest (or the given) version of the schema."""
        return self.encode_with(self.schema_for(event_type, version), record)

    def encode_with(self, schema: SchemaVersion, record: Mapping[str, Any]) -> bytes:
        """Single-object encoding of ``record`` with exactly ``schema``."""
        if not isinstance(record, Mapping):
            raise InvalidEventError(f"{schema.name}: a record is a mapping of field names to values")
        buffer = io.BytesIO()
        buffer.write(SINGLE_OBJECT_MARKER)
        buffer.write(schema.fingerprint.raw)
        try:
            schemaless_writer(buffer, schema.parsed, record, strict=True, strict_allow_default=True)
        except Exception:  # fastavro raises ValueError, TypeError, ...; its messages may hold values
            raise InvalidEventError(_describe_invalid_record(schema, record)) from None
        return buffer.getvalue()

    def decode(
        self,
        data: bytes | bytearray | memoryview | None,
        *,
        reader: SchemaVersion | None = None,
        declared_schema: str | None = None,
    ) -> DecodedEvent:
        """Decode a single-object-encoded record, optionally projected onto ``reader``.

        ``declared_schema`` is the full name a ``content-type`` header announced; it must match.
        Raises :class:`EventDecodeError` (or :class:`UnknownEventTypeError` when the fingerprint is
        unknown and ``declared_schema`` names an event type we do not know at all).
        """
        view, writer = self._read_header(data, declared_schema)
        return self._read_body(view, writer, reader)

    def decode_as_latest(
        self, data: bytes | bytearray | memoryview | None, *, declared_schema: str | None = None
    ) -> DecodedEvent:
        """Decode and project onto the latest version of the writer's event type."""
        view, writer = self._read_header(data, declared_schema)
        return self._read_body(view, writer, self._catalog.latest(writer.name))

    def _read_header(
        self, data: bytes | bytearray | memoryview | None, declared_schema: str | None
    ) -> tuple[memoryview, SchemaVersion]:
        if not data:
            raise EventDecodeError(DecodeFailure.EMPTY, "the message has no value")
        view = memoryview(data)
        if bytes(view[:2]) != SINGLE_OBJECT_MARKER[: len(view[:2])]:
            raise EventDecodeError(DecodeFailure.BAD_MARKER, "the value does not start with C3 01")
        if len(view) < HEADER_SIZE:
            raise EventDecodeError(DecodeFailure.TRUNCATED, f"{len(view)} bytes, the header alone has {HEADER_SIZE}")
        fingerprint = bytes(view[2:HEADER_SIZE])
        writer = self._catalog.find_by_fingerprint(Fingerprint(fingerprint))
        if writer is None:
            if declared_schema and declared_schema not in self._catalog:
                raise UnknownEventTypeError(declared_schema)
            raise UnknownSchemaFingerprintError(fingerprint, declared_schema)
        if declared_schema and declared_schema not in (writer.full_name, writer.name):
            raise EventDecodeError(
                DecodeFailure.SCHEMA_MISMATCH,
                f"content-type names {declared_schema}, the fingerprint {writer.full_name} v{writer.version}",
            )
        return view, writer

    def _read_body(self, view: memoryview, writer: SchemaVersion, reader: SchemaVersion | None) -> DecodedEvent:
        if reader is not None and reader.full_name != writer.full_name:
            raise EventDecodeError(
                DecodeFailure.SCHEMA_MISMATCH, f"cannot read {writer.full_name} as {reader.full_name}"
            )
        body = io.BytesIO(view[HEADER_SIZE:])
        try:
            record = schemaless_reader(
                body,
                writer.parsed_without_logical_types,
                None if reader is None or reader is writer else reader.parsed_without_logical_types,
            )
        except EOFError:
            raise EventDecodeError(
                DecodeFailure.TRUNCATED, f"body of {writer.name} v{writer.version} ends early"
            ) from None
        except Exception as exc:  # fastavro raises many types on garbage
            raise EventDecodeError(
                DecodeFailure.MALFORMED_BODY,
                f"body of {writer.name} v{writer.version} is not valid ({type(exc).__name__})",
            ) from None
        if body.tell() != len(view) - HEADER_SIZE:
            raise EventDecodeError(
                DecodeFailure.TRAILING_BYTES, f"bytes left over after the body of {writer.name} v{writer.version}"
            )
        if not isinstance(record, dict):  # pragma: no cover - a record schema always yields a dict
            raise EventDecodeError(DecodeFailure.MALFORMED_BODY, "the body is not a record")
        return DecodedEvent(schema=reader or writer, writer=writer, record=record)

    # ----------------------------------------------------------------------------- envelopes

    def envelope_to_record(self, envelope: Mapping[str, Any]) -> tuple[str, JsonObject]:
        """The flat Avro record (wire values) for a JSON envelope, shaped by the latest schema."""
        return _envelope_to_record(self, envelope)

    def record_to_envelope(self, schema: str | SchemaVersion, record: Mapping[str, Any]) -> JsonObject:
        """The JSON envelope for a record (of the given version, or of the latest one when named)."""
        version = schema if isinstance(schema, SchemaVersion) else self.schema_for(schema)
        return _record_to_envelope(version, record)

    def encode_envelope(self, envelope: Mapping[str, Any]) -> EncodedEvent:
        """Key, value and headers of the Kafka record for an envelope."""
        event_type, record = self.envelope_to_record(envelope)
        schema = self.schema_for(event_type)
        key = _aggregate_id(schema, record)
        if key is None:
            raise InvalidEventError(f"{event_type}: none of {', '.join(schema.aggregate_id_fields)} is set")
        headers: KafkaHeaders = [
            (HEADER_EVENT_TYPE, event_type.encode()),
            (HEADER_TENANT_ID, str(record["tenantId"]).encode()),
        ]
        correlation_id = record.get("correlationId")
        if correlation_id:
            headers.append((HEADER_CORRELATION_ID, str(correlation_id).encode()))
        headers.append((HEADER_CONTENT_TYPE, _plan(schema).content_type))
        event_id = str(record["eventId"])
        headers += cloudevent_headers(
            event_id=event_id, full_name=schema.full_name, timestamp_ms=int(record["timestamp"]), subject=key
        )
        headers.append((TRACEPARENT, event_traceparent(correlation_id, event_id).header().encode()))
        return EncodedEvent(
            event_type=event_type,
            schema=schema,
            key=key.encode(),
            value=self.encode_with(schema, record),
            headers=headers,
        )

    def decode_message(
        self, value: bytes | bytearray | memoryview | None, content_type: str | bytes | None = None
    ) -> JsonObject:
        """The envelope carried by a Kafka value: Avro (projected onto the latest schema) or JSON.

        Raises :class:`UnknownEventTypeError` for event types we do not know, and
        :class:`EventDecodeError` for everything that cannot be read.
        """
        if not value:
            raise EventDecodeError(DecodeFailure.EMPTY, "the message has no value")
        data = bytes(value)
        parsed = detect_content_type(data, content_type)
        if parsed.wire_format is WireFormat.AVRO_SINGLE_OBJECT:
            decoded = self.decode_as_latest(data, declared_schema=parsed.schema)
            try:
                return _record_to_envelope(decoded.schema, decoded.record)
            except InvalidEventError as exc:
                raise EventDecodeError(DecodeFailure.MALFORMED_BODY, str(exc)) from None
        return self._decode_json_envelope(data)

    def _decode_json_envelope(self, data: bytes) -> JsonObject:
        try:
            document = json.loads(data)
        except ValueError:  # includes UnicodeDecodeError
            raise EventDecodeError(DecodeFailure.INVALID_JSON, "the value is not JSON") from None
        if not isinstance(document, dict) or not isinstance(document.get("eventType"), str):
            raise EventDecodeError(DecodeFailure.INVALID_ENVELOPE, "a JSON envelope is an object with eventType")
        event_type = document["eventType"]
        if event_type not in self._catalog:
            raise UnknownEventTypeError(event_type)
        try:
            _, record = self.envelope_to_record(document)
            schema = self.schema_for(event_type)
            problems = _invalid_fields(schema, record)
            if problems:
                raise InvalidEventError(f"{schema.name}: invalid field(s) {', '.join(problems)}")
            envelope = _record_to_envelope(schema, record)
        except InvalidEventError as exc:
            raise EventDecodeError(DecodeFailure.INVALID_ENVELOPE, str(exc)) from None
        aggregate_id = document.get("aggregateId")
        if isinstance(aggregate_id, str) and aggregate_id:
            envelope["aggregateId"] = aggregate_id
        return envelope


def envelope_to_record(envelope: Mapping[str, Any], *, catalog: SchemaCatalog | None = None) -> tuple[str, JsonObject]:
    """``(event type, flat Avro record)`` for a JSON envelope; see :meth:`AvroEventCodec.envelope_to_record`."""
    return AvroEventCodec(catalog).envelope_to_record(envelope)


def record_to_envelope(
    schema: str | SchemaVersion, record: Mapping[str, Any], *, catalog: SchemaCatalog | None = None
) -> JsonObject:
    """The JSON envelope of a flat Avro record; see :meth:`AvroEventCodec.record_to_envelope`."""
    return AvroEventCodec(catalog).record_to_envelope(schema, record)


# --------------------------------------------------------------------------------------- mapping


@dataclass(frozen=True, slots=True)
class _FieldPlan:
    name: str
    avro_type: Any
    has_default: bool
    default: Any
    #: Whether the type holds a logical type somewhere (only then is the value translated).
    translates: bool


@dataclass(frozen=True, slots=True)
class _SchemaPlan:
    """What the envelope mapping needs of a schema, worked out once per schema version."""

    fields: tuple[_FieldPlan, ...]
    names: frozenset[str]
    named: Mapping[str, Any]
    content_type: bytes


@functools.cache
def _plan(schema: SchemaVersion) -> _SchemaPlan:
    named = schema.parsed.get("__named_schemas", {})
    fields = tuple(
        _FieldPlan(
            name=f["name"],
            avro_type=f["type"],
            has_default="default" in f,
            default=f.get("default"),
            translates=_has_logical_type(f["type"], named, set()),
        )
        for f in schema.parsed["fields"]
    )
    return _SchemaPlan(
        fields=fields,
        names=frozenset(f.name for f in fields),
        named=named,
        content_type=avro_content_type(schema.full_name).encode(),
    )


def _has_logical_type(avro_type: Any, named: Mapping[str, Any], seen: set[str]) -> bool:
    if isinstance(avro_type, str):
        if avro_type in seen or avro_type not in named:
            return False
        return _has_logical_type(named[avro_type], named, seen | {avro_type})
    if isinstance(avro_type, list):
        return any(_has_logical_type(branch, named, seen) for branch in avro_type)
    kind = avro_type.get("type")
    if kind == "record":
        return any(_has_logical_type(f["type"], named, seen) for f in avro_type["fields"])
    if kind == "array":
        return _has_logical_type(avro_type["items"], named, seen)
    if kind == "map":
        return _has_logical_type(avro_type["values"], named, seen)
    return "logicalType" in avro_type


def _envelope_to_record(codec: AvroEventCodec, envelope: Mapping[str, Any]) -> tuple[str, JsonObject]:
    if not isinstance(envelope, Mapping):
        raise InvalidEventError("an envelope is a mapping")
    event_type = envelope.get("eventType")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidEventError("the envelope has no eventType")
    schema = codec.schema_for(event_type)
    missing = [name for name in _REQUIRED_ENVELOPE_FIELDS if envelope.get(name) in (None, "")]
    if missing:
        raise InvalidEventError(f"{event_type}: the envelope lacks {', '.join(missing)}")
    payload = envelope.get("payload")
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        raise InvalidEventError(f"{event_type}: the payload is not an object")
    plan = _plan(schema)
    strays = [name for name in payload if name in ENVELOPE_FIELDS or name not in plan.names]
    if strays:
        raise InvalidEventError(f"{event_type}: payload field(s) not in the schema: {', '.join(sorted(strays))}")
    record: JsonObject = {}
    for field_plan in plan.fields:
        name = field_plan.name
        if name in ENVELOPE_FIELDS:
            value = envelope.get(name)
        elif name in payload:
            value = payload[name]
        elif field_plan.has_default:
            value = copy.deepcopy(field_plan.default)
        else:
            missing.append(name)
            continue
        if field_plan.translates:
            value = _convert(value, field_plan.avro_type, plan.named, name, to_wire=True)
        record[name] = value
    if missing:
        raise InvalidEventError(f"{event_type}: the payload lacks {', '.join(missing)}")
    return schema.name, record


def _record_to_envelope(schema: SchemaVersion, record: Mapping[str, Any]) -> JsonObject:
    if not isinstance(record, Mapping):
        raise InvalidEventError(f"{schema.name}: a record is a mapping of field names to values")
    plan = _plan(schema)
    unknown = sorted(name for name in record if name not in plan.names)
    if unknown:
        raise InvalidEventError(f"{schema.name} v{schema.version} has no field(s) {', '.join(unknown)}")
    missing = [name for name in _REQUIRED_ENVELOPE_FIELDS if record.get(name) is None]
    if missing:
        raise InvalidEventError(f"{schema.name}: the record lacks {', '.join(missing)}")
    converted = {
        f.name: _convert(record[f.name], f.avro_type, plan.named, f.name, to_wire=False)
        if f.translates
        else record[f.name]
        for f in plan.fields
        if f.name in record
    }
    return {
        "eventType": schema.name,
        "eventId": converted["eventId"],
        "timestamp": converted["timestamp"],
        "aggregateId": _aggregate_id(schema, record),
        "tenantId": converted["tenantId"],
        "correlationId": converted.get("correlationId"),
        "payload": {name: value for name, value in converted.items() if name not in ENVELOPE_FIELDS},
    }


def _aggregate_id(schema: SchemaVersion, record: Mapping[str, Any]) -> str | None:
    for name in schema.aggregate_id_fields:
        value = record.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _convert(value: Any, avro_type: Any, named: Mapping[str, Any], path: str, *, to_wire: bool) -> Any:
    """Translate logical-type values between ISO-8601 text (envelope) and wire ints (record)."""
    if value is None:
        return None
    if isinstance(avro_type, str):
        target = named.get(avro_type)
        return value if target is None else _convert(value, target, named, path, to_wire=to_wire)
    if isinstance(avro_type, list):
        branches = [branch for branch in avro_type if branch != "null"]
        if len(branches) != 1:  # no logical-type translation inside wider unions
            return value
        return _convert(value, branches[0], named, path, to_wire=to_wire)
    kind = avro_type.get("type")
    if kind == "record":
        if not isinstance(value, Mapping):
            return value  # the writer reports the type error
        types = {f["name"]: f["type"] for f in avro_type["fields"]}
        return {
            name: _convert(item, types[name], named, f"{path}.{name}", to_wire=to_wire) if name in types else item
            for name, item in value.items()
        }
    if kind == "array":
        if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
            return value
        return [_convert(item, avro_type["items"], named, f"{path}[]", to_wire=to_wire) for item in value]
    if kind == "map":
        if not isinstance(value, Mapping):
            return value
        return {
            key: _convert(item, avro_type["values"], named, f"{path}{{}}", to_wire=to_wire)
            for key, item in value.items()
        }
    logical_type = avro_type.get("logicalType")
    if logical_type == "timestamp-millis":
        return _to_epoch_millis(value, path) if to_wire else _to_iso_timestamp(value, path)
    if logical_type == "date":
        return _to_epoch_days(value, path) if to_wire else _to_iso_date(value, path)
    return value


def _to_epoch_millis(value: Any, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidEventError(f"{path}: not an ISO-8601 timestamp") from None
    elif isinstance(value, datetime):
        moment = value
    else:
        raise InvalidEventError(f"{path}: expected an ISO-8601 timestamp")
    if moment.utcoffset() is None:
        raise InvalidEventError(f"{path}: the timestamp has no UTC offset")
    return (moment - _EPOCH) // _MILLISECOND


def _to_iso_timestamp(value: Any, path: str) -> str:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            moment = _EPOCH + value * _MILLISECOND
        except OverflowError:
            raise InvalidEventError(f"{path}: timestamp out of range") from None
    else:
        raise InvalidEventError(f"{path}: expected epoch milliseconds")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _to_epoch_days(value: Any, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidEventError(f"{path}: not an ISO-8601 date") from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        day = value
    else:
        raise InvalidEventError(f"{path}: expected an ISO-8601 date")
    return (day - _EPOCH_DAY).days


def _to_iso_date(value: Any, path: str) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return (_EPOCH_DAY + timedelta(days=value)).isoformat()
        except OverflowError:
            raise InvalidEventError(f"{path}: date out of range") from None
    raise InvalidEventError(f"{path}: expected days since 1970-01-01")


def _invalid_fields(schema: SchemaVersion, record: Mapping[str, Any]) -> list[str]:
    """Names (never values) of the fields of ``record`` that do not fit ``schema``."""
    names = set(schema.field_names)
    problems = sorted(f"{name} (unknown)" for name in record if name not in names)
    try:
        validate(record, schema.parsed, raise_errors=True)
    except ValidationError as exc:
        for error in exc.errors:
            problems.append(str(getattr(error, "field", "")).rsplit(".", 1)[-1] or "?")
    except Exception as exc:  # validation of a wildly wrong value may fail in other ways
        problems.append(f"? ({type(exc).__name__})")
    return problems


def _describe_invalid_record(schema: SchemaVersion, record: Mapping[str, Any]) -> str:
    problems = _invalid_fields(schema, record)
    detail = ", ".join(problems) if problems else "the record does not fit the schema"
    return f"{schema.name} v{schema.version}: invalid field(s) {detail}"
