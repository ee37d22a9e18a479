"""The Avro schemas of every event we publish or consume, loaded from the package's ``.avsc`` files.

Layout (part of the contract, see ``docs/events.md``)::

    schemas/<EventName>/v1.avsc, v2.avsc, ...

Each file holds one record schema whose ``name`` is the directory name. Produced events live in the
namespace ``com.erp.crm.customer360.events``, consumed ones in ``com.erp.crm.customer360.consumed``.
Versions are numbered from 1 without gaps; the highest one is what we write.

A schema is identified on the wire by its CRC-64-AVRO fingerprint of the Parsing Canonical Form (the
Avro specification's "single-object encoding"). The 8 fingerprint bytes are kept in wire order
(little-endian); :attr:`Fingerprint.java_long` is the same value as the signed 64-bit integer that
Java's ``SchemaNormalization.parsingFingerprint64`` returns.

Nothing here runs at import time: :func:`load_schema_catalog` reads the files on its first call.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from fastavro.schema import fingerprint as fastavro_fingerprint
from fastavro.schema import parse_schema, to_parsing_canonical_form

SCHEMA_PACKAGE = "customer360.infrastructure.messaging"
SCHEMA_DIRECTORY = "schemas"
PRODUCED_NAMESPACE = "com.erp.crm.customer360.events"
CONSUMED_NAMESPACE = "com.erp.crm.customer360.consumed"
FINGERPRINT_ALGORITHM = "CRC-64-AVRO"
FINGERPRINT_SIZE = 8
AGGREGATE_ID_PROPERTY = "aggregateIdFields"

_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.avsc$")


class SchemaCatalogError(Exception):
    """The shipped ``.avsc`` files break a rule of the catalog (a packaging defect, not a runtime input)."""


class SchemaNotFoundError(LookupError):
    """No schema with the requested name, version or fingerprint is in the catalog."""


class EventDirection(StrEnum):
    """Whether we write events of a schema or read them."""

    PRODUCED = "produced"
    CONSUMED = "consumed"


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A CRC-64-AVRO schema fingerprint, as the 8 bytes that follow ``C3 01`` on the wire."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != FINGERPRINT_SIZE:
            raise ValueError(f"a fingerprint has {FINGERPRINT_SIZE} bytes, got {len(self.raw)}")

    @property
    def hex(self) -> str:
        """The bytes in wire order (little-endian) as 16 lower-case hex digits."""
        return self.raw.hex()

    @property
    def java_long(self) -> int:
        """The signed 64-bit value of Java's ``SchemaNormalization.parsingFingerprint64``."""
        return int.from_bytes(self.raw, "little", signed=True)

    @classmethod
    def parse(cls, value: Fingerprint | bytes | str | int) -> Fingerprint:
        """Accept 8 wire bytes, 16 hex digits (wire order) or the (signed or unsigned) 64-bit value."""
        if isinstance(value, Fingerprint):
            return value
        if isinstance(value, bytes | bytearray | memoryview):
            return cls(bytes(value))
        if isinstance(value, str):
            text = value.strip().lower().removeprefix("0x")
            if len(text) != 2 * FINGERPRINT_SIZE:
                raise ValueError(f"a fingerprint has {2 * FINGERPRINT_SIZE} hex digits")
            return cls(bytes.fromhex(text))
        if isinstance(value, bool) or not -(2**63) <= value < 2**64:
            raise ValueError("a fingerprint is a 64-bit integer")
        return cls((value % 2**64).to_bytes(FINGERPRINT_SIZE, "little", signed=False))


