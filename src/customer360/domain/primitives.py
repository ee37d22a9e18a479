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
def field_keys(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute, camelCase key) of a dataclass type; asked once per type (bulk imports ask millions of times)."""
    return tuple((f.name, camel(f.name)) for f in dataclasses.fields(cls))


def to_primitive(value: Any) -> Any:
    """Dataclasses become dicts, enums their values, tuples/sets/frozensets lists, dates ISO strings."""
    if value is None:
        return value
    convert = _CONVERTERS.get(type(value))
    if convert is None:
        convert = _CONVERTERS[type(value)] = _converter(type(value))
    return convert(value)


def _same(value: Any) -> Any:
    return value


def _enum_value(value: Enum) -> Any:
    return value.value


def _iso(value: date) -> str:
    return value.isoformat()


def _items(value: frozenset[Any] | set[Any]) -> list[Any]:
    return sorted(to_primitive(v) for v in value)


def _sequence(value: list[Any] | tuple[Any, ...]) -> list[Any]:
    return [to_primitive(v) for v in value]


def _mapping(value: dict[Any, Any]) -> dict[str, Any]:
    return {str(k): to_primitive(v) for k, v in value.items()}


def _unknown(value: Any) -> Any:
    raise TypeError(f"cannot turn {type(value).__name__} into a primitive")


def _converter(cls: type) -> Any:
    """How values of this type turn into primitives, decided once per type (the checks in this order: a str
    enum, say, stays the str it is)."""
    if issubclass(cls, str | int | float | bool):
        return _same
    if issubclass(cls, Enum):
        return _enum_value
    if issubclass(cls, datetime | date):
        return _iso
    if dataclasses.is_dataclass(cls):
        fields = field_keys(cls)
        return lambda value: {key: to_primitive(getattr(value, name)) for name, key in fields}
    if issubclass(cls, frozenset | set):
        return _items
    if issubclass(cls, list | tuple):
        return _sequence
    if issubclass(cls, dict):
        return _mapping
    return _unknown


# Per type: asked for every field of every profile written (a bulk import asks tens of millions of times).
_CONVERTERS: dict[type, Any] = {}
