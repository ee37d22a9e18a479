"""The word index's postings of new profiles are written once per INSERT statement, not once per row.

``sync_search_tokens`` (migration 0009) ran a PL/pgSQL call and two INSERTs for every new profile: about
half of PostgreSQL's time per profile in a bulk import. On INSERT it is now a statement-level trigger
with a transition table (the same rows, set-based); updates (new tokens, a merge or an erasure) keep the
row-level trigger, renamed ``sync_search_tokens_on_update``. Nothing to backfill: the postings are the same.

Revision ID: 0014_search_tokens_per_statement
Revises: 0013_override_review
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

from customer360.infrastructure.persistence import search_sql

revision = "0014_search_tokens_per_statement"
down_revision = "0013_override_review"
branch_labels = None
depends_on = None

S = "crm_customer360"


def upgrade() -> None:
    for statement in search_sql.statement_insert_trigger(S):
        op.execute(statement)


def downgrade() -> None:
    op.execute(f"DROP TRIGGER sync_search_tokens ON {S}.customer_profile")
    op.execute(f"DROP TRIGGER sync_search_tokens_on_update ON {S}.customer_profile")
    op.execute(f"DROP FUNCTION {S}.sync_search_tokens_inserted()")
    for statement in search_sql.sync_trigger(S):
        op.execute(statement)
