"""The migrated schema keeps the promises: RLS everywhere, tenant-first keys, migrations = table definitions."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine
from customer360.infrastructure.persistence.tables import SCHEMA, TENANT_TABLES, metadata


async def _fetch(database: DatabaseUrls, sql: str) -> list[Any]:
    engine = create_engine(database.admin, pooled=False)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql), {"schema": SCHEMA})).all())
    finally:
        await engine.dispose()


async def test_every_table_enables_and_forces_row_level_security(database: DatabaseUrls, services: Any) -> None:
    """ENABLE and FORCE ROW LEVEL SECURITY on every tenant table."""
    rows = await _fetch(
        database,
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relkind = 'r' "
        "AND c.relname <> 'alembic_version'",
    )
    assert {t.name: (True, True) for t in TENANT_TABLES} == {r[0]: (r[1], r[2]) for r in rows}


async def test_every_primary_key_leads_with_the_tenant(database: DatabaseUrls, services: Any) -> None:
    """tenant_id is the first column of every primary key."""
    rows = await _fetch(
        database,
        "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name "
        "AND kcu.table_schema = tc.table_schema WHERE tc.table_schema = :schema "
        "AND tc.constraint_type = 'PRIMARY KEY' AND kcu.ordinal_position = 1 AND tc.table_name <> 'alembic_version'",
    )
    assert {t.name: "tenant_id" for t in TENANT_TABLES} == dict(rows)


async def test_the_migrations_create_exactly_the_declared_tables(database: DatabaseUrls, services: Any) -> None:
    """Alembic's autogenerate finds no difference between the migrated database and tables.py."""
    # The default search_path, so that reflection reports our schema by name as tables.py does.
    engine = create_async_engine(database.admin, poolclass=NullPool)

    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, parent: type_ != "schema" or name == SCHEMA,
                "version_table_schema": SCHEMA,
            },
        )
        return list(compare_metadata(context, metadata))

    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []


# Keys without tenant_id in the same place on both sides of a foreign key: none may exist, because Citus
# distributes every table by tenant_id and can enforce a key only within one tenant's shard.
_KEYS_WITHOUT_THE_TENANT = """
SELECT c.conrelid::regclass::text AS table_name, c.conname AS name
  FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
 WHERE n.nspname = :schema AND c.contype IN ('p', 'u', 'f', 'x')
   AND c.conrelid <> to_regclass(:schema || '.alembic_version')
   AND NOT EXISTS (
     SELECT 1 FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, i)
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
      WHERE a.attname = 'tenant_id'
        AND (c.contype <> 'f' OR EXISTS (
              SELECT 1 FROM pg_attribute r
               WHERE r.attrelid = c.confrelid AND r.attnum = c.confkey[k.i] AND r.attname = 'tenant_id')))
UNION ALL
SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text
  FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname = :schema AND i.indisunique AND t.relname <> 'alembic_version'
   AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) AND a.attname = 'tenant_id')
"""


async def test_every_key_includes_the_tenant(database: DatabaseUrls, services: Any) -> None:
    """Every primary key, unique constraint and index, and foreign key (on both sides) includes tenant_id."""
    assert await _fetch(database, _KEYS_WITHOUT_THE_TENANT) == []
