"""Many rows in one statement: ``INSERT … SELECT FROM unnest(array per column)``.

COPY would be the fastest way in, but PostgreSQL refuses ``COPY FROM`` on tables with row-level
security for any role the policies apply to — which is every role of this service. One INSERT over
``unnest`` of one array per column is the next best: one round trip and one plan for thousands of rows,
with the tenant policy checked on each (the access log writes its batches the same way).
Array- and JSON-valued columns travel as text and are cast in the statement (``unnest`` would flatten
an array of arrays).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql

Column = tuple[str, str]
"""(name, PostgreSQL type), e.g. ("tags", "text[]")."""


def _as_text(pg_type: str) -> bool:
    return pg_type.endswith("[]") or pg_type == "jsonb"


def array_literal(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of ``values`` (text elements quoted and escaped)."""
    values = list(values)
    if all(type(value) is int for value in values):  # key and term hashes: most of a bulk import's arrays
        return "{" + ",".join(map(str, values)) + "}"
    items = []
    for value in values:
        if isinstance(value, int):
            items.append(str(value))
        else:
            items.append('"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(items) + "}"


def insert_sql(table: str, columns: Sequence[Column], suffix: str = "") -> str:
    names = ", ".join(name for name, _ in columns)
    params = ", ".join(f"${i}::{'text' if _as_text(t) else t}[]" for i, (_, t) in enumerate(columns, 1))
    selected = ", ".join(f"CAST(u.c{i} AS {t})" if _as_text(t) else f"u.c{i}" for i, (_, t) in enumerate(columns, 1))
    aliases = ", ".join(f"c{i}" for i in range(1, len(columns) + 1))
    return f"INSERT INTO {table} ({names}) SELECT {selected} FROM unnest({params}) AS u({aliases}) {suffix}".strip()


async def insert_rows(
    driver: asyncpg.Connection, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], suffix: str = ""
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order; array columns as lists or their literal, JSON ones as
    JSON text)."""
    if not rows:
        return
    arrays: list[list[Any]] = [list(column) for column in zip(*rows, strict=True)]
    for i, (_, pg_type) in enumerate(columns):
        if pg_type.endswith("[]"):
            arrays[i] = [v if v is None or isinstance(v, str) else array_literal(v) for v in arrays[i]]
    await driver.execute(insert_sql(table, columns, suffix), *arrays)


def columns_of(table: Table, names: Sequence[str]) -> list[Column]:
    """The (name, type) pairs of ``names`` as declared in tables.py."""
    dialect = postgresql.dialect()
    return [(name, table.c[name].type.compile(dialect=dialect).lower()) for name in names]