@dataclass(frozen=True, slots=True, eq=False)
class SchemaVersion:
    """One version of one event type's schema, with everything the codec and the REST endpoint need."""

    name: str
    namespace: str
    version: int
    schema: Mapping[str, Any] = field(repr=False)
    canonical_form: str = field(repr=False)
    fingerprint: Fingerprint
    aggregate_id_fields: tuple[str, ...]
    is_latest: bool
    #: fastavro's parsed form of :attr:`schema` (used to write, and to walk logical types).
    parsed: Any = field(repr=False)
    #: The parsed schema without logical types: decoding yields wire values (epoch millis, epoch days).
    parsed_without_logical_types: Any = field(repr=False)

    @property
    def full_name(self) -> str:
        return f"{self.namespace}.{self.name}"

    @property
    def direction(self) -> EventDirection:
        return EventDirection.PRODUCED if self.namespace == PRODUCED_NAMESPACE else EventDirection.CONSUMED

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f["name"] for f in self.schema["fields"])

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description for the schema endpoint."""
        return {
            "name": self.name,
            "namespace": self.namespace,
            "fullName": self.full_name,
            "version": self.version,
            "latest": self.is_latest,
            "direction": self.direction.value,
            "fingerprint": self.fingerprint.hex,
            "fingerprintLong": self.fingerprint.java_long,
            "canonicalForm": self.canonical_form,
            "schema": copy.deepcopy(dict(self.schema)),
        }


class SchemaCatalog:
    """Every schema version, looked up by event name (+ version) or by fingerprint."""

    def __init__(self, versions: Iterable[SchemaVersion]) -> None:
        by_name: dict[str, list[SchemaVersion]] = {}
        self._by_fingerprint: dict[bytes, SchemaVersion] = {}
        for schema in versions:
            by_name.setdefault(schema.name, []).append(schema)
            clash = self._by_fingerprint.get(schema.fingerprint.raw)
            if clash is not None:
                raise SchemaCatalogError(
                    f"{schema.name} v{schema.version} has the same canonical form as "
                    f"{clash.name} v{clash.version}; a new version must change the schema"
                )
            self._by_fingerprint[schema.fingerprint.raw] = schema
        self._by_name = {name: tuple(sorted(group, key=lambda s: s.version)) for name, group in sorted(by_name.items())}
        self._full_names = {group[0].full_name: name for name, group in self._by_name.items()}

    def __iter__(self) -> Iterator[SchemaVersion]:
        for group in self._by_name.values():
            yield from group

    def __len__(self) -> int:
        return len(self._by_fingerprint)

    def names(self) -> tuple[str, ...]:
        """Event type names (short record names), sorted."""
        return tuple(self._by_name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._resolve_name(name) is not None

    def versions(self, name: str) -> tuple[SchemaVersion, ...]:
        """All versions of an event type, oldest first; ``name`` may be short or fully qualified."""
        resolved = self._resolve_name(name)
        if resolved is None:
            raise SchemaNotFoundError(f"no schema named {name!r}")
        return self._by_name[resolved]

    def latest(self, name: str) -> SchemaVersion:
        """The version we write for an event type."""
        return self.versions(name)[-1]

    def get(self, name: str, version: int | None = None) -> SchemaVersion:
        """One version (the latest when ``version`` is None)."""
        group = self.versions(name)
        if version is None:
            return group[-1]
        for schema in group:
            if schema.version == version:
                return schema
        raise SchemaNotFoundError(f"{name} has no version {version}")

    def previous(self, schema: SchemaVersion) -> SchemaVersion | None:
        """The version before ``schema``, or None for v1."""
        return None if schema.version == 1 else self.get(schema.name, schema.version - 1)

    def find_by_fingerprint(self, value: Fingerprint | bytes | str | int) -> SchemaVersion | None:
        """The schema with this fingerprint, or None."""
        try:
            return self._by_fingerprint.get(Fingerprint.parse(value).raw)
        except ValueError:
            return None

    def by_fingerprint(self, value: Fingerprint | bytes | str | int) -> SchemaVersion:
        """The schema with this fingerprint; raises :class:`SchemaNotFoundError`."""
        schema = self.find_by_fingerprint(value)
        if schema is None:
            raise SchemaNotFoundError("no schema with this fingerprint")
        return schema

    def describe(self) -> list[dict[str, Any]]:
        """JSON-ready descriptions of every version, by name then version."""
        return [schema.describe() for schema in self]

    def _resolve_name(self, name: str) -> str | None:
        if name in self._by_name:
            return name
        return self._full_names.get(name)


@functools.cache
def load_schema_catalog() -> SchemaCatalog:
    """The catalog of the ``.avsc`` files shipped in this package (read once, on the first call)."""
    return read_schema_catalog(resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_DIRECTORY))


def read_schema_catalog(root: Traversable) -> SchemaCatalog:
    """Read and check every ``<EventName>/v<N>.avsc`` below ``root``."""
    versions: list[SchemaVersion] = []
    short_names: dict[str, str] = {}
    for directory in sorted(root.iterdir(), key=lambda entry: entry.name):
        if not directory.is_dir() or directory.name.startswith(("_", ".")):
            continue
        files: dict[int, Traversable] = {}
        for entry in directory.iterdir():
            match = _VERSION_FILE.match(entry.name)
            if match is None:
                if entry.name.endswith(".avsc"):
                    raise SchemaCatalogError(f"{directory.name}/{entry.name}: name it v<N>.avsc")
                continue
            files[int(match.group(1))] = entry
        if not files:
            continue
        if sorted(files) != list(range(1, len(files) + 1)):
            raise SchemaCatalogError(f"{directory.name}: versions must run from v1 without gaps")
        latest = max(files)
        for number in sorted(files):
            schema = _build_version(directory.name, number, files[number], is_latest=number == latest)
            other = short_names.setdefault(schema.name, schema.namespace)
            if other != schema.namespace:
                raise SchemaCatalogError(f"{schema.name} exists in two namespaces")
            versions.append(schema)
    return SchemaCatalog(versions)


def _build_version(directory: str, version: int, source: Traversable, *, is_latest: bool) -> SchemaVersion:
    where = f"{directory}/v{version}.avsc"
    try:
        schema = json.loads(source.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SchemaCatalogError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise SchemaCatalogError(f"{where}: the top level must be a record schema")
    if schema.get("name") != directory:
        raise SchemaCatalogError(f"{where}: record name must be {directory!r}")
    namespace = schema.get("namespace")
    if namespace not in (PRODUCED_NAMESPACE, CONSUMED_NAMESPACE):
        raise SchemaCatalogError(f"{where}: namespace must be {PRODUCED_NAMESPACE} or {CONSUMED_NAMESPACE}")
    try:
        parsed = parse_schema(schema, named_schemas={})
        parsed_raw = parse_schema(_without_logical_types(schema), named_schemas={})
        canonical = to_parsing_canonical_form(schema)
    except Exception as exc:  # fastavro raises several types for an invalid schema
        raise SchemaCatalogError(f"{where}: invalid Avro schema ({exc})") from exc
    fields = {f["name"]: f for f in schema["fields"]}
    for required in ("eventId", "timestamp", "tenantId"):
        if required not in fields:
            raise SchemaCatalogError(f"{where}: every event has the field {required!r}")
    aggregate_fields = schema.get(AGGREGATE_ID_PROPERTY)
    if (
        not isinstance(aggregate_fields, list)
        or not aggregate_fields
        or any(name not in fields or not _is_string_type(fields[name]["type"]) for name in aggregate_fields)
    ):
        raise SchemaCatalogError(f"{where}: {AGGREGATE_ID_PROPERTY} must list string fields of the record")
    raw = bytes.fromhex(fastavro_fingerprint(canonical, FINGERPRINT_ALGORITHM))
    return SchemaVersion(
        name=directory,
        namespace=namespace,
        version=version,
        schema=schema,
        canonical_form=canonical,
        fingerprint=Fingerprint(raw),
        aggregate_id_fields=tuple(aggregate_fields),
        is_latest=is_latest,
        parsed=parsed,
        parsed_without_logical_types=parsed_raw,
    )


def _is_string_type(avro_type: Any) -> bool:
    if avro_type == "string":
        return True
    return isinstance(avro_type, list) and "string" in avro_type and all(t in ("null", "string") for t in avro_type)


def _without_logical_types(node: Any) -> Any:
    """A copy of a schema with every ``logicalType`` removed (default values are left untouched)."""
    if isinstance(node, list):
        return [_without_logical_types(item) for item in node]
    if isinstance(node, dict):
        return {
            key: value if key == "default" else _without_logical_types(value)
            for key, value in node.items()
            if key != "logicalType"
        }
    return node
