"""Duplicate matching and the reversible merge workflow: merge records, pair decisions, golden-record
provenance, survivorship policies.

Revision ID: 0003_matching_merge
Revises: 0002_integration
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from customer360.infrastructure.persistence.roles import APP_ROLE, tenant_isolation_sql

revision = "0003_matching_merge"
down_revision = "0002_integration"
branch_labels = None
depends_on = None

S = "crm_customer360"
ID = sa.String(40)


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(64), nullable=False)


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _profile_fk(column: str, name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column], [f"{S}.customer_profile.tenant_id", f"{S}.customer_profile.id"], name=name
    )


def upgrade() -> None:
    op.create_table(
        "customer_merge",
        _tenant(),
        sa.Column("id", ID, nullable=False),
        sa.Column("target_id", ID, nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("record", pg.JSONB, nullable=False),
        _ts("merged_at"),
        sa.Column("merged_by", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.String(128), nullable=False),
        _ts("unmerged_at", nullable=True),
        sa.Column("unmerged_by", sa.Text),
        sa.Column("unmerge_report", pg.JSONB),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_customer_merge"),
        _profile_fk("target_id", "fk_customer_merge_target"),
        _profile_fk("source_id", "fk_customer_merge_source"),
        schema=S,
    )
    for column in ("target_id", "source_id"):
        op.create_index(
            f"ix_customer_merge_tenant_id_{column}_merged_at",
            "customer_merge",
            ["tenant_id", column, "merged_at"],
            schema=S,
        )
    op.create_index(
        "ux_customer_merge_standing_source",
        "customer_merge",
        ["tenant_id", "source_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("status = 'MERGED'"),
    )

    op.create_table(
        "duplicate_pair",
        _tenant(),
        sa.Column("low_id", ID, nullable=False),
        sa.Column("high_id", ID, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("decided_by", sa.Text, nullable=False),
        _ts("decided_at"),
        sa.Column("merge_id", ID),
        sa.PrimaryKeyConstraint("tenant_id", "low_id", "high_id", name="pk_duplicate_pair"),
        _profile_fk("low_id", "fk_duplicate_pair_low"),
        _profile_fk("high_id", "fk_duplicate_pair_high"),
        schema=S,
    )
    op.create_index("ix_duplicate_pair_tenant_id_high_id", "duplicate_pair", ["tenant_id", "high_id"], schema=S)

    op.create_table(
        "customer_provenance",
        _tenant(),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("document", pg.JSONB, nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name="pk_customer_provenance"),
        _profile_fk("customer_id", "fk_customer_provenance_tenant_id_customer_id_customer_profile"),
        schema=S,
    )

    op.create_table(
        "survivorship_policy",
        _tenant(),
        sa.Column("document", pg.JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _ts("updated_at"),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_survivorship_policy"),
        schema=S,
    )

    grants = {
        # The merge record is the audit of a merge: never rewritten, never deleted. The unmerge only
        # closes it, so UPDATE is limited to the columns that record the unmerge.
        "customer_merge": "SELECT, INSERT, UPDATE (status, unmerged_at, unmerged_by, unmerge_report)",
        "duplicate_pair": "SELECT, INSERT, UPDATE",
        "customer_provenance": "SELECT, INSERT, UPDATE",
        "survivorship_policy": "SELECT, INSERT, UPDATE",
    }
    for table, privileges in grants.items():
        op.execute(f"GRANT {privileges} ON {S}.{table} TO {APP_ROLE}")
        for statement in tenant_isolation_sql(S, table):
            op.execute(statement)
    # A merge re-points the source's external references to the target (and an unmerge back) without
    # deleting and re-inserting them, which would lose their creation time; only the owner id may change.
    op.execute(f"GRANT UPDATE (customer_id) ON {S}.external_reference TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE UPDATE (customer_id) ON {S}.external_reference FROM {APP_ROLE}")
    for table in ("survivorship_policy", "customer_provenance", "duplicate_pair", "customer_merge"):
        op.drop_table(table, schema=S)
