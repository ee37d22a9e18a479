"""Pair postings in the word index: two name terms are one range of it, read best-scoring first.

A name search of two words, both common ("anna schmidt", "anna schm"), read every posting of both words (a
join of two lists in profile order, or probes of one in the other), and a start of a word ranked only the
few pages found first. At 1,000,000 profiles that cost 5 ms of PostgreSQL's CPU per name search (the
benchmark's mix), most of it there. Now ``search_token`` also holds, for every ordered pair of a profile's
name words, a *pair posting* (``m:anna schmidt``, ``m:schmidt anna``: search_sql.pairs_function): the
profiles having "anna" and a word starting "schm" are the range ``m:anna schm``…, whose distinct pairs are
listed by skipping through the index and read best-scoring first (``customer_search``); a page is found
without reading the rest. A profile with more than ``PAIR_WORDS`` name words has the marker ``m:`` instead
and is checked as a candidate. The triggers post pairs through ``search_postings``; existing profiles get
theirs here, tenant by tenant (the tenant policy applies to the owner too). ``search_hits`` and
``search_key_hits`` lose their ``SET search_path`` (their names are schema-qualified): a SQL function
without one is inlined into the statement that calls it instead of being planned at every call; and
``customer_search`` keeps generic plans for its statements (``plan_cache_mode``), instead of planning each
again at every call with its variables' values.
A word with no posting falls back to its closest vocabulary words: ``search_word_matches`` now has one
branch per field, answered by a trigram index of that field's words without the tenant (5-7 → ~2.5 ms
per look-up in a tenant of 1,000,000 profiles; the index of 0009 stays for the planner to weigh).

Revision ID: 0017_search_pair_postings
Revises: 0016_search_prefix_postings
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from customer360.infrastructure.persistence import search_sql
from customer360.infrastructure.persistence.roles import APP_ROLE, TENANT_SETTING

revision = "0017_search_pair_postings"
down_revision = "0016_search_prefix_postings"
branch_labels = None
depends_on = None

S = "crm_customer360"
PAIRS = "search_pairs(text[])"


def upgrade() -> None:
    op.execute(search_sql.pairs_function(S))
    op.execute(f"REVOKE ALL ON FUNCTION {S}.{PAIRS} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {S}.{PAIRS} TO {APP_ROLE}")
    op.execute(search_sql.postings_with_pairs_function(S))
    for statement in search_sql.field_trigram_indexes(S):
        op.execute(statement)
    op.execute(search_sql.word_matches(S, TENANT_SETTING))
    for statement in search_sql.search_function(S, TENANT_SETTING):
        op.execute(statement)
    op.execute(search_sql.each_tenant(S, TENANT_SETTING, search_sql.pair_backfill(S, "$1")))
    op.execute(f"ANALYZE {S}.search_token")


def downgrade() -> None:
    op.execute(f"DROP INDEX {S}.ix_search_word_name_trigram")
    op.execute(f"DROP INDEX {S}.ix_search_word_street_trigram")
    op.execute(search_sql.postings_function(S))
    op.execute(f"DELETE FROM {S}.search_token WHERE left(token, 2) = 'm:'")
    op.execute(f"DROP FUNCTION {S}.{PAIRS}")
    # customer_search: re-run 0016's upgrade of it by hand (downgrades are for development).
