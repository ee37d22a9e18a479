"""Evolution rule: every schema version is backward compatible with the version before it.

Checked with Apache avro's ReaderWriterCompatibilityChecker (reader = new version, writer = old
version), read straight from the .avsc files, and by resolving real data written with the old version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import avro.schema
import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

import customer360.infrastructure.messaging as messaging_package
from customer360.infrastructure.messaging.avro_codec import AvroEventCodec
from customer360.infrastructure.messaging.schema_catalog import load_schema_catalog

SCHEMA_DIR = Path(messaging_package.__file__).parent / "schemas"
SCHEMA_FILES = sorted(SCHEMA_DIR.glob("*/v*.avsc"))
PAIRS = [(path.parent / f"v{int(path.stem[1:]) - 1}.avsc", path) for path in SCHEMA_FILES if int(path.stem[1:]) > 1]
PAIR_IDS = [f"{new.parent.name}-{old.stem}-to-{new.stem}" for old, new in PAIRS]


def compatibility(reader: dict[str, Any], writer: dict[str, Any]) -> SchemaCompatibilityType:
    result = ReaderWriterCompatibilityChecker().get_compatibility(
        avro.schema.parse(json.dumps(reader)), avro.schema.parse(json.dumps(writer))
    )
    return result.compatibility


def load(path: Path) -> dict[str, Any]:
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(schema, dict)
    return schema


def test_there_are_versions_to_compare() -> None:
    """The seed's two schemas have a v2, so the rule below is exercised."""
    assert {"CustomerProfileCreatedEvent", "CustomerMergedEvent"} <= {new.parent.name for _, new in PAIRS}


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=PAIR_IDS)
def test_new_version_reads_data_of_the_previous_version(old: Path, new: Path) -> None:
    """The compatibility checker accepts reader = new version, writer = previous version."""
    assert SchemaCompatibilityType.compatible == compatibility(reader=load(new), writer=load(old))


def test_checker_rejects_a_field_added_without_default() -> None:
    """The checker is not a rubber stamp: a new required field is incompatible."""
    old = load(SCHEMA_DIR / "CustomerMergedEvent" / "v1.avsc")
    new = {**old, "fields": [*old["fields"], {"name": "mergedBy", "type": "string"}]}
    assert SchemaCompatibilityType.incompatible == compatibility(reader=new, writer=old)


def test_checker_rejects_a_narrowed_field() -> None:
    """Narrowing a nullable field to a plain string is incompatible."""
    old = load(SCHEMA_DIR / "CustomerProfileCreatedEvent" / "v2.avsc")
    fields = [{**f, "type": "string"} if f["name"] == "primaryContactId" else f for f in old["fields"]]
    assert SchemaCompatibilityType.incompatible == compatibility(reader={**old, "fields": fields}, writer=old)


def placeholder(avro_type: Any) -> Any:
    """A valid value of a field type (our unions are all ["null", T])."""
    if isinstance(avro_type, list):
        return None
    if isinstance(avro_type, dict):
        return [] if avro_type["type"] == "array" else 0
    return {"string": "x", "int": 0, "long": 0, "boolean": False}[avro_type]


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=PAIR_IDS)
def test_data_of_the_previous_version_decodes_as_the_new_one(old: Path, new: Path) -> None:
    """Bytes written with the previous version decode with the new version as reader."""
    catalog = load_schema_catalog()
    codec = AvroEventCodec(catalog)
    writer = catalog.get(old.parent.name, int(old.stem[1:]))
    reader = catalog.get(new.parent.name, int(new.stem[1:]))
    written = {f["name"]: placeholder(f["type"]) for f in writer.schema["fields"]}
    decoded = codec.decode(codec.encode_with(writer, written), reader=reader)
    assert (set(reader.field_names), written) == (
        set(decoded.record),
        {name: decoded.record[name] for name in written},
    )
