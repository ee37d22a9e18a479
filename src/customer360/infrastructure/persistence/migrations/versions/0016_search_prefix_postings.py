"""Prefix postings in the word index, so that common words and word starts are joined index to index.

A search whose every word is common ("anna schm", "kirchstr 88 münchen") read the rarest word's postings
in word order and checked each profile found: at 1,000,000 profiles up to ``SCAN_CAP`` (20,000) profile
rows when the words rarely meet (0.7-1 s for "klaus klei"). Now ``search_token`` also holds, for every
name, street, city and postal code word of four letters or more, a *prefix posting* (``n:schmidt`` ->
``N:schm``, search_sql.postings_function): a list in profile order of every profile having a word that
starts so, which ``customer_search`` joins with the other terms' lists by index look-ups before reading
any profile. The triggers post them (``search_postings``); existing profiles get theirs here, tenant by
tenant (the tenant policy applies to the owner too).

Revision ID: 0016_search_prefix_postings
Revises: 0015_outbox_write
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

from customer360.infrastructure.persistence import search_sql
from customer360.infrastructure.persistence.roles import APP_ROLE, TENANT_SETTING

revision = "0016_search_prefix_postings"
down_revision = "0015_outbox_write"
branch_labels = None
depends_on = None

S = "crm_customer360"
POSTINGS = "search_postings(text[])"


def upgrade() -> None:
    op.execute(search_sql.postings_function(S))
    op.execute(f"REVOKE ALL ON FUNCTION {S}.{POSTINGS} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {S}.{POSTINGS} TO {APP_ROLE}")
    op.execute(search_sql.sync_trigger(S, prefixes=True)[0])
    op.execute(search_sql.statement_insert_trigger(S, prefixes=True)[0])
    for statement in search_sql.search_function(S, TENANT_SETTING):
        op.execute(statement)
    op.execute(search_sql.each_tenant(S, TENANT_SETTING, search_sql.prefix_backfill(S, "$1")))
    op.execute(f"ANALYZE {S}.search_token")


def downgrade() -> None:
    op.execute(search_sql.sync_trigger(S)[0])
    op.execute(search_sql.statement_insert_trigger(S)[0])
    op.execute(f"DELETE FROM {S}.search_token WHERE left(token, 1) IN ('N', 'S', 'C', 'P')")
    op.execute(f"DROP FUNCTION {S}.{POSTINGS}")
    # customer_search: re-run 0009's upgrade of it by hand (downgrades are for development).
