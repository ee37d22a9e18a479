"""The schema catalog: what the shipped .avsc files contain, and how they are found."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from customer360.infrastructure.messaging.schema_catalog import (
    CONSUMED_NAMESPACE,
    PRODUCED_NAMESPACE,
    EventDirection,
    Fingerprint,
    SchemaCatalogError,
    SchemaNotFoundError,
    SchemaVersion,
    load_schema_catalog,
    read_schema_catalog,
)

CATALOG = load_schema_catalog()
LATEST = [CATALOG.latest(name) for name in CATALOG.names()]
LATEST_IDS = [schema.name for schema in LATEST]
TIMESTAMP_MILLIS = {"type": "long", "logicalType": "timestamp-millis"}

PRODUCED = {
    "CustomerProfileCreatedEvent",
    "CustomerProfileUpdatedEvent",
    "CustomerMergedEvent",
    "ConsentUpdatedEvent",
    "CustomerUnmergedEvent",
    "CustomerErasedEvent",
}
CONSUMED = {"LeadCreatedEvent", "ServiceOrderCreatedEvent", "ContractActivatedEvent", "CustomerMasterUpdatedEvent"}

#: The two schemas of the seed's events document, field by field (the seed puts logicalType on the
#: field, where Avro ignores it; the Parsing Canonical Form and so the fingerprint are the same).
SEED_FIELDS = {
    "CustomerProfileCreatedEvent": [
        ("eventId", "string"),
        ("timestamp", TIMESTAMP_MILLIS),
        ("tenantId", "string"),
        ("customerId", "string"),
        ("name", "string"),
        ("status", "string"),
        ("segment", "string"),
    ],
    "CustomerMergedEvent": [
        ("eventId", "string"),
        ("timestamp", TIMESTAMP_MILLIS),
        ("tenantId", "string"),
        ("targetCustomerId", "string"),
        ("sourceCustomerId", "string"),
        ("mergeReason", "string"),
    ],
}


def write_schema(root: Path, name: str, version: int, schema: dict[str, Any]) -> None:
    path = root / name / f"v{version}.avsc"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema), encoding="utf-8")


def minimal_schema(name: str = "ThingHappenedEvent", **changes: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "record",
        "name": name,
        "namespace": PRODUCED_NAMESPACE,
        "aggregateIdFields": ["thingId"],
        "fields": [
            {"name": "eventId", "type": "string"},
            {"name": "timestamp", "type": TIMESTAMP_MILLIS},
            {"name": "tenantId", "type": "string"},
            {"name": "thingId", "type": "string"},
        ],
    }
    schema.update(changes)
    return schema


class TestShippedSchemas:
    def test_catalog_holds_every_event_of_the_contract(self) -> None:
        """The catalog has our six produced and the four consumed event types."""
        assert set(CATALOG.names()) == PRODUCED | CONSUMED

    @pytest.mark.parametrize("name", sorted(PRODUCED))
    def test_produced_events_live_in_the_events_namespace(self, name: str) -> None:
        """Produced events use the namespace com.erp.crm.customer360.events."""
        assert (
            CATALOG.latest(name).namespace,
            CATALOG.latest(name).direction,
        ) == (PRODUCED_NAMESPACE, EventDirection.PRODUCED)

    @pytest.mark.parametrize("name", sorted(CONSUMED))
    def test_consumed_events_live_in_the_consumed_namespace(self, name: str) -> None:
        """Consumed events use the namespace com.erp.crm.customer360.consumed."""
        assert (
            CATALOG.latest(name).namespace,
            CATALOG.latest(name).direction,
        ) == (CONSUMED_NAMESPACE, EventDirection.CONSUMED)

    @pytest.mark.parametrize("name", sorted(SEED_FIELDS))
    def test_seed_schemas_are_version_1_exactly(self, name: str) -> None:
        """v1 of the seed's two schemas has exactly the seed's fields, types and order."""
        fields = CATALOG.get(name, 1).schema["fields"]
        assert SEED_FIELDS[name] == [(f["name"], f["type"]) for f in fields]

    @pytest.mark.parametrize("name", sorted(SEED_FIELDS))
    def test_seed_schemas_have_a_version_2(self, name: str) -> None:
        """The seed's two schemas are at version 2 (correlationId and more, with defaults)."""
        assert CATALOG.latest(name).version == 2

    @pytest.mark.parametrize("schema", LATEST, ids=LATEST_IDS)
    def test_latest_versions_carry_a_nullable_correlation_id(self, schema: SchemaVersion) -> None:
        """Every latest schema has correlationId as ["null","string"] with default null."""
        field = next(f for f in schema.schema["fields"] if f["name"] == "correlationId")
        assert (field["type"], field["default"]) == (["null", "string"], None)

    @pytest.mark.parametrize("schema", LATEST, ids=LATEST_IDS)
    def test_timestamps_are_timestamp_millis(self, schema: SchemaVersion) -> None:
        """The envelope timestamp is a long with logicalType timestamp-millis."""
        field = next(f for f in schema.schema["fields"] if f["name"] == "timestamp")
        assert field["type"] == TIMESTAMP_MILLIS

    @pytest.mark.parametrize("schema", list(CATALOG), ids=[f"{s.name}-v{s.version}" for s in CATALOG])
    def test_no_schema_uses_avro_enums(self, schema: SchemaVersion) -> None:
        """Status-like values are strings, never Avro enums (enum evolution is brittle)."""
        assert '"enum"' not in json.dumps(schema.schema)

    @pytest.mark.parametrize("schema", list(CATALOG), ids=[f"{s.name}-v{s.version}" for s in CATALOG])
    def test_every_field_is_documented(self, schema: SchemaVersion) -> None:
        """Every field and every record has a doc string."""
        undocumented = [f["name"] for f in schema.schema["fields"] if not f.get("doc")]
        assert (undocumented, bool(schema.schema.get("doc"))) == ([], True)


