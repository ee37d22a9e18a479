"""Kafka integration: consumer inbox, service history, entitlements, credit read model.

Revision ID: 0002_integration
Revises: 0001_initial
Create Date: 2026-11-27
"""

from __future__ import annotations

revision = "0002_integration"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
