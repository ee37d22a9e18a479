"""The console's 360 page lists one customer's events from the outbox: an index by aggregate.

Without it the page would read the tenant's whole outbox (kept for ever when no Kafka is configured).

Revision ID: 0012_console_events
Revises: 0007_read_paths
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0012_console_events"
down_revision = "0007_read_paths"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_event_outbox_aggregate",
        "event_outbox",
        ["tenant_id", "aggregate_id", "position"],
        schema="crm_customer360",
    )


def downgrade() -> None:
    op.drop_index("ix_event_outbox_aggregate", table_name="event_outbox", schema="crm_customer360")
