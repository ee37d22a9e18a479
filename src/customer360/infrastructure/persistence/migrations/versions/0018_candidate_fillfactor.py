"""Room on each page of ``duplicate_candidate`` for a re-scan to update its pairs in place (fillfactor 45).

A scan writes every pair it keeps (``INSERT … ON CONFLICT DO UPDATE``); a re-scan that finds a pair again
stores it with the same cluster id and probability (no indexed column changes), which PostgreSQL can write
as a heap-only tuple — the new version on the same page, no index entry — but only if the page has room
for it. Packed full (fillfactor 100), every page had none: each of the 12,177 pairs of the 20,000-customer
benchmark was written as a new tuple elsewhere with four new index entries, ~29 MB of WAL and ~270 ms of
one backend per re-scan; with pages filled to 45 % (a pair's row is ~640 bytes: five or six a page, room
for each to be written once more), all 12,177 are heap-only, ~9 MB of WAL and ~90 ms (docs/benchmarks.md).
Once a page's older versions are no longer visible to anyone, the next write to the page prunes them, so
every re-scan finds the room again. Existing pages keep their rows until they are written: the first scan
after this migration moves each pair (as every re-scan did before), the following ones update in place.

Revision ID: 0018_candidate_fillfactor
Revises: 0017_search_pair_postings
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0018_candidate_fillfactor"
down_revision = "0017_search_pair_postings"
branch_labels = None
depends_on = None

S = "crm_customer360"


def upgrade() -> None:
    op.execute(f"ALTER TABLE {S}.duplicate_candidate SET (fillfactor = 45)")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {S}.duplicate_candidate RESET (fillfactor)")
