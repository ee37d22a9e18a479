"""A profile created despite a likely duplicate ("create anyway", ``?override=true``) queues the pair for
a steward's review instead of recording it as *not a duplicate*.

Until now the override wrote ``duplicate_pair`` rows with status ``NOT_DUPLICATE`` and reason
``CREATE_OVERRIDE``: scans skipped those pairs and trained the model on them as non-matches, so a tenant
whose clerks overrode often taught its model that duplicates are different customers. The reason column
tells those rows from stewards' verdicts (dismissals are ``DISMISSED``, unmerges ``UNMERGED``), so they
are converted to ``PENDING_REVIEW``: undecided, scored by the next scan again, never a label.

A queued pair needs a row in the review queue (``duplicate_candidate``) even when no scan found it, so
``scan_id`` may now be null (queued by a create). Each converted pair gets a row with the probability the
override's audit entry recorded for it (``DUPLICATE_OVERRIDE``: the candidates and their probabilities)
and an empty explanation, which the next scan replaces with its own score; a pair already in the queue
keeps its row.

Revision ID: 0013_override_review
Revises: 0008_matching_history
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0013_override_review"
down_revision = "0008_matching_history"
branch_labels = None
depends_on = None

S = "crm_customer360"
_TABLES = ("duplicate_pair", "duplicate_candidate", "audit_log")

_CONVERT = f"""
UPDATE {S}.duplicate_pair SET status = 'PENDING_REVIEW'
 WHERE status = 'NOT_DUPLICATE' AND reason = 'CREATE_OVERRIDE'
"""

# The probability recorded by the override, as match weight in bits (log2 of the odds; clamped so that a
# probability rounded to 1 gives a finite weight).
_QUEUE = f"""
INSERT INTO {S}.duplicate_candidate
       (tenant_id, low_id, high_id, probability, match_weight, explanation, found_at)
SELECT d.tenant_id, d.low_id, d.high_id, r.p,
       log(2.0, (LEAST(r.p, 1 - 1e-12) / GREATEST(1 - r.p, 1e-12))::numeric)::double precision,
       '[]'::jsonb, d.decided_at
  FROM {S}.duplicate_pair d
  CROSS JOIN LATERAL (
        SELECT max((candidate ->> 'probability')::double precision) AS p
          FROM {S}.audit_log a
         CROSS JOIN LATERAL jsonb_array_elements(a.changes) AS change
         CROSS JOIN LATERAL jsonb_array_elements(
               CASE WHEN jsonb_typeof(change -> 'new') = 'array' THEN change -> 'new' ELSE '[]'::jsonb END
               ) AS candidate
         WHERE a.tenant_id = d.tenant_id AND a.action = 'DUPLICATE_OVERRIDE'
           AND a.customer_id IN (d.low_id, d.high_id)
           AND change ->> 'field' = 'candidates'
           AND candidate ->> 'customerId' IN (d.low_id, d.high_id)
           AND candidate ->> 'customerId' <> a.customer_id
       ) AS r
 WHERE d.status = 'PENDING_REVIEW' AND d.reason = 'CREATE_OVERRIDE' AND r.p IS NOT NULL
    ON CONFLICT (tenant_id, low_id, high_id) DO NOTHING
"""


def _each_tenant(statement: str) -> None:
    # The owner has no tenant of its own: row-level security is briefly not forced, in this transaction.
    for table in _TABLES:
        op.execute(f"ALTER TABLE {S}.{table} NO FORCE ROW LEVEL SECURITY")
    op.execute(statement)
    for table in _TABLES:
        op.execute(f"ALTER TABLE {S}.{table} FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    op.alter_column("duplicate_candidate", "scan_id", nullable=True, schema=S)
    _each_tenant(_CONVERT)
    _each_tenant(_QUEUE)


def downgrade() -> None:
    _each_tenant(
        f"""DELETE FROM {S}.duplicate_candidate WHERE scan_id IS NULL;
            UPDATE {S}.duplicate_pair SET status = 'NOT_DUPLICATE'
             WHERE status = 'PENDING_REVIEW' AND reason = 'CREATE_OVERRIDE'"""
    )
    op.alter_column("duplicate_candidate", "scan_id", nullable=False, schema=S)
