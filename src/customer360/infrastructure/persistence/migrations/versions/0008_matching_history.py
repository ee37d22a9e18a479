"""Matching that tells households from duplicates: term postings for term-frequency weights, and the
record's terms kept beside its keys (so a save removes exactly the old postings).

``match_term`` is to term frequencies what ``match_key`` is to blocking: per profile, one row per value
whose frequency weighs an exact agreement (a given or family name per country, a company name, a
premise, and the profile's kind and country, the denominator). Its primary key is its only index
(tenant, term, profile): counting a term's profiles is an index-only scan. Kept in the same
transaction as every save, like the keys, so the real-time check weighs names by the tenant's profiles
as they are now, before any scan.

The prepared records (``match_record.features``) move to format 2 (units, shared lines, valid tax ids,
previous addresses and phones): format 1 rows are still read, the next save of a profile rewrites its
row, and a scan re-indexes the rest (it treats rows without terms as missing).

Revision ID: 0008_matching_history
Revises: 0011_imports
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from customer360.infrastructure.persistence.roles import APP_ROLE, tenant_isolation_sql

revision = "0008_matching_history"
down_revision = "0011_imports"
branch_labels = None
depends_on = None

S = "crm_customer360"


def upgrade() -> None:
    op.create_table(
        "match_term",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("term_hash", sa.BigInteger, nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "term_hash", "customer_id", name="pk_match_term"),
        schema=S,
    )
    op.add_column(
        "match_record",
        sa.Column("terms", pg.ARRAY(sa.BigInteger), nullable=False, server_default=sa.text("'{}'::bigint[]")),
        schema=S,
    )
    op.execute(f"GRANT SELECT, INSERT, DELETE ON {S}.match_term TO {APP_ROLE}")
    for statement in tenant_isolation_sql(S, "match_term"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_column("match_record", "terms", schema=S)
    op.drop_table("match_term", schema=S)
