"""The word index's postings of new profiles are inserted without ``ON CONFLICT DO NOTHING``.

``sync_search_tokens_inserted`` (the statement trigger of migration 0014, extended in 0016) inserted a new
profile's postings as a speculative insertion: each posting's index entry was looked up before it was
inserted, and confirmed by a second WAL record after. None can conflict: a posting names its profile, a
profile row is inserted once (the id is its primary key; no profile row is ever deleted) and
``search_postings`` lists each posting once. Plain inserts: ~17 postings a create, 49 -> 33 WAL records and
0.42-0.47 -> 0.36 ms for the statement at 100,000 profiles. Updates (the row trigger) keep their
``ON CONFLICT``: a changed profile has postings. Nothing to backfill: the postings are the same.

Revision ID: 0020_search_new_postings
Revises: 0019_search_street_pairs_page
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from customer360.infrastructure.persistence import search_sql

revision = "0020_search_new_postings"
down_revision = "0019_search_street_pairs_page"
branch_labels = None
depends_on = None

S = "crm_customer360"


def upgrade() -> None:
    op.execute(search_sql.statement_insert_trigger(S, prefixes=True, new_ids=True)[0])


def downgrade() -> None:
    op.execute(search_sql.statement_insert_trigger(S, prefixes=True)[0])
