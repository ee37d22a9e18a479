"""Duplicate detection: matching data per profile (prepared record, blocking-key postings, stop keys),
the tenant's match model and thresholds, batch scans, candidate pairs and clusters for review.

Every table leads with ``tenant_id``, has ENABLE + FORCE row-level security and the tenant policy.
``match_key`` has its primary key as its only index: (tenant, key hash, profile) serves the look-up by
key as an index-only scan, and a save removes a profile's old postings by the hashes kept in
``match_record.keys``, so no second index by profile is needed (it would double the largest table).

Revision ID: 0005_duplicate_detection
Revises: 0004_read_functions
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from customer360.infrastructure.persistence.roles import APP_ROLE, tenant_isolation_sql

revision = "0005_duplicate_detection"
down_revision = "0004_read_functions"
branch_labels = None
depends_on = None

S = "crm_customer360"
ID = sa.String(40)
EMPTY = sa.text("'{}'::jsonb")

GRANTS = {
    "match_record": "SELECT, INSERT, UPDATE, DELETE",
    "match_key": "SELECT, INSERT, DELETE",
    "match_stop_key": "SELECT, INSERT, DELETE",
    "match_model": "SELECT, INSERT, UPDATE",
    "duplicate_policy": "SELECT, INSERT, UPDATE",
    "duplicate_scan": "SELECT, INSERT, UPDATE",
    "duplicate_candidate": "SELECT, INSERT, UPDATE, DELETE",
    "duplicate_cluster": "SELECT, INSERT, DELETE",
}


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(64), nullable=False)


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _profile_fk(column: str, name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column], [f"{S}.customer_profile.tenant_id", f"{S}.customer_profile.id"], name=name
    )


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns), schema=S)


def upgrade() -> None:
    op.create_table(
        "match_record",
        _tenant(),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("features", pg.JSONB, nullable=False),
        sa.Column("keys", pg.ARRAY(sa.BigInteger), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name="pk_match_record"),
        schema=S,
    )
    op.create_table(
        "match_key",
        _tenant(),
        sa.Column("key_hash", sa.BigInteger, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key_hash", "customer_id", name="pk_match_key"),
        schema=S,
    )
    op.create_table(
        "match_stop_key",
        _tenant(),
        sa.Column("key_hash", sa.BigInteger, nullable=False),
        sa.Column("profiles", sa.Integer, nullable=False),
        _ts("refreshed_at"),
        sa.PrimaryKeyConstraint("tenant_id", "key_hash", name="pk_match_stop_key"),
        schema=S,
    )
    op.create_table(
        "match_model",
        _tenant(),
        sa.Column("document", pg.JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("training", pg.JSONB, nullable=False, server_default=EMPTY),
        _ts("trained_at", nullable=True),
        _ts("updated_at"),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_match_model"),
        schema=S,
    )
    op.create_table(
        "duplicate_policy",
        _tenant(),
        sa.Column("review_threshold", sa.Double, nullable=False),
        sa.Column("likely_threshold", sa.Double, nullable=False),
        sa.Column("auto_merge", sa.Boolean, nullable=False),
        sa.Column("auto_merge_threshold", sa.Double, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _ts("updated_at"),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_duplicate_policy"),
        schema=S,
    )
    op.create_table(
        "duplicate_scan",
        _tenant(),
        sa.Column("id", ID, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("phase", sa.String(20), nullable=False),
        sa.Column("checkpoint", pg.JSONB, nullable=False, server_default=EMPTY),
        sa.Column("processed", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("total", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("result", pg.JSONB, nullable=False, server_default=EMPTY),
        sa.Column("error", sa.String(80)),
        sa.Column("requested_by", sa.Text, nullable=False),
        _ts("requested_at"),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_duplicate_scan"),
        schema=S,
    )
    _index("duplicate_scan", "tenant_id", "requested_at")
    op.create_table(
        "duplicate_candidate",
        _tenant(),
        sa.Column("low_id", ID, nullable=False),
        sa.Column("high_id", ID, nullable=False),
        sa.Column("probability", sa.Double, nullable=False),
        sa.Column("match_weight", sa.Double, nullable=False),
        sa.Column("explanation", pg.JSONB, nullable=False),
        sa.Column("cluster_id", ID),
        sa.Column("scan_id", ID, nullable=False),
        _ts("found_at"),
        sa.PrimaryKeyConstraint("tenant_id", "low_id", "high_id", name="pk_duplicate_candidate"),
        _profile_fk("low_id", "fk_duplicate_candidate_low"),
        _profile_fk("high_id", "fk_duplicate_candidate_high"),
        schema=S,
    )
    _index("duplicate_candidate", "tenant_id", "probability", "low_id", "high_id")
    _index("duplicate_candidate", "tenant_id", "high_id")
    _index("duplicate_candidate", "tenant_id", "cluster_id")
    op.create_table(
        "duplicate_cluster",
        _tenant(),
        sa.Column("id", ID, nullable=False),
        sa.Column("members", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("max_probability", sa.Double, nullable=False),
        sa.Column("scan_id", ID, nullable=False),
        _ts("found_at"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_duplicate_cluster"),
        schema=S,
    )
    _index("duplicate_cluster", "tenant_id", "max_probability", "id")

    for table, privileges in GRANTS.items():
        op.execute(f"GRANT {privileges} ON {S}.{table} TO {APP_ROLE}")
        for statement in tenant_isolation_sql(S, table):
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(GRANTS):
        op.drop_table(table, schema=S)
