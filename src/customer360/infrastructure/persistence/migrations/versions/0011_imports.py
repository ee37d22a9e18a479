"""Bulk import: jobs, the staging table their rows are copied into, and the per-row report.

``import_row`` is the staging table: every well-formed row of an uploaded file is copied into it (COPY)
as the validated create body, keyed by its row number, before any of it is applied; the import then
works through it in row order, a chunk per transaction, and the job's ``processed_rows`` (the resume
point) is saved in the transaction that applies the chunk, so a crash or restart resumes without
applying a row twice. A job's staged rows are deleted when it finishes: they hold personal data.
``import_issue`` is the report: row number, field and reason (never the rejected value).

Every table leads with ``tenant_id`` and has ENABLE + FORCE row-level security with the tenant policy.

Revision ID: 0011_imports
Revises: 0009_search_index
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from customer360.infrastructure.persistence.roles import APP_ROLE, tenant_isolation_sql

revision = "0011_imports"
down_revision = "0009_search_index"
branch_labels = None
depends_on = None

S = "crm_customer360"
ID = sa.String(40)
EMPTY = sa.text("'{}'::jsonb")

GRANTS = {
    "import_job": "SELECT, INSERT, UPDATE",
    "import_row": "SELECT, INSERT, DELETE",
    "import_issue": "SELECT, INSERT",
}


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(64), nullable=False)


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "import_job",
        _tenant(),
        sa.Column("id", ID, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("options", pg.JSONB, nullable=False, server_default=EMPTY),
        sa.Column("staged_rows", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("processed_rows", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("counts", pg.JSONB, nullable=False, server_default=EMPTY),
        sa.Column("error", sa.String(40)),
        sa.Column("error_details", pg.JSONB),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.String(128), nullable=False),
        _ts("requested_at"),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_import_job"),
        schema=S,
    )
    op.create_index("ix_import_job_tenant_id_requested_at", "import_job", ["tenant_id", "requested_at"], schema=S)
    op.create_table(
        "import_row",
        _tenant(),
        sa.Column("job_id", ID, nullable=False),
        sa.Column("row_number", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "job_id", "row_number", name="pk_import_row"),
        schema=S,
    )
    op.create_table(
        "import_issue",
        _tenant(),
        sa.Column("job_id", ID, nullable=False),
        sa.Column("row_number", sa.BigInteger, nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("customer_id", ID),
        sa.PrimaryKeyConstraint("tenant_id", "job_id", "row_number", "field", name="pk_import_issue"),
        schema=S,
    )
    for table, privileges in GRANTS.items():
        op.execute(f"GRANT {privileges} ON {S}.{table} TO {APP_ROLE}")
        for statement in tenant_isolation_sql(S, table):
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(GRANTS):
        op.drop_table(table, schema=S)
