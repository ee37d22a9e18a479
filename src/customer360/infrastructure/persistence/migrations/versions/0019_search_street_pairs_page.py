"""Street pairs in the word index; the search page's documents built in customer_search's statement.

**Street pairs.** A street with its house number in a city ("Ahornstr. 4", "München": three common terms)
read every profile of the street and probed each in the city's postings (1,500 probes, 5-15 ms at
1,000,000 profiles). ``search_token`` now also holds a *street pair* for every ordered pair of a profile's
street words (``r:ahornstrasse 4``: search_sql.pairs_with_streets_function), and ``customer_search`` takes
two street terms through the pair path as it takes two name terms (0017): the range ``r:ahornstrasse 4``…
holds the hundred profiles of that street with a number starting "4", each checked. Existing profiles get
theirs here, tenant by tenant. ~1.7 street pairs per profile (one address: the street and its number).

**The page.**
A page of ten results cost about as much of PostgreSQL's CPU as finding them: each document was a
PL/pgSQL call of ``customer_json`` building a jsonb (~30 µs each at 1,000,000 profiles), and every page was
checked and scored again by ``search_hits``. ``customer_search`` now builds the page's documents in the
page's statement as ``json`` (``privacy_sql.document_json``: the same keys and values as ``customer_json``),
and a page of candidates already known to match every term (a typeahead's first postings, the pair
postings of two name terms) is scored from each profile's own tokens as ``search_hits`` scores them,
without its checks. The same pages (compared as JSON, 600 requests of each criterion of the benchmark).

Revision ID: 0019_search_street_pairs_page
Revises: 0018_candidate_fillfactor
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from customer360.infrastructure.persistence import search_sql
from customer360.infrastructure.persistence.roles import TENANT_SETTING

revision = "0019_search_street_pairs_page"
down_revision = "0018_candidate_fillfactor"
branch_labels = None
depends_on = None

S = "crm_customer360"


def upgrade() -> None:
    op.execute(search_sql.pairs_with_streets_function(S))
    for statement in search_sql.search_function(S, TENANT_SETTING):
        op.execute(statement)
    op.execute(search_sql.each_tenant(S, TENANT_SETTING, search_sql.street_pair_backfill(S, "$1")))
    op.execute(f"ANALYZE {S}.search_token")


def downgrade() -> None:
    op.execute(search_sql.pairs_function(S))
    op.execute(f"DELETE FROM {S}.search_token WHERE left(token, 2) = 'r:'")
    # customer_search: re-run 0017's upgrade of it by hand (downgrades are for development).