class TestLookup:
    def test_latest_is_the_highest_version(self) -> None:
        """latest() returns the highest version number."""
        assert (
            max(s.version for s in CATALOG.versions("CustomerMergedEvent"))
            == CATALOG.latest("CustomerMergedEvent").version
        )

    def test_full_names_are_accepted(self) -> None:
        """A fully qualified record name finds the same versions as the short name."""
        assert CATALOG.versions("CustomerMergedEvent") == CATALOG.versions(f"{PRODUCED_NAMESPACE}.CustomerMergedEvent")

    @pytest.mark.parametrize("form", ["raw", "hex", "java_long", "unsigned"])
    def test_fingerprint_lookup_accepts_every_form(self, form: str) -> None:
        """A schema is found by its fingerprint as bytes, hex, Java long or unsigned integer."""
        schema = CATALOG.get("CustomerProfileCreatedEvent", 1)
        forms: dict[str, bytes | str | int] = {
            "raw": schema.fingerprint.raw,
            "hex": schema.fingerprint.hex,
            "java_long": schema.fingerprint.java_long,
            "unsigned": int.from_bytes(schema.fingerprint.raw, "little"),
        }
        assert schema is CATALOG.by_fingerprint(forms[form])

    def test_unknown_fingerprint_is_not_found(self) -> None:
        """An unknown fingerprint raises SchemaNotFoundError."""
        with pytest.raises(SchemaNotFoundError):
            CATALOG.by_fingerprint(bytes(8))

    def test_unknown_version_is_not_found(self) -> None:
        """A version that does not exist raises SchemaNotFoundError."""
        with pytest.raises(SchemaNotFoundError):
            CATALOG.get("CustomerMergedEvent", 99)

    def test_previous_of_version_2_is_version_1(self) -> None:
        """previous() walks one version back, and None before v1."""
        v2 = CATALOG.get("CustomerMergedEvent", 2)
        v1 = CATALOG.previous(v2)
        assert (v1.version if v1 else None, CATALOG.previous(v1) if v1 else "missing") == (1, None)

    def test_java_long_and_hex_describe_the_same_bytes(self) -> None:
        """Fingerprint.parse(java_long) gives back the wire bytes."""
        fingerprint = CATALOG.latest("ContractActivatedEvent").fingerprint
        assert fingerprint == Fingerprint.parse(fingerprint.java_long) == Fingerprint.parse(fingerprint.hex)

    def test_description_is_json_for_the_schema_endpoint(self) -> None:
        """describe() gives JSON-ready entries with name, version, fingerprints and schema."""
        entry = json.loads(json.dumps(CATALOG.describe()))[0]
        assert {
            "name",
            "namespace",
            "fullName",
            "version",
            "latest",
            "direction",
            "fingerprint",
            "fingerprintLong",
            "canonicalForm",
            "schema",
        } == set(entry)

    def test_loading_happens_on_first_call_not_on_import(self) -> None:
        """Importing the codec reads no schema file (the catalog loads on first use)."""
        program = (
            "import customer360.infrastructure.messaging.avro_codec\n"
            "from customer360.infrastructure.messaging.schema_catalog import load_schema_catalog\n"
            "print(load_schema_catalog.cache_info().currsize)\n"
        )
        result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
        assert result.stdout.strip() == "0"


