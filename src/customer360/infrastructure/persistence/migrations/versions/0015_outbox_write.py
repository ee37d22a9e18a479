"""The outbox insert as a function, so that a commit's audit rows, the outbox lock, the outbox rows and
the relay's wake-up are one statement.

Outbox positions are allocated under an EXCLUSIVE lock on ``event_outbox`` held until the commit, so they
follow commit order (journal.py). Taken by ``LOCK TABLE`` the lock needed a round trip of its own before
the insert, and every round trip made while it is held is paid by every writer waiting for it (the
service's event loop serves other requests before it sends the next statement). ``write_outbox`` takes
the lock, inserts the rows and queues the notification; the lock must come before the statement that
names the table (an INSERT naming it takes ROW EXCLUSIVE first, and two such upgrades deadlock), hence a
function and not a lock taken inside the INSERT. The bulk import still takes the same lock with
``LOCK TABLE``: both exclude each other as before.

Revision ID: 0015_outbox_write
Revises: 0014_search_tokens_per_statement
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

from customer360.infrastructure.persistence.roles import APP_ROLE, WORKER_ROLE

revision = "0015_outbox_write"
down_revision = "0014_search_tokens_per_statement"
branch_labels = None
depends_on = None

S = "crm_customer360"
SIGNATURE = "write_outbox(text, text, text[], text[], text[], text[], timestamptz[])"

# SECURITY INVOKER: the caller needs the rights LOCK TABLE and the INSERT need, as before. The channel is the
# relay's (journal.OUTBOX_CHANNEL); the notification is delivered at commit, and only if it commits.
_WRITE_OUTBOX = f"""
CREATE OR REPLACE FUNCTION {S}.write_outbox(
  p_tenant text, p_correlation text, p_event_ids text[], p_event_types text[], p_aggregates text[],
  p_envelopes text[], p_created timestamptz[]
) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = {S}, public, pg_temp AS $$
BEGIN
  LOCK TABLE {S}.event_outbox IN EXCLUSIVE MODE;
  INSERT INTO {S}.event_outbox
         (tenant_id, event_id, event_type, aggregate_id, correlation_id, envelope, created_at)
  SELECT p_tenant, o.event_id, o.event_type, o.aggregate_id, p_correlation, o.envelope::jsonb, o.created_at
    FROM unnest(p_event_ids, p_event_types, p_aggregates, p_envelopes, p_created)
         WITH ORDINALITY AS o(event_id, event_type, aggregate_id, envelope, created_at, n)
   ORDER BY o.n;
  PERFORM pg_notify('crm_customer360_outbox', '');
  RETURN cardinality(p_event_ids);
END
$$"""


def upgrade() -> None:
    op.execute(_WRITE_OUTBOX)
    op.execute(f"REVOKE ALL ON FUNCTION {S}.{SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {S}.{SIGNATURE} TO {APP_ROLE}, {WORKER_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {S}.{SIGNATURE}")
