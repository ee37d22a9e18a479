"""Turn value objects into JSON-able primitives (audit images, change sets, stored documents).

Keys use the API's camelCase spelling, so stewards read the same names in the API and the audit trail.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from typing import Any


@cache
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def iso_millis(moment: datetime) -> str:
    """A timestamp as the API and the events spell it: ISO-8601 in UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@cache
def _fields(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute, camelCase key) of a dataclass type; asked once per type (bulk imports ask millions of times)."""
    return tuple((f.name, camel(f.name)) for f in dataclasses.fields(cls))


def to_primitive(value: Any) -> Any:
    """Dataclasses become dicts, enums their values, tuples/sets/frozensets lists, dates ISO strings."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {key: to_primitive(getattr(value, name)) for name, key in _fields(type(value))}
    if isinstance(value, frozenset | set):
        return sorted(to_primitive(v) for v in value)
    if isinstance(value, list | tuple):
        return [to_primitive(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_primitive(v) for k, v in value.items()}
    raise TypeError(f"cannot turn {type(value).__name__} into a primitive")