class TestLayoutRules:
    def test_a_valid_directory_loads(self, tmp_path: Path) -> None:
        """A directory with v1.avsc of a well-formed event loads."""
        write_schema(tmp_path, "ThingHappenedEvent", 1, minimal_schema())
        assert read_schema_catalog(tmp_path).names() == ("ThingHappenedEvent",)

    def test_version_gap_is_rejected(self, tmp_path: Path) -> None:
        """v1 and v3 without v2 is a packaging error."""
        write_schema(tmp_path, "ThingHappenedEvent", 1, minimal_schema())
        write_schema(tmp_path, "ThingHappenedEvent", 3, minimal_schema(doc="x"))
        with pytest.raises(SchemaCatalogError, match="without gaps"):
            read_schema_catalog(tmp_path)

    def test_record_name_must_match_the_directory(self, tmp_path: Path) -> None:
        """A schema whose record name differs from its directory is rejected."""
        write_schema(tmp_path, "ThingHappenedEvent", 1, minimal_schema(name="OtherEvent"))
        with pytest.raises(SchemaCatalogError, match="record name"):
            read_schema_catalog(tmp_path)

    def test_foreign_namespace_is_rejected(self, tmp_path: Path) -> None:
        """Only our two namespaces are allowed."""
        write_schema(tmp_path, "ThingHappenedEvent", 1, minimal_schema(namespace="com.example"))
        with pytest.raises(SchemaCatalogError, match="namespace"):
            read_schema_catalog(tmp_path)

    def test_a_version_that_only_changes_docs_is_rejected(self, tmp_path: Path) -> None:
        """A new version with the same canonical form (same fingerprint) is rejected."""
        write_schema(tmp_path, "ThingHappenedEvent", 1, minimal_schema())
        write_schema(tmp_path, "ThingHappenedEvent", 2, minimal_schema(doc="better words"))
        with pytest.raises(SchemaCatalogError, match="same canonical form"):
            read_schema_catalog(tmp_path)

    def test_aggregate_id_fields_must_exist(self, tmp_path: Path) -> None:
        """aggregateIdFields must name string fields of the record."""
        write_schema(tmp_path, "ThingHappenedEvent", 1, minimal_schema(aggregateIdFields=["nope"]))
        with pytest.raises(SchemaCatalogError, match="aggregateIdFields"):
            read_schema_catalog(tmp_path)

    def test_envelope_fields_are_required(self, tmp_path: Path) -> None:
        """A schema without tenantId is rejected."""
        schema = minimal_schema()
        schema["fields"] = [f for f in schema["fields"] if f["name"] != "tenantId"]
        write_schema(tmp_path, "ThingHappenedEvent", 1, schema)
        with pytest.raises(SchemaCatalogError, match="tenantId"):
            read_schema_catalog(tmp_path)


class TestDocumentation:
    DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"

    @pytest.mark.parametrize("schema", list(CATALOG), ids=[f"{s.name}-v{s.version}" for s in CATALOG])
    def test_events_doc_lists_every_fingerprint(self, schema: SchemaVersion) -> None:
        """docs/events.md names every version's fingerprint in hex and as Java long."""
        text = self.DOC.read_text(encoding="utf-8")
        assert (f"`{schema.fingerprint.hex}`" in text, f"`{schema.fingerprint.java_long}`" in text) == (True, True)

    @pytest.mark.parametrize("schema", LATEST, ids=LATEST_IDS)
    def test_events_doc_describes_every_field(self, schema: SchemaVersion) -> None:
        """docs/events.md has a section for each event listing every field of its latest version."""
        text = self.DOC.read_text(encoding="utf-8")
        section = text.split(f"#### {schema.name} — v{schema.version}")[1].split("####")[0]
        assert [name for name in schema.field_names if f"| `{name}` |" not in section] == []
