"""Alembic environment: runs on a connection handed over by customer360.infrastructure.persistence.migrate."""

from __future__ import annotations

from alembic import context

from customer360.infrastructure.persistence.tables import SCHEMA, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table_schema=SCHEMA,
    include_schemas=True,
)
with context.begin_transaction():
    context.run_migrations()
